"""What a LocalHub's start does not repeat from the hub before it in the same process."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.loaders import JSONFileLoader

from oms_local.runtime import LocalHub


def test_a_second_hub_reads_no_service_model_again_and_its_clients_still_reach_its_own_moto(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with LocalHub():
        pass  # the models of every service a hub calls, read once in this process
    read: list[str] = []
    original = JSONFileLoader.load_file

    def reading(self: Any, file_path: str) -> Any:
        read.append(file_path)
        return original(self, file_path)

    monkeypatch.setattr(JSONFileLoader, "load_file", reading)
    with LocalHub() as hub:
        assert read == []  # moto's mock gave the hub a new default session; its loader is the process's
        tables = boto3.client("dynamodb", region_name=hub.template.region).list_tables()["TableNames"]
        assert sorted(tables) == sorted(request["TableName"] for request in hub.template.tables.values())
