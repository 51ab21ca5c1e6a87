"""A signed-in user's server-side session: what the cookie's random id stands for. Pure rules."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace

from admin.auth.identity import Identity

LANGUAGES = ("ru", "en")


@dataclass(frozen=True)
class Session:
    identity: Identity
    csrf_token: str
    expires_at: int  # epoch seconds; also the table's TTL attribute
    lang: str

    def expired(self, now: int) -> bool:
        return now >= self.expires_at

    def in_language(self, lang: str) -> Session:
        return replace(self, lang=lang) if lang in LANGUAGES else self


def new_secret() -> str:
    """256 random bits, URL-safe: a session id or a CSRF token."""
    return secrets.token_urlsafe(32)


def storage_key(session_id: str) -> str:
    """The table holds a digest of the id, never the id: reading the table gives no cookie to replay."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def same_secret(expected: str, given: str | None) -> bool:
    """Constant-time comparison, so timing tells nothing about how much of a token was right."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def default_language(identity: Identity) -> str:
    """Store staff read Russian by default; the other roles English (either can switch with ?lang=)."""
    return "ru" if identity.roles <= {"store_staff"} else "en"
