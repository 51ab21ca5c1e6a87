"""`oms-hub stock push --channel C [--full]`: ask the hub for a stock push (POST /v1/channels/{C}/stock-push)
and follow its record (GET .../stock-push) until it is done or failed, printing its figures as they move.

The push runs in the hub (StockPushFunction); this only asks and watches, so stopping it stops the watching,
not the push. A poll the hub could not answer (a 5xx, no answer) is tried again at the next poll; the POST is
not repeated (a second push would be another record, however harmless).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from oms_local.stock_import import Refused

FINAL_STATES = ("done", "failed")
FIGURES = ("items", "requests", "accepted", "rejected", "pending", "deferred")
RECENT = 100  # the records a poll reads: the push asked for is among the newest


class NotFollowed(Exception):
    """The push's record could not be followed to its end (gone from the recent pushes, or out of time)."""


@dataclass
class PushOutcome:
    record: dict[str, Any]
    shown: list[str] = field(default_factory=list)  # the progress lines, in order

    @property
    def succeeded(self) -> bool:
        """Done with every line taken: nothing refused, nothing left to retry."""
        return self.record.get("state") == "done" and not self.record.get("rejected") and not self.record.get("pending")


def progress_line(record: dict[str, Any]) -> str:
    figures = ", ".join(f"{record.get(name, 0)} {name}" for name in FIGURES)
    return f"push {record['push_id']} ({record.get('mode')}): {record.get('state')}: {figures}"


def refusal_lines(record: dict[str, Any]) -> list[str]:
    """The partner's reasons per refused item (the record keeps a sample; `rejected` counts them all)."""
    lines = [
        f"refused {r.get('sku')} (offer {r.get('offer_id')} at warehouse {r.get('warehouse_id')}): {r.get('reason')}"
        for r in record.get("rejections") or []
    ]
    shown = len(lines)
    if int(record.get("rejected") or 0) > shown:
        lines.append(f"... {int(record['rejected']) - shown} more refused (the channel's stock_push_refused task)")
    if record.get("reason"):
        lines.append(f"failed: {record['reason']}")
    return lines


def request_push(client: httpx.Client, channel_id: str, mode: str) -> dict[str, Any]:
    """The queued push's record; Refused when the hub will not push the channel (unknown, not a marketplace,
    no warehouses, bad key)."""
    answer = client.post(f"/v1/channels/{channel_id}/stock-push", json={"mode": mode})
    if answer.status_code != 202:
        problem = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
        raise Refused(f"a stock push of channel {channel_id!r}", answer.status_code, problem, answer.text)
    record: dict[str, Any] = answer.json()
    return record


def _current(client: httpx.Client, channel_id: str, push_id: str) -> dict[str, Any] | None:
    """The push's record as the hub shows it now; None when this poll got no answer."""
    try:
        answer = client.get(f"/v1/channels/{channel_id}/stock-push", params={"limit": RECENT})
    except httpx.TransportError:
        return None
    if answer.status_code == 429 or answer.status_code >= 500:
        return None
    if answer.status_code != 200:
        problem = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
        raise Refused(f"the pushes of channel {channel_id!r}", answer.status_code, problem, answer.text)
    found: list[dict[str, Any]] = [r for r in answer.json()["items"] if r.get("push_id") == push_id]
    if not found:
        raise NotFollowed(f"push {push_id} is no longer among the channel's {RECENT} latest pushes")
    return found[0]


def follow(  # noqa: PLR0913 - the hub and the push, then keyword-only knobs with defaults
    client: httpx.Client,
    channel_id: str,
    queued: dict[str, Any],
    *,
    show: Callable[[str], None] = print,
    every: float = 1.0,
    timeout: float = 3600.0,
    sleep: Callable[[float], None] = time.sleep,
) -> PushOutcome:
    """Poll the push's record every `every` seconds until it is done or failed, showing a line whenever its
    figures change; NotFollowed after `timeout` seconds (the push goes on in the hub)."""
    outcome = PushOutcome(queued)
    deadline = time.monotonic() + timeout
    record: dict[str, Any] | None = queued
    while True:
        if record is not None:
            outcome.record = record
            line = progress_line(record)
            if not outcome.shown or outcome.shown[-1] != line:
                outcome.shown.append(line)
                show(line)
            if record.get("state") in FINAL_STATES:
                return outcome
        if time.monotonic() >= deadline:
            raise NotFollowed(
                f"push {queued['push_id']} still {outcome.record.get('state')} after {timeout:g} s; it goes on in "
                f"the hub: GET /v1/channels/{channel_id}/stock-push"
            )
        sleep(every)
        record = _current(client, channel_id, str(queued["push_id"]))
