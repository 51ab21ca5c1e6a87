"""The admin page's ID-token check: only a token of this pool, for this client, of use "id", unexpired and
signed RS256 by one of the pool's keys names a user."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from admin.auth.tokens import InvalidToken, UnknownKey, verify_id_token

ISSUER = "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_pool"
CLIENT = "client-1"
NOW = 1_800_000_000
POOL_KEY = RSAKey.generate_key(2048, parameters={"kid": "pool-key"})
KEYS = KeySet([POOL_KEY])


def _claims(**changes: Any) -> dict[str, Any]:
    claims = {
        "iss": ISSUER,
        "aud": CLIENT,
        "token_use": "id",
        "exp": NOW + 3600,
        "iat": NOW,
        "cognito:username": "anna",
        "cognito:groups": ["operator"],
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _token(claims: dict[str, Any], key: RSAKey = POOL_KEY, kid: str = "pool-key") -> str:
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


def _check(token: str) -> Any:
    return verify_id_token(token, KEYS, issuer=ISSUER, client_id=CLIENT, now=NOW)


def test_a_token_of_the_pool_for_the_client_names_the_user() -> None:
    assert _check(_token(_claims()))["cognito:username"] == "anna"


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_other"},
        {"aud": "another-client"},
        {"token_use": "access"},
        {"exp": NOW - 60},
        {"exp": None},
        {"cognito:username": None},
    ],
    ids=["other pool", "other client", "access token", "expired", "no expiry", "no username"],
)
def test_a_token_for_anything_else_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken):
        _check(_token(_claims(**changes)))


def test_a_token_signed_by_another_key_or_altered_is_refused() -> None:
    with pytest.raises(InvalidToken):
        _check(_token(_claims(), key=RSAKey.generate_key(2048, parameters={"kid": "pool-key"})))
    header, payload, signature = _token(_claims()).split(".")
    promoted = _claims(**{"cognito:groups": ["admin"]})
    forged = base64.urlsafe_b64encode(json.dumps(promoted).encode()).decode().rstrip("=")
    with pytest.raises(InvalidToken):
        _check(f"{header}.{forged}.{signature}")
    unsigned = base64.urlsafe_b64encode(b'{"alg":"none","kid":"pool-key"}').decode().rstrip("=")
    with pytest.raises(InvalidToken):
        _check(f"{unsigned}.{payload}.")
    with pytest.raises(InvalidToken):
        _check("not a token")


def test_a_key_the_set_does_not_hold_is_told_apart_so_the_keys_are_read_again() -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "rotated"})
    with pytest.raises(UnknownKey):
        _check(_token(_claims(), key=other, kid="rotated"))
