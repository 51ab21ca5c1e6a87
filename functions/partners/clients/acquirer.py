"""The payment acquirer as the hub's use cases see it: its errors, its SSM credentials and the client.

Credentials come from SSM (`<ACQUIRER_PARAMETERS>/<provider>/api_key`, and the callback secret at
`.../webhook_secret`); the base URL is ACQUIRER_URL. This module stays light: the orders API checks the
acquirer's callbacks with `webhook_secret`, and the HTTP client (`acquirer_client`, httpx and the retry
stack) is imported only when a link or a refund is asked for.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from common.config import settings
from common.errors import HubError
from common.secrets import secret

if TYPE_CHECKING:
    from partners.clients.acquirer_client import Acquirer

PROVIDER = "acquirer"


class AcquirerUnavailable(HubError):
    """The acquirer failed or kept throttling after our retries; the lifecycle step retries later."""

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


def acquirer() -> Acquirer:
    api_key = secret(parameter(PROVIDER, "api_key"))
    if not api_key:
        raise AcquirerUnavailable("no acquirer API key is configured")
    return _connected(settings().acquirer_url, api_key)


@functools.cache
def _connected(base_url: str, api_key: str) -> Acquirer:
    """One client (and connection pool) per URL and key: a rotated key gets a new one."""
    from partners.clients.acquirer_client import Acquirer  # httpx and the retry stack: off a cold start

    return Acquirer(base_url, api_key)
