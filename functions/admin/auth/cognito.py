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


@functools.cache
def _client() -> Any:
    return boto3.client("cognito-idp", config=_CONFIG)


def password_login(username: str, password: str, source_ip: str) -> str:
    """The ID token Cognito issues for this username and password; LoginRefused when it issues none. The
    browser's address lets the pool's threat protection judge the sign-in by where it comes from."""
    context = {"IpAddress": source_ip} if source_ip else {}
    try:
        answer = _client().initiate_auth(
            ClientId=client_id(),
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
            UserContextData=context,
        )
    except ClientError as error:
        reason = _REFUSALS.get(error.response["Error"]["Code"])
        if reason is None:
            raise
        raise LoginRefused(reason) from error
    if "AuthenticationResult" not in answer:
        # NEW_PASSWORD_REQUIRED, MFA...: docs/admin.md has users set a permanent password before first use.
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
