"""AdminSessionsTable: sessions keyed by the digest of their id, removed by TTL once expired."""

from __future__ import annotations

from admin.auth.identity import Identity
from admin.auth.session import Session, storage_key
from common import aws
from common.config import settings
from common.dynamo import from_item, to_item


def _key(session_id: str) -> dict[str, dict[str, str]]:
    return {"session_key": {"S": storage_key(session_id)}}


def put(session_id: str, session: Session) -> None:
    item = {
        "session_key": storage_key(session_id),
        "username": session.identity.username,
        "roles": sorted(session.identity.roles),
        "location_ids": sorted(session.identity.location_ids),
        "csrf_token": session.csrf_token,
        "expires_at": session.expires_at,
        "lang": session.lang,
    }
    aws.dynamodb().put_item(TableName=settings().admin_sessions_table, Item=to_item(item))


def get(session_id: str) -> Session | None:
    answer = aws.dynamodb().get_item(
        TableName=settings().admin_sessions_table,
        Key=_key(session_id),
        ConsistentRead=True,
    )
    if "Item" not in answer:
        return None
    row = from_item(answer["Item"])
    identity = Identity(row["username"], frozenset(row.get("roles", [])), frozenset(row.get("location_ids", [])))
    return Session(identity, row["csrf_token"], int(row["expires_at"]), row.get("lang", "en"))


def set_language(session_id: str, lang: str) -> None:
    aws.dynamodb().update_item(
        TableName=settings().admin_sessions_table,
        Key=_key(session_id),
        UpdateExpression="SET lang = :lang",
        ConditionExpression="attribute_exists(session_key)",
        ExpressionAttributeValues={":lang": {"S": lang}},
    )


def delete(session_id: str) -> None:
    aws.dynamodb().delete_item(TableName=settings().admin_sessions_table, Key=_key(session_id))
