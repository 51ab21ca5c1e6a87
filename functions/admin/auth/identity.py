"""The signed-in user every page handler receives, read from the Cognito ID token's claims at login."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The user pool's groups (template.yaml: AdminUserPool*Group); any other group a token carries is ignored.
ROLES = ("operator", "store_staff", "manager", "admin")


@dataclass(frozen=True)
class Identity:
    username: str
    roles: frozenset[str]
    location_ids: frozenset[str]

    @property
    def source(self) -> str:
        """What the order timeline records as the author of this user's actions."""
        return f"operator:{self.username}"

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Identity:
        """From a verified ID token: `cognito:username`, `cognito:groups` (a list) and `custom:location_ids`
        (comma separated, for store staff)."""
        groups = claims.get("cognito:groups") or []
        raw_locations = str(claims.get("custom:location_ids") or "")
        return cls(
            username=str(claims["cognito:username"]),
            roles=frozenset(g for g in groups if g in ROLES),
            location_ids=frozenset(part.strip() for part in raw_locations.split(",") if part.strip()),
        )
