"""Email through Amazon SES (API v2 SendEmail, a simple message with its text and HTML parts).

SES takes no idempotency key: the notification's key and the order travel as message tags (shown in SES
events), and the caller records what was sent. Throttling and SES's own failures are worth another try
later; a refusal (unverified sender, suspended account, a bad address) is not."""

from __future__ import annotations

import re
from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError

from common import aws
from notifications.domain.templates import Email

TRANSIENT_CODES = frozenset(
    {"TooManyRequestsException", "ThrottlingException", "InternalFailure", "ServiceUnavailable"}
)


class EmailTransient(Exception):
    """SES did not take the message now."""


class EmailPermanent(Exception):
    """SES refused the message; an operator has to change something first."""


def _tag(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", value)[:256]  # what SES takes in a tag value


def send(sender: str, to: str | Sequence[str], email: Email, *, order_id: str, key: str) -> str:
    """SES's MessageId; EmailTransient or EmailPermanent otherwise (reasons without the address). Several
    addresses (a team, at most 50) get one message together."""
    body = {}
    if email.text is not None:
        body["Text"] = {"Data": email.text, "Charset": "UTF-8"}
    if email.html is not None:
        body["Html"] = {"Data": email.html, "Charset": "UTF-8"}
    try:
        answer = aws.sesv2().send_email(
            FromEmailAddress=sender,
            Destination={"ToAddresses": [to] if isinstance(to, str) else list(to)},
            Content={"Simple": {"Subject": {"Data": email.subject, "Charset": "UTF-8"}, "Body": body}},
            EmailTags=[{"Name": "order", "Value": _tag(order_id)}, {"Name": "notification", "Value": _tag(key)}],
        )
    except ClientError as error:
        code = error.response["Error"]["Code"]
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in TRANSIENT_CODES or status >= 500:
            raise EmailTransient(f"SES answered {code}") from None
        raise EmailPermanent(f"SES refused the message: {code}") from None
    except BotoCoreError as error:  # connection or read timeout after the SDK's own retries
        raise EmailTransient(f"SES did not answer: {type(error).__name__}") from None
    return str(answer["MessageId"])
