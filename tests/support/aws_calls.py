"""The DynamoDB calls a test's own thread makes, counted as they are made (requests are what cost)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3

from oms_local import runtime


@dataclass(frozen=True)
class Call:
    operation: str
    tables: list[str]
    keys: int  # the keys a BatchGetItem asks for, the items a TransactWriteItems writes


@contextmanager
def dynamodb_calls() -> Iterator[list[Call]]:
    """Every DynamoDB call this thread makes meanwhile (noted when made: the batch helpers reuse their
    request for the unprocessed keys)."""
    made: list[Call] = []
    here = threading.get_ident()

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.service_model.service_name == "dynamodb" and threading.get_ident() == here:
            batch = params.get("RequestItems") or {}
            transaction = [next(iter(item.values()))["TableName"] for item in params.get("TransactItems", [])]
            tables = list(batch) or list(dict.fromkeys(transaction)) or [params["TableName"]]
            keys = sum(len(r["Keys"]) for r in batch.values() if isinstance(r, dict))  # BatchWriteItem: lists
            made.append(Call(model.name, tables, keys or len(transaction)))

    session = boto3.DEFAULT_SESSION or boto3.setup_default_session() or boto3.DEFAULT_SESSION
    assert session is not None
    session.events.register("before-parameter-build", record)
    runtime.forget_cached_clients()  # clients copy the session's hooks
    try:
        yield made
    finally:
        session.events.unregister("before-parameter-build", record)
        runtime.forget_cached_clients()
