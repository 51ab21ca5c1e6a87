"""Amazon Cognito, as the admin page uses it: password login (USER_PASSWORD_AUTH on an app client without
a secret) and the pool's signing keys (its JWKS), each cached per container."""

from __future__ import annotations

import functools
from typing import Any

import boto3
import httpx
from botocore.config import Config
from botocore.exceptions import ClientError
from joserfc.jwk import KeySet

from common.config import settings

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
# Cognito's answers a user can act on; anything else is the pool's trouble, not the user's.
_REFUSALS = {
    "NotAuthorizedException": "wrong_credentials",
    "UserNotFoundException": "wrong_credentials",
    "PasswordResetRequiredException": "password_reset_required",
    "UserNotConfirmedException": "not_confirmed",
    "TooManyRequestsException": "too_many_attempts",
    "LimitExceededException": "too_many_attempts",
}


class LoginRefused(Exception):
    """Cognito did not sign the user in; `reason` is one of _REFUSALS' values or `challenge`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NewPasswordRequired(Exception):
    """Cognito signs the user in once they choose their own password: their first login, with the temporary
    one an administrator gave them. `session` answers the challenge (for 3 minutes), for `username`."""

    def __init__(self, username: str, session: str) -> None:
        super().__init__("NEW_PASSWORD_REQUIRED")
        self.username = username
        self.session = session


# Answers to a new password; an unknown session is NotAuthorizedException on Cognito, ResourceNotFound in moto.
_NEW_PASSWORD_REFUSALS = {
    "InvalidPasswordException": "weak_password",
    "NotAuthorizedException": "challenge_expired",
    "ResourceNotFoundException": "challenge_expired",
    "CodeMismatchException": "challenge_expired",
    "ExpiredCodeException": "challenge_expired",
}


@functools.cache
def _client() -> Any:
    return boto3.client("cognito-idp", config=_CONFIG)


def password_login(username: str, password: str, source_ip: str) -> str:
    """The ID token Cognito issues for this username and password; LoginRefused when it issues none. The
    browser's address lets the pool's threat protection judge the sign-in by where it comes from."""
    try:
        answer = _client().initiate_auth(
            ClientId=client_id(),
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
            UserContextData=_context(source_ip),
        )
    except ClientError as error:
        raise _refused(error, _REFUSALS) from error
    parameters = answer.get("ChallengeParameters") or {}
    if answer.get("ChallengeName") == "NEW_PASSWORD_REQUIRED" and parameters.get("requiredAttributes", "[]") == "[]":
        # USER_ID_FOR_SRP: the username itself, where the user signed in with an alias
        named = parameters.get("USER_ID_FOR_SRP") or parameters.get("USERNAME") or username
        raise NewPasswordRequired(named, answer["Session"])
    return _id_token(answer)


def set_new_password(username: str, session: str, new_password: str, source_ip: str) -> str:
    """The ID token Cognito issues once the user of a NEW_PASSWORD_REQUIRED challenge sets `new_password`;
    LoginRefused `weak_password` when the pool's policy refuses it (the challenge still stands),
    `challenge_expired` when the challenge is no longer open."""
    try:
        answer = _client().respond_to_auth_challenge(
            ClientId=client_id(),
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=session,
            ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password},
            UserContextData=_context(source_ip),
        )
    except ClientError as error:
        raise _refused(error, {**_REFUSALS, **_NEW_PASSWORD_REFUSALS}) from error
    return _id_token(answer)


def _context(source_ip: str) -> dict[str, str]:
    return {"IpAddress": source_ip} if source_ip else {}


def _refused(error: ClientError, refusals: dict[str, str]) -> Exception:
    reason = refusals.get(error.response["Error"]["Code"])
    return error if reason is None else LoginRefused(reason)


def _id_token(answer: dict[str, Any]) -> str:
    if "AuthenticationResult" not in answer:
        # MFA or required attributes: the pool has MFA off and requires no attribute (docs/admin.md)
        raise LoginRefused("challenge")
    token: str = answer["AuthenticationResult"]["IdToken"]
    return token


def client_id() -> str:
    return settings().admin_client_id


def issuer() -> str:
    """What the pool's tokens name as `iss`: the pool's URL (its id starts with its region)."""
    pool_id = settings().admin_user_pool_id
    return f"https://cognito-idp.{pool_id.split('_', 1)[0]}.amazonaws.com/{pool_id}"


@functools.cache
def signing_keys() -> KeySet:
    """The pool's public keys (its `.well-known/jwks.json`)."""
    answer = httpx.get(settings().admin_jwks_url, timeout=5)
    answer.raise_for_status()
    return KeySet.import_key_set(answer.json())


def forget() -> None:
    """A new environment (a new local hub's pool): a new client, the keys read again."""
    for cached in (_client, signing_keys):
        cached.cache_clear()
