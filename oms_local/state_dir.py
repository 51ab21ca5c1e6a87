"""`oms-hub local --state-dir DIR`: the hub's tables and channel secrets kept in DIR across restarts.

One file, `DIR/hub-state.json`, holds every table the template declares (items in DynamoDB JSON) and the
SSM parameters under SECRETS_PREFIX (channel webhook secrets and partner credentials). It is replaced
atomically: written to a temporary file in DIR, flushed to disk (fsync), renamed over the old one, and
the directory fsynced, so a crash leaves either the previous snapshot or the new one, never a mix.
One file rather than one per table because an order, its reservations and its stock rows change in one
transaction: separate files could be caught half-written across tables.

A lock file (`DIR/.lock`, flock) keeps a second hub off the same directory: two would overwrite each
other's snapshots.
"""

from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no flock; the directory is then not guarded against a second hub
    fcntl = None  # type: ignore[assignment]

FORMAT = "oms-hub-local-state"
VERSION = 1
STATE_FILE = "hub-state.json"
LOCK_FILE = ".lock"


class StateDirError(Exception):
    """The state directory cannot be used; the hub must not start (an empty start would hide the data)."""


@dataclass
class Snapshot:
    """Tables by their logical id (as template.yaml names them) -> items; the stream records of each table
    that its reader had not yet delivered (a stock write whose change was never announced would leave
    the figures behind for good); secrets by parameter name; how far the hub clock was ahead of real
    time (`oms-hub local --clock-speed`, a test's advance)."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    streams: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    saved_at: str = ""
    hub_ahead_seconds: float = 0.0

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT,
                "version": VERSION,
                "saved_at": self.saved_at,
                "hub_ahead_seconds": self.hub_ahead_seconds,
                "tables": self.tables,
                "streams": self.streams,
                "secrets": self.secrets,
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes, where: Path) -> Snapshot:
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise StateDirError(
                f"{where} is not a readable hub state ({error}); "
                "restore it from a backup or move it away to start empty"
            ) from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise StateDirError(f"{where} is not an oms-hub local state file; move it away to start empty") from None
        if data.get("version") != VERSION:
            raise StateDirError(
                f"{where} has state version {data.get('version')!r}; this oms-hub reads version {VERSION}"
            )
        tables, secrets = data.get("tables"), data.get("secrets")
        if not isinstance(tables, dict) or not all(
            isinstance(items, list) and all(isinstance(i, dict) for i in items) for items in tables.values()
        ):
            raise StateDirError(f"{where}: `tables` must map table names to lists of items")
        if not isinstance(secrets, dict) or not all(isinstance(v, str) for v in secrets.values()):
            raise StateDirError(f"{where}: `secrets` must map parameter names to strings")
        streams = data.get("streams", {})  # files saved before streams were kept: nothing undelivered
        if not isinstance(streams, dict) or not all(
            isinstance(records, list) and all(isinstance(r, dict) for r in records) for records in streams.values()
        ):
            raise StateDirError(f"{where}: `streams` must map table names to lists of stream records")
        ahead = data.get("hub_ahead_seconds", 0.0)  # files saved before the hub clock had none: not ahead
        if isinstance(ahead, bool) or not isinstance(ahead, int | float) or not math.isfinite(ahead):
            raise StateDirError(f"{where}: `hub_ahead_seconds` must be a number of seconds")
        return cls(
            tables=tables,
            secrets=secrets,
            streams=streams,
            saved_at=str(data.get("saved_at", "")),
            hub_ahead_seconds=ahead,
        )


class StateDir:
    """Open with `open()` (locks the directory, reads the last snapshot), `save()` after changes, `close()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = path / STATE_FILE
        self._lock: int | None = None

    def open(self) -> Snapshot | None:
        """The last snapshot, or None if the directory holds none yet (a first start)."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StateDirError(f"state dir {self.path} cannot be created: {error.strerror}") from None
        if not self.path.is_dir():
            raise StateDirError(f"state dir {self.path} is not a directory")
        try:
            self._lock = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise StateDirError(f"state dir {self.path} is not writable: {error.strerror}") from None
        try:
            if fcntl is not None:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.close()
            raise StateDirError(f"state dir {self.path} is in use by another oms-hub local") from None
        for leftover in self.path.glob(f".{STATE_FILE}.*.tmp"):  # a save a crash interrupted; the last one stands
            leftover.unlink(missing_ok=True)
        if not self.file.exists():
            return None
        try:
            raw = self.file.read_bytes()
        except OSError as error:
            self.close()
            raise StateDirError(f"{self.file} cannot be read: {error.strerror}") from None
        try:
            return Snapshot.from_json(raw, self.file)
        except StateDirError:
            self.close()
            raise

    def save(self, snapshot: Snapshot) -> int:
        """Replace the state file atomically; the bytes written."""
        snapshot.saved_at = datetime.now(UTC).isoformat()
        data = snapshot.to_json()
        temporary = self.path / f".{STATE_FILE}.{os.getpid()}.{threading.get_ident()}.tmp"
        # 0600: the file holds the channels' partner credentials.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            temporary.replace(self.file)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        if os.name == "posix":  # the rename itself survives a power cut (Windows cannot open a directory)
            directory = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        return len(data)

    def close(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # releases the flock
            self._lock = None
