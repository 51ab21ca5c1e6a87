"""A definition moto's grammar accepted is not parsed again by a later process; nothing else is skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oms_local.accepted_definitions import AcceptedDefinitions

VALID = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
BROKEN = json.dumps({"StartAt": "Nowhere", "States": {"A": {"Type": "Pass", "End": True, "Bogus": 1}}})


class Grammar:
    """Stands in for moto's validation: records each definition it is run on, refuses BROKEN."""

    def __init__(self) -> None:
        self.parsed: list[str] = []

    def __call__(self, definition: str) -> None:
        self.parsed.append(definition)
        if definition == BROKEN:
            raise ValueError("InvalidDefinition")


def _process(directory: Path, moto_version: str = "5.2.5") -> AcceptedDefinitions:
    """What a new `oms-hub local` process starts with: nothing in memory, the cache on disk."""
    return AcceptedDefinitions(directory, moto_version)


def test_an_accepted_definition_is_not_parsed_by_the_next_process_and_the_cache_holds_only_names(
    tmp_path: Path,
) -> None:
    grammar = Grammar()
    first = _process(tmp_path)
    first.validate(VALID, grammar)
    first.validate(VALID, grammar)
    assert grammar.parsed == [VALID]  # once per process, as before
    _process(tmp_path).validate(VALID, grammar)
    assert grammar.parsed == [VALID]  # and not again in the next one
    [entry] = tmp_path.iterdir()
    assert len(entry.name) == 64 and entry.read_bytes() == b""  # a SHA-256, no content to read back


def test_a_refused_definition_is_parsed_and_refused_in_every_process(tmp_path: Path) -> None:
    grammar = Grammar()
    for _ in range(2):
        with pytest.raises(ValueError, match="InvalidDefinition"):
            _process(tmp_path).validate(BROKEN, grammar)
    assert grammar.parsed == [BROKEN, BROKEN]
    assert list(tmp_path.iterdir()) == []


def test_a_changed_definition_or_another_moto_is_parsed_again(tmp_path: Path) -> None:
    grammar = Grammar()
    _process(tmp_path).validate(VALID, grammar)
    changed = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True, "Comment": "x"}}})
    _process(tmp_path).validate(changed, grammar)
    _process(tmp_path, moto_version="5.3.0").validate(VALID, grammar)  # its grammar may differ
    assert grammar.parsed == [VALID, changed, VALID]


def test_an_unusable_cache_directory_only_costs_a_parse(tmp_path: Path) -> None:
    grammar = Grammar()
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("x")
    for _ in range(2):
        _process(not_a_directory / "cache").validate(VALID, grammar)
    assert grammar.parsed == [VALID, VALID]
