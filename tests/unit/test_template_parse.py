"""Every LocalHub loads template.yaml: its YAML is parsed once per text in a process, each load gets its own."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from oms_local import template
from oms_local.template import TEMPLATE, load


def _counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []
    original = template.load_yaml

    def counting(text: str) -> Any:
        parsed.append(text)
        return original(text)

    monkeypatch.setattr(template, "load_yaml", counting)
    return parsed


def test_the_template_is_parsed_once_per_text_and_each_load_has_its_own_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for beside in ("state_machines", "functions"):  # what the template's paths name
        (tmp_path / beside).symlink_to(TEMPLATE.parent / beside)
    path = tmp_path / "template.yaml"
    # A text no earlier load in this process has seen.
    path.write_text(TEMPLATE.read_text() + f"\n# {uuid.uuid4().hex}\n")
    parsed = _counting_parses(monkeypatch)
    first = load(path)
    second = load(path)
    assert len(parsed) == 1
    assert first.tables == second.tables and first.routes == second.routes

    as_loaded = json.loads(json.dumps(second.tables["OrdersTable"]))
    first.tables["OrdersTable"]["AttributeDefinitions"].append({"AttributeName": "x", "AttributeType": "S"})
    assert second.tables["OrdersTable"] == as_loaded == load(path).tables["OrdersTable"]  # not what `first` changed

    path.write_text(path.read_text() + "# changed\n")
    load(path)
    assert len(parsed) == 2  # a changed template is parsed again
