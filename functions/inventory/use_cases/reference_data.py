"""The reference data the inventory API serves: stock locations, sales channels and staff roles' contacts
(ConfigTable)."""

from __future__ import annotations

from common.errors import NotFound, Problem, Unprocessable
from reference import config_table
from reference.models import (
    STORE_ROLE_PREFIX,
    Channel,
    ChannelIn,
    Location,
    LocationIn,
    RoleContacts,
    RoleContactsIn,
    is_store_role,
)


def put_location(location_id: str, location: LocationIn, now: str) -> Location:
    return config_table.put_location(location_id, location, now)


def list_locations() -> list[Location]:
    """By id."""
    return sorted(config_table.locations().values(), key=lambda loc: loc.location_id)


def put_channel(channel_id: str, channel: ChannelIn, now: str) -> Channel:
    return config_table.put_channel(channel_id, channel, now)


def list_channels() -> list[Channel]:
    return config_table.channels()


def put_role_contacts(role: str, contacts: RoleContactsIn, now: str) -> RoleContacts:
    """422 for per-location contacts of a role that is not a store role, or of a location that does not exist."""
    if contacts.locations and not is_store_role(role):
        raise Unprocessable(
            f"only store roles ({STORE_ROLE_PREFIX}*) are told per location",
            [Problem(("locations",), f"only store roles ({STORE_ROLE_PREFIX}*) are told per location")],
        )
    known = config_table.locations()
    unknown = [location_id for location_id in contacts.locations if location_id not in known]
    if unknown:
        raise Unprocessable(
            f"unknown location {unknown[0]!r}", [Problem(("locations", lid), "unknown location") for lid in unknown]
        )
    return config_table.put_role_contacts(role, contacts, now)


def role_contacts(role: str) -> RoleContacts:
    found = config_table.role_contacts(role)
    if found is None:
        raise NotFound(f"no contacts for the role {role!r}", role=role)
    return found


def list_role_contacts() -> list[RoleContacts]:
    """By role."""
    return config_table.all_role_contacts()
