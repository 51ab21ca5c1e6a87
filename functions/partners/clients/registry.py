"""Connectors by channel kind. Each partner module registers itself; MODULES lists the partner modules."""

from __future__ import annotations

import importlib

from partners.clients.base import Connector

MODULES = ("ozon", "wildberries", "yandex_market", "cdek")

_connectors: dict[str, Connector] = {}


def register(connector: Connector) -> Connector:
    _connectors[connector.kind] = connector
    return connector


def connector_for(kind: str) -> Connector | None:
    if not _connectors:
        for module in MODULES:
            importlib.import_module(f"partners.clients.{module}")
    return _connectors.get(kind)
