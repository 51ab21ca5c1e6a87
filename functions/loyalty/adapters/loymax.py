"""A Loymax-like loyalty provider over HTTP, on the partners' shared HTTP stack.

No published definition is in ../shared/partners/specs/; the shape follows Loymax's purchase flow (a
purchase is calculated with the points the customer pays with, which holds them; confirmed, which writes
them off; cancelled or refunded, which gives them back; and a purchase accrues points, taken back when
goods are returned), as JSON:

    POST {LOYALTY_URL}/v1/purchases/{purchase_id}/{hold|confirm|cancel|refund|accrue|cancel_accrual}
    Authorization: Bearer <token>
    {"operation_id": "...", "card": "...", "points": 120, "amount": 1990.00}
    200 {"operation_id": "...", "points": 120, "balance": 380, "repeated": false}
    4xx {"error": {"code": "unauthorized" | "card_not_found" | "not_enough_points" | "nothing_held"
                           | "invalid_request" | "operation_conflict", "message": "..."}}

`purchase_id` is the order id, `operation_id` names the operation (order, operation, the action's status
entry): the provider does each operation_id once and answers a repeat with the first answer (`repeated`:
true), so a retry after a lost answer moves no point twice; the same id with another body is
`operation_conflict`. `amount` (hold, accrue) is the money of the purchase the points are for. HTTP 5xx,
429 and timeouts are retried (3 attempts, backoff up to 5 s), then transient; any other 4xx is permanent
with the provider's code as the reason (its message may name the card: it is not kept). The token is the
SSM SecureString `<SECRETS_PREFIX>/loyalty/loymax/token`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Unpack

import httpx
from botocore.exceptions import BotoCoreError, ClientError

from common.config import settings
from common.secrets import secret
from loyalty.domain.results import LoyaltyRefused, LoyaltyTransient
from partners.clients.http import PartnerHttp, PartnerUnavailable, Tuning

PROVIDER = "loymax"
ATTEMPTS = 3
MAX_BACKOFF_S = 5.0  # the caller is a queue consumer: a longer outage is its retry's business

Call = Literal["hold", "confirm", "cancel", "refund", "accrue", "cancel_accrual"]


def token_parameter() -> str:
    return f"{settings().secrets_prefix}/loyalty/{PROVIDER}/token"


@dataclass(frozen=True)
class Answer:
    points: int
    balance: int | None
    repeated: bool


class Loymax:
    def __init__(self, base_url: str, token: str, **tuning: Unpack[Tuning]) -> None:
        options: Tuning = {
            "timeout": httpx.Timeout(5.0, connect=2.0),
            "attempts": ATTEMPTS,
            "max_backoff": MAX_BACKOFF_S,
            **tuning,
        }
        self.http = PartnerHttp(PROVIDER, base_url, headers={"Authorization": f"Bearer {token}"}, **options)

    def call(
        self, call: Call, purchase_id: str, operation_id: str, card: str, points: int, amount: Decimal | None = None
    ) -> Answer:
        """The provider's answer to one operation; LoyaltyTransient or LoyaltyRefused otherwise."""
        body: dict[str, Any] = {"operation_id": operation_id, "card": card, "points": points}
        if amount is not None:
            body["amount"] = float(amount)
        try:
            response = self.http.request(
                "POST", f"/v1/purchases/{purchase_id}/{call}", json=body, answered=range(400, 500)
            )
        except PartnerUnavailable:
            raise LoyaltyTransient(f"{PROVIDER} did not answer (timeouts, 5xx or throttling after retries)") from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code >= 400:
            raise LoyaltyRefused(f"{PROVIDER} refused {call}: {_code(answer, response.status_code)}")
        if not isinstance(answer, Mapping) or not isinstance(answer.get("points"), int):
            raise LoyaltyTransient(f"{PROVIDER} answered {call} in an unexpected shape")
        balance = answer.get("balance")
        return Answer(answer["points"], balance if isinstance(balance, int) else None, answer.get("repeated") is True)


def _code(answer: Any, status: int) -> str:
    error = answer.get("error") if isinstance(answer, Mapping) else None
    code = error.get("code") if isinstance(error, Mapping) else None
    return code if isinstance(code, str) and code.isidentifier() and len(code) <= 64 else f"HTTP {status}"


def provider() -> Loymax:
    try:
        token = secret(token_parameter())
    except (ClientError, BotoCoreError) as error:  # SSM throttling or out of reach: the next attempt may read it
        raise LoyaltyTransient(f"the {PROVIDER} token could not be read: {type(error).__name__}") from None
    if not token:
        raise LoyaltyRefused(f"no {PROVIDER} token is configured")
    return _connected(settings().loyalty_url, token)


@functools.cache
def _connected(base_url: str, token: str) -> Loymax:
    """One client (and connection pool) per URL and token: a rotated token gets a new one."""
    return Loymax(base_url, token)
