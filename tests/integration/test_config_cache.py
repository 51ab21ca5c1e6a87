"""The reference data's cache in one process: a read that a write overtakes does not keep what it read.

Locally every function shares one process, so a background reader (a stream, a poll) reading the
locations while the API writes one could otherwise cache the list without it for CONFIG_CACHE_SECONDS."""

from __future__ import annotations

from typing import Any

from oms_local.runtime import LocalHub
from tests.support.api import Api


def test_a_location_written_while_another_reader_was_reading_is_seen_at_once(
    hub: LocalHub, api: Api, monkeypatch: Any
) -> None:
    from common import aws
    from reference import config_table

    assert api.put("/v1/locations/wh-1", {"name": "WH 1", "kind": "warehouse"}).status == 200
    config_table.forget()
    dynamodb = aws.dynamodb()
    real_query = dynamodb.query
    overtaken = []

    def query_overtaken_by_a_write(**request: Any) -> Any:
        page = real_query(**request)  # the list as it was before the write below
        if not overtaken:
            overtaken.append(True)
            assert api.put("/v1/locations/wh-2", {"name": "WH 2", "kind": "warehouse"}).status == 200
        return page

    monkeypatch.setattr(dynamodb, "query", query_overtaken_by_a_write)
    assert set(config_table.locations()) == {"wh-1"}  # this read began before wh-2 was written
    monkeypatch.setattr(dynamodb, "query", real_query)
    assert set(config_table.locations()) == {"wh-1", "wh-2"}  # and it was not kept
