"""Reference data every function reads: sales channels, stock locations, carriers and staff roles' contacts.

Stored in the config table (kind = "channel" | "location" | "carrier" | "role", id). Warm containers keep them for
CONFIG_CACHE_SECONDS so that taking an order costs no config read; a write in this process
forgets the cache at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from common import aws, secrets
from common.config import settings
from common.dynamo import from_item, to_item
from common.errors import Problem, Unprocessable
from common.observability import count, logger
from reference.models import (
    Carrier,
    CarrierIn,
    Channel,
    ChannelIn,
    ContactsIn,
    Location,
    LocationIn,
    RoleContacts,
    RoleContactsIn,
)

M = TypeVar("M", bound=BaseModel)
_lock = threading.Lock()
_cache: dict[str, tuple[float, dict[str, dict[str, Any]]]] = {}
_forgotten = 0  # how many times the cache was forgotten: a read that began before a write keeps nothing


def _all(kind: str, *, fresh: bool = False) -> dict[str, dict[str, Any]]:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(kind)
        if cached and not fresh and now - cached[0] < settings().config_cache_seconds:
            return cached[1]
        began = _forgotten
    records: dict[str, dict[str, Any]] = {}
    request: dict[str, Any] = {
        "TableName": settings().config_table,
        "KeyConditionExpression": "kind = :k",
        "ExpressionAttributeValues": {":k": {"S": kind}},
    }
    while True:
        page = aws.dynamodb().query(**request)
        for item in page["Items"]:
            record = from_item(item)
            records[record["id"]] = record["data"]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    with _lock:
        if _forgotten == began:  # else a write landed meanwhile: these records may predate it
            _cache[kind] = (now, records)
    return records


def _put(kind: str, record_id: str, data: dict[str, Any]) -> None:
    aws.dynamodb().put_item(
        TableName=settings().config_table, Item=to_item({"kind": kind, "id": record_id, "data": data})
    )
    forget()


def _as_read(model: type[M], data: dict[str, Any]) -> M:
    """The record through the model it is read with, before it is written: what cannot be read back is
    refused (422), never stored to break every later read."""
    try:
        return model.model_validate(data)
    except ValidationError as invalid:
        raise Unprocessable(
            f"the {model.__name__.lower()} cannot be stored as given",
            [Problem(tuple(e["loc"]), e["msg"]) for e in invalid.errors()],
        ) from None


def forget() -> None:
    global _forgotten  # noqa: PLW0603 - the cache's own generation, beside the cache it guards
    with _lock:
        _cache.clear()
        _forgotten += 1


def _readable(kind: str, read: Callable[[str, dict[str, Any]], M], *, fresh: bool = False) -> dict[str, M]:
    """Every record of `kind` that reads (`_read_one`); `fresh` reads the table whatever the cache holds."""
    records = sorted(_all(kind, fresh=fresh).items())
    found = {record_id: _read_one(kind, record_id, data, read) for record_id, data in records}
    return {record_id: record for record_id, record in found.items() if record is not None}


def _read_one(kind: str, record_id: str, data: dict[str, Any], read: Callable[[str, dict[str, Any]], M]) -> M | None:
    """One stored before today's bounds (or by hand) that no longer reads is left out and reported, not
    allowed to fail every request that touches the kind; a PUT replaces it."""
    try:
        return read(record_id, data)
    except ValidationError as invalid:
        count("ReferenceRecordUnreadable")
        logger.error(
            "stored reference record cannot be read; replace it with a PUT",
            extra={"kind": kind, "id": record_id, "fields": [list(e["loc"]) for e in invalid.errors()]},
        )
        return None


def locations(*, fresh: bool = False) -> dict[str, Location]:
    return _readable("location", lambda lid, data: Location.model_validate({**data, "location_id": lid}), fresh=fresh)


def put_location(location_id: str, location: LocationIn, now: str) -> Location:
    stored = _as_read(Location, {**location.model_dump(mode="json"), "location_id": location_id, "updated_at": now})
    _put("location", location_id, stored.model_dump(mode="json", exclude={"location_id"}))
    return stored


def channel(channel_id: str) -> Channel | None:
    data = _all("channel").get(channel_id)
    return None if data is None else _read_one("channel", channel_id, data, _channel)


def channels(*, fresh: bool = False) -> list[Channel]:
    return list(_readable("channel", _channel, fresh=fresh).values())


def cdek_account() -> Channel | None:
    """The hub's CDEK account (a channel of kind cdek with an api_url), which registers courier parcels."""
    return next((c for c in channels() if c.kind == "cdek" and c.api_url is not None), None)


