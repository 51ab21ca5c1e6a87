"""Webhook authentication: HMAC-SHA256 of the raw body, or a shared token; compared in constant time."""

from __future__ import annotations

import hashlib
import hmac


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """`header` is `sha256=<hex>` (the contract's X-Signature) or the bare hex digest."""
    if not header:
        return False
    given = header.removeprefix("sha256=").strip().lower()
    return hmac.compare_digest(given.encode(), hmac_sha256_hex(secret, body).encode())


def token_matches(secret: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), secret.encode())
