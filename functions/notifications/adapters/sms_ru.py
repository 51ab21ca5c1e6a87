"""SMS.ru's HTTP API (`POST https://sms.ru/sms/send`, form parameters in UTF-8, `json=1`) behind SmsGateway,
on the partners' shared HTTP stack.

The answer is HTTP 200 with a status per request and per number: `status` OK/ERROR and a `status_code`
(100: taken). The codes that may pass are retried later (transient), the rest need an operator (permanent).
SMS.ru takes no idempotency key; it refuses an identical text to the same number within a minute (231) or
a day (232), and a retry of a send whose answer was lost gets exactly that refusal: the message went, so
it counts as sent. The api_id comes from SSM (`<SECRETS_PREFIX>/notifications/sms_ru/api_id`)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Unpack

import httpx
from botocore.exceptions import BotoCoreError, ClientError

from common.config import settings
from common.secrets import secret
from notifications.domain.messages import SmsPermanent, SmsTransient, international
from partners.clients.http import PartnerHttp, PartnerUnavailable, Tuning

PROVIDER = "sms_ru"
SEND = "/sms/send"
TAKEN = 100
REPEATED = frozenset({231, 232})  # an identical text to this number within a minute / a day
# 206 daily limit of the account, 220 service unavailable, 500 server error, 508 too many calls in 5 minutes.
TRANSIENT = frozenset({206, 220, 500, 508})
REPEAT_ID = "repeated"  # the message id of a send SMS.ru refused as a repeat of one it took
ATTEMPTS = 3
MAX_BACKOFF_S = 5.0  # the caller is a queue consumer: a longer outage is its retry's business


def api_id_parameter() -> str:
    return f"{settings().secrets_prefix}/notifications/{PROVIDER}/api_id"


class SmsRu:
    def __init__(self, base_url: str, api_id: str, sender: str | None = None, **tuning: Unpack[Tuning]) -> None:
        self.api_id = api_id
        self.sender = sender
        options: Tuning = {
            "timeout": httpx.Timeout(5.0, connect=2.0),
            "attempts": ATTEMPTS,
            "max_backoff": MAX_BACKOFF_S,
            **tuning,
        }
        self.http = PartnerHttp(PROVIDER, base_url, **options)

    def send(self, phone: str, text: str, key: str) -> str:
        """The gateway's sms_id; SmsTransient or SmsPermanent otherwise. `key` is not sent: SMS.ru takes none."""
        form = {"api_id": self.api_id, "to": international(phone), "msg": text, "json": "1"}
        if self.sender:
            form["from"] = self.sender
        try:
            response = self.http.request("POST", SEND, data=form, answered=range(400, 500))
        except PartnerUnavailable:
            raise SmsTransient("sms_ru did not answer (timeouts, 5xx or throttling after retries)") from None
        if response.status_code >= 400:
            raise SmsPermanent(f"sms_ru answered HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise SmsTransient("sms_ru answered something other than JSON") from None
        return _taken(answer)


def _taken(answer: Any) -> str:
    if not isinstance(answer, Mapping):
        raise SmsTransient("sms_ru answered in an unexpected shape")
    _judge(answer, "request")
    per_number = answer.get("sms")
    results = list(per_number.values()) if isinstance(per_number, Mapping) else []
    if len(results) != 1 or not isinstance(results[0], Mapping):
        raise SmsTransient("sms_ru answered without the number's result")
    result = results[0]
    if result.get("status_code") in REPEATED:
        return REPEAT_ID  # it took this very text for this number already (see the module's note)
    _judge(result, "message")
    return str(result.get("sms_id", ""))


def _judge(part: Mapping[str, Any], what: str) -> None:
    code = part.get("status_code")
    if part.get("status") == "OK" and code == TAKEN:
        return
    # status_text is SMS.ru's own wording and may name the number: only the code is kept.
    reason = f"sms_ru refused the {what}: {code}"
    raise SmsTransient(reason) if code in TRANSIENT else SmsPermanent(reason)


def gateway(sender: str | None) -> SmsRu:
    try:
        api_id = secret(api_id_parameter())
    except (ClientError, BotoCoreError) as error:  # SSM throttling or out of reach: the next attempt may read it
        raise SmsTransient(f"the {PROVIDER} api_id could not be read: {type(error).__name__}") from None
    if not api_id:
        raise SmsPermanent(f"no {PROVIDER} api_id is configured")
    return _connected(settings().sms_gateway_url, api_id, sender)


@functools.cache
def _connected(base_url: str, api_id: str, sender: str | None) -> SmsRu:
    """One client (and connection pool) per URL, key and sender: a rotated key gets a new one."""
    return SmsRu(base_url, api_id, sender)