def put_channel(channel_id: str, channel_in: ChannelIn, now: str) -> Channel:
    """Create or replace; the webhook secret and partner credentials go to SSM, never to the config table.
    A request without them keeps the ones already set (they are never shown)."""
    data = channel_in.model_dump(mode="json", exclude={"secret", "credentials"})
    previous = _all("channel", fresh=True).get(channel_id, {})
    data["has_secret"] = channel_in.secret is not None or bool(previous.get("has_secret"))
    data["has_credentials"] = channel_in.credentials is not None or bool(previous.get("has_credentials"))
    data["updated_at"] = now
    stored = _as_read(Channel, {**data, "channel_id": channel_id})
    if channel_in.secret is not None:
        secrets.put_secret(secret_name(channel_id, "webhook-secret"), channel_in.secret)
    if channel_in.credentials is not None:
        secrets.put_secret(secret_name(channel_id, "credentials"), json.dumps(channel_in.credentials))
    _put("channel", channel_id, stored.model_dump(mode="json", exclude={"channel_id"}))
    return stored


def secret_name(channel_id: str, what: str) -> str:
    return f"{settings().secrets_prefix}/channels/{channel_id}/{what}"


def webhook_secret(channel_id: str) -> str | None:
    return secrets.secret(secret_name(channel_id, "webhook-secret"))


def credentials(channel_id: str) -> dict[str, str]:
    stored = secrets.secret(secret_name(channel_id, "credentials"))
    return json.loads(stored) if stored else {}


def _channel(channel_id: str, data: dict[str, Any]) -> Channel:
    return Channel.model_validate(
        {
            **{k: v for k, v in data.items() if k in Channel.model_fields},
            "channel_id": channel_id,
            "rules": data.get("rules") or {},
        }
    )


def carriers() -> list[Carrier]:
    return list(_readable("carrier", lambda cid, data: Carrier.model_validate({**data, "carrier_id": cid})).values())


def put_carrier(carrier_id: str, carrier: CarrierIn, now: str) -> Carrier:
    stored = _as_read(Carrier, {**carrier.model_dump(mode="json"), "carrier_id": carrier_id, "updated_at": now})
    _put("carrier", carrier_id, stored.model_dump(mode="json", exclude={"carrier_id"}))
    return stored


def role_contacts(role: str) -> RoleContacts | None:
    data = _all("role").get(role)
    return None if data is None else _read_one("role", role, data, _role)


def all_role_contacts() -> list[RoleContacts]:
    return list(_readable("role", _role).values())


def put_role_contacts(role: str, contacts: RoleContactsIn, now: str) -> RoleContacts:
    """Create or replace. Webhook secrets go to SSM, never to the config table; a webhook given without one
    keeps the secret its scope (the role's own, or a location's) already has, and one with none is refused."""
    previous = _all("role", fresh=True).get(role, {})
    scopes: dict[str | None, tuple[ContactsIn, dict[str, Any]]] = {None: (contacts, previous)}
    for location_id, entry in contacts.locations.items():
        scopes[location_id] = (entry, (previous.get("locations") or {}).get(location_id) or {})
    shown = {scope: _shown_contacts(scope, given, before) for scope, (given, before) in scopes.items()}
    own = shown.pop(None)
    data = {**own, "language": contacts.language, "locations": shown, "updated_at": now}
    stored = _as_read(RoleContacts, {**data, "role": role})
    for scope, (given, _) in scopes.items():
        if given.webhook is not None and given.webhook.secret is not None:
            secrets.put_secret(role_secret_name(role, scope), given.webhook.secret)
    _put("role", role, stored.model_dump(mode="json", exclude={"role"}))
    return stored


def _shown_contacts(scope: str | None, given: ContactsIn, before: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {"emails": given.emails, "webhook": None}
    if given.webhook is not None:
        kept = bool((before.get("webhook") or {}).get("has_secret"))
        if given.webhook.secret is None and not kept:
            where = ("webhook", "secret") if scope is None else ("locations", scope, "webhook", "secret")
            raise Unprocessable("a new webhook needs its secret", [Problem(where, "a new webhook needs its secret")])
        shown["webhook"] = {"url": str(given.webhook.url), "has_secret": True}
    return shown


def role_secret_name(role: str, location_id: str | None) -> str:
    scope = "" if location_id is None else f"/locations/{_parameter_segment(location_id)}"
    return f"{settings().secrets_prefix}/roles/{role}{scope}/webhook-secret"


def _parameter_segment(identifier: str) -> str:
    # SSM names take letters, digits and _.-/ only; an id may hold ':'. Escaping '_' first keeps it one-to-one.
    return identifier.replace("_", "__").replace(":", "_c")


def role_webhook_secret(role: str, location_id: str | None) -> str | None:
    return secrets.secret(role_secret_name(role, location_id))


def _role(role: str, data: dict[str, Any]) -> RoleContacts:
    return RoleContacts.model_validate({**data, "role": role})
