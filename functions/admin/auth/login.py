"""Logging in and out, and the session a request's cookie stands for."""

from __future__ import annotations

import time

from admin.auth import cognito, sessions_table
from admin.auth.identity import Identity
from admin.auth.session import Session, default_language, new_secret
from admin.auth.tokens import InvalidToken, UnknownKey, verify_id_token
from common.config import settings

LoginRefused = cognito.LoginRefused
NewPasswordRequired = cognito.NewPasswordRequired


def _verified(token: str) -> Identity:
    def check() -> Identity:
        claims = verify_id_token(
            token, cognito.signing_keys(), issuer=cognito.issuer(), client_id=cognito.client_id(), now=int(time.time())
        )
        return Identity.from_claims(claims)

    try:
        return check()
    except UnknownKey:
        cognito.signing_keys.cache_clear()  # the pool rotated its keys: read them once more
        return check()


def log_in(username: str, password: str, source_ip: str, lang: str | None = None) -> tuple[str, Session]:
    """A new session (its id for the cookie) for a user Cognito signs in and who holds one of the roles.
    LoginRefused when Cognito refuses, InvalidToken if its token does not verify, `no_role` without a role;
    NewPasswordRequired at a first login with a temporary password."""
    return _opened(cognito.password_login(username, password, source_ip), lang)


def log_in_with_new_password(
    challenge: NewPasswordRequired, new_password: str, source_ip: str, lang: str | None = None
) -> tuple[str, Session]:
    """A new session for the user who set their own password in answer to Cognito's challenge."""
    return _opened(cognito.set_new_password(challenge.username, challenge.session, new_password, source_ip), lang)


def _opened(token: str, lang: str | None) -> tuple[str, Session]:
    try:
        identity = _verified(token)
    except InvalidToken as error:
        raise LoginRefused("invalid_token") from error
    if not identity.roles:
        raise LoginRefused("no_role")
    expires_at = int(time.time() + settings().admin_session_hours * 3600)
    session = Session(identity, new_secret(), expires_at, default_language(identity)).in_language(lang or "")
    session_id = new_secret()
    sessions_table.put(session_id, session)
    return session_id, session


def current(session_id: str | None) -> Session | None:
    """The live session of this id; None when there is none or it expired (TTL removes rows late)."""
    if not session_id:
        return None
    session = sessions_table.get(session_id)
    if session is None or session.expired(int(time.time())):
        return None
    return session


def log_out(session_id: str) -> None:
    sessions_table.delete(session_id)


def set_language(session_id: str, lang: str) -> None:
    sessions_table.set_language(session_id, lang)
