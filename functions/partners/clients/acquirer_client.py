"""The payment acquirer's HTTP API: payment links and refunds on the partners' shared HTTP stack.

Every request carries an Idempotency-Key built from the order, so a retried step never pays or refunds
twice; throttling and any 5xx are retried honouring Retry-After, and every failure is AcquirerUnavailable.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from partners.clients.acquirer import PROVIDER, AcquirerUnavailable, PaymentLink
from partners.clients.http import PartnerError, PartnerHttp

ATTEMPTS = 4
MAX_RETRY_AFTER_S = 10.0  # a Lambda task has seconds, not minutes, to wait
RETRIED = frozenset({429, *range(500, 600)})  # a refusal (any other 4xx) is final


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


class Acquirer:
    def __init__(self, base_url: str, api_key: str) -> None:
        self.http = PartnerHttp(
            PROVIDER,
            base_url,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=httpx.Timeout(5.0, connect=2.0),
            attempts=ATTEMPTS,
            max_backoff=MAX_RETRY_AFTER_S,
            retried=RETRIED,
        )

    def _post(self, path: str, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = self.http.request(
                "POST", path, json=body, headers={"Idempotency-Key": idempotency_key}
            ).json()
        except (PartnerError, httpx.HTTPError, ValueError) as error:
            raise AcquirerUnavailable(f"the acquirer did not answer {path}: {type(error).__name__}") from None
        return answer

    def payment_link(self, order_id: str, amount: Decimal, attempt: int) -> PaymentLink:
        answer = self._post(
            "/v1/payments",
            {"order_id": order_id, "amount": _money(amount)},
            idempotency_key=f"{order_id}:link:{attempt}",
        )
        return PaymentLink(payment_id=answer["payment_id"], url=answer["url"])

    def refund(self, order_id: str, payment_id: str, amount: Decimal) -> str:
        answer = self._post(
            "/v1/refunds", {"payment_id": payment_id, "amount": _money(amount)}, idempotency_key=f"{order_id}:refund"
        )
        return str(answer["refund_id"])
