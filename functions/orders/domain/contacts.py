"""How an order is found by the customer's phone or e-mail without either being a key: each normalised
contact is turned into an HMAC under the hub's lookup key, and only that digest is stored. Pure."""

from __future__ import annotations

import hashlib
import hmac
import re

from orders.domain.models import Customer

_NOT_DIGITS = re.compile(r"\D")
MIN_PHONE_DIGITS = 10  # a shorter run of digits is an order number, not a phone


def phone_key(text: str) -> str | None:
    """The phone's digits in international form; Russian numbers written 8XXXXXXXXXX or XXXXXXXXXX are 7XXXXXXXXXX
    (the same customer types them all three ways). None if it has too few digits to be a phone."""
    digits = _NOT_DIGITS.sub("", text)
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    if len(digits) == MIN_PHONE_DIGITS:
        digits = "7" + digits
    elif len(digits) == MIN_PHONE_DIGITS + 1 and digits.startswith("8"):
        digits = "7" + digits[1:]
    return f"phone:{digits}"


def email_key(text: str) -> str | None:
    address = text.strip().lower()
    return f"email:{address}" if "@" in address else None


def contact_keys(customer: Customer) -> list[str]:
    """The customer's normalised contacts, each once."""
    found = [
        phone_key(customer.phone) if customer.phone else None,
        email_key(customer.email) if customer.email else None,
    ]
    return sorted({key for key in found if key})


def digest(key: bytes, contact: str) -> str:
    """128 bits of HMAC-SHA256: unguessable without the key, so a stored digest reveals no phone."""
    return hmac.new(key, contact.encode(), hashlib.sha256).hexdigest()[:32]
