"""The payment acquirer: payment links and refunds over its HTTP API (httpx), retried on 429/5xx.

Credentials come from SSM (`<ACQUIRER_PARAMETERS>/<provider>/api_key`, and the callback secret at
`.../webhook_secret`); the base URL is ACQUIRER_URL. Every request carries an Idempotency-Key built
from the order, so a retried step never pays or refunds twice.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from common.config import settings
from common.errors import HubError
from common.secrets import secret

PROVIDER = "acquirer"
MAX_RETRY_AFTER_S = 10.0  # a Lambda task has seconds, not minutes, to wait
ATTEMPTS = 4


class AcquirerUnavailable(HubError):
    """The acquirer failed or kept throttling after our retries; the lifecycle step retries later."""

    status = 502
    code = "acquirer_unavailable"


@dataclass(frozen=True)
class PaymentLink:
    payment_id: str
    url: str


def parameter(provider: str, name: str) -> str:
    return f"{settings().acquirer_parameters}/{provider}/{name}"


def webhook_secret(provider: str) -> str | None:
    """None for a provider the hub has no secret for (its callbacks are refused)."""
    return secret(parameter(provider, "webhook_secret"))


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _retryable(error: BaseException) -> bool:
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code == 429 or error.response.status_code >= 500
    return isinstance(error, httpx.TransportError)


def _wait(state: RetryCallState) -> float:
    """The acquirer's Retry-After when it sends one (capped), else jittered exponential backoff."""
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, httpx.HTTPStatusError):
        retry_after = error.response.headers.get("retry-after", "")
        if retry_after.replace(".", "", 1).isdigit():
            return min(float(retry_after), MAX_RETRY_AFTER_S)
    return wait_random_exponential(multiplier=0.2, max=2)(state)


class Acquirer:
    def __init__(self, base_url: str, api_key: str, client: httpx.Client | None = None) -> None:
        self._client = client or httpx.Client(
            base_url=base_url, timeout=httpx.Timeout(5.0, connect=2.0), headers={"Authorization": f"Bearer {api_key}"}
        )

    def _post(self, path: str, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        try:
            for attempt in Retrying(
                retry=retry_if_exception(_retryable), wait=_wait, stop=stop_after_attempt(ATTEMPTS), reraise=True
            ):
                with attempt:
                    answer = self._client.post(path, json=body, headers={"Idempotency-Key": idempotency_key})
                    answer.raise_for_status()
                    return answer.json()
        except (httpx.HTTPError, ValueError) as error:
            raise AcquirerUnavailable(f"the acquirer did not answer {path}: {type(error).__name__}") from None
        raise AssertionError("unreachable")

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


def acquirer() -> Acquirer:
    api_key = secret(parameter(PROVIDER, "api_key"))
    if not api_key:
        raise AcquirerUnavailable("no acquirer API key is configured")
    return _connected(settings().acquirer_url, api_key)


@functools.cache
def _connected(base_url: str, api_key: str) -> Acquirer:
    """One client (and connection pool) per URL and key: a rotated key gets a new one."""
    return Acquirer(base_url, api_key)
