"""Checks a Cognito ID token as AWS documents it: the RS256 signature against the pool's key set, the
issuer (the pool), the audience (the app client), token_use "id" and the expiry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError, MissingKeyError
from joserfc.jwk import KeySet
from joserfc.jwt import ClaimsOption


class InvalidToken(Exception):
    """The token is not one this pool issued to this client, or it is no longer valid."""


class UnknownKey(InvalidToken):
    """Signed with a key the key set does not hold: the pool may have rotated its keys since they were read."""


def verify_id_token(token: str, keys: KeySet, *, issuer: str, client_id: str, now: int) -> Mapping[str, Any]:
    """The token's claims once every check passed; InvalidToken otherwise."""
    try:
        decoded = jwt.decode(token, keys, algorithms=["RS256"])
        required: dict[str, ClaimsOption] = {
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": client_id},
            "token_use": {"essential": True, "value": "id"},
            "exp": {"essential": True},
            "cognito:username": {"essential": True},
        }
        jwt.JWTClaimsRegistry(now=now, leeway=30, **required).validate(decoded.claims)
    except (InvalidKeyIdError, MissingKeyError) as error:
        raise UnknownKey("no such key") from error
    except (JoseError, ValueError) as error:
        raise InvalidToken(type(error).__name__) from error
    return decoded.claims
