"""State machine definitions moto's ASL grammar has accepted, remembered across processes.

CreateStateMachine runs a definition through moto's ANTLR grammar only to validate it, about 0.7 s of
CPU per machine: with the template's seven, most of an `oms-hub local` start (and every e2e test starts
several). moto_patches validates a definition once per process; this keeps that answer on disk for the
next process: one empty file per accepted definition, named by the SHA-256 of moto's version and the
definition's text. Only acceptance is kept (a refused or changed definition is parsed again, so it is
refused as before) and nothing is read back from the files but their names: no parse tree, no pickle.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

CACHE_ENV = "OMS_LOCAL_CACHE_DIR"


def cache_directory() -> Path:
    """$OMS_LOCAL_CACHE_DIR, else the user's cache directory (XDG), as pip and mypy keep theirs."""
    if configured := os.environ.get(CACHE_ENV):
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "oms-hub" / "accepted-asl"


class AcceptedDefinitions:
    def __init__(self, directory: Path, moto_version: str | None = None) -> None:
        self.directory = directory
        self._moto_version = moto_version or version("moto")  # another moto may have another grammar
        self._accepted: set[str] = set()

    def validate(self, definition: str, validate: Callable[[str], None]) -> None:
        """`validate(definition)` (raises if moto refuses it) unless this moto accepted it before."""
        key = hashlib.sha256(f"{self._moto_version}\0{definition}".encode()).hexdigest()
        if key not in self._accepted and not self._on_disk(key):
            validate(definition)
            self._remember(key)
        self._accepted.add(key)

    def _on_disk(self, key: str) -> bool:
        try:
            return (self.directory / key).is_file()
        except OSError:  # an unreadable cache directory: as if empty
            return False

    def _remember(self, key: str) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / key).touch()
        except OSError:
            pass  # an unwritable cache costs the next process a parse, nothing else
