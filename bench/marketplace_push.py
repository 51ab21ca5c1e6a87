"""Stock push figures: a full push of N SKUs x 1 warehouse to each of fake Ozon, Wildberries and Yandex Market,
then a changed push of 1,000 SKUs, on the local hub (moto) against the fakes on 127.0.0.1.

Run by bench/run.py (`make bench`); alone: `python bench/marketplace_push.py [--skus N]` (default 100,000;
not bench/stock_push.py, which mypy would take for the functions' package of that name).

- Partner requests of each push against the minimum its batch size allows (ceil(N / 100) Ozon, / 1,000
  Wildberries, / 2,000 Market), as the push record counts them (retries and Wildberries' read-backs
  included) and as the fake counted them.
- Modelled wall time: the engine and the fakes run on one fake clock per partner that moves only when the
  engine waits for the partner's budget (Ozon 80 requests a minute, Wildberries 300, Market 100,000 SKUs),
  so it is the time the partner's limit imposes with requests that take no time, against that limit's
  floor (the minimum requests spread at the limit). The real seconds on moto are printed beside it (they
  are the emulator's, not Lambda's).
- AWS calls per pushed item: the push's own calls (DynamoDB, SSM), on the thread that runs it.
- Set-up, not measured: the channels' figures are written as the stock stream writes them (its use case,
  called here), Wildberries' chrtIds through PUT /v1/channels/{id}/offers; the marks' stream trigger is
  switched off, since the bench runs every push itself on its fake clock (a trigger would push on the real
  clock beside it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from run import AwsCalls, emit, note  # noqa: E402

from oms_local.runtime import LocalHub  # noqa: E402
from tests.fakes.partners import Fake, FakeOzon, FakeWildberries, FakeYandexMarket  # noqa: E402
from tests.fakes.server import serve  # noqa: E402

SKUS = 100_000
CHANGED = 1_000
STREAM_BATCH = 500  # the stock stream's batch size: the figures are written as its batches write them
OFFERS_PART = 1_000  # PUT /v1/channels/{id}/offers items per request


class FakeClock:
    """Epoch seconds that move only when the engine waits (`sleep`) or the bench says so (`advance`)."""

    def __init__(self) -> None:
        self.at = time.time()

    def now(self) -> float:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.at += max(seconds, 0.0)

    advance = sleep


@dataclass(frozen=True)
class Partner:
    channel: str
    kind: str
    warehouse: str  # the partner's warehouse id (Market: the campaign id)
    credentials: dict[str, str]
    batch_size: int
    per_minute: int  # requests a minute the limit allows a full batch (Market: 100,000 SKUs / 2,000)


PARTNERS = [
    Partner("ozon", "ozon", "77", {"Client-Id": "836", "Api-Key": "ozon-key"}, 100, 80),
    Partner("wb", "wildberries", "900", {"token": "wb-token"}, 1000, 300),
    Partner("ym", "yandex_market", "1001", {"Api-Key": "ym-key"}, 2000, 50),
]


def _sku(n: int) -> str:
    return f"SKU-{n:06d}"


def _api(hub: LocalHub, method: str, path: str, body: Any) -> dict[str, Any]:
    answer = hub.http(
        method,
        path,
        headers={"x-api-key": hub.api_key, "content-type": "application/json"},
        body=json.dumps(body).encode(),
    )
    if answer.status >= 300:
        raise RuntimeError(f"{method} {path} answered {answer.status}: {answer.body[:300]!r}")
    result: dict[str, Any] = json.loads(answer.body) if answer.body else {}
    return result


def _figures(skus: int, shift: int, first: int = 0) -> None:
    """Stock rows' images as the stock stream hands them over, through its use case: SKU n has
    (n + shift) % 40 + 1 free units at wh-1 (never 0, so a change always changes the value)."""
    from inventory.use_cases.availability_figures import apply_row_changes

    stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    for start in range(first, first + skus, STREAM_BATCH):
        rows = [
            (None, {"sku": _sku(n), "location_id": "wh-1", "available": (n + shift) % 40 + 1, "updated_at": stamp})
            for n in range(start, min(start + STREAM_BATCH, first + skus))
        ]
        apply_row_changes(rows, stamp)


def _set_up(hub: LocalHub, skus: int, urls: dict[str, str]) -> None:
    from inventory.adapters import dirty_skus

    _api(hub, "PUT", "/v1/locations/wh-1", {"name": "DC", "kind": "warehouse", "capabilities": ["marketplace"]})
    for partner in PARTNERS:
        channel = {
            "kind": partner.kind,
            "name": partner.channel,
            "api_url": urls[partner.channel],
            "credentials": partner.credentials,
            "warehouses": [{"partner_warehouse_id": partner.warehouse, "locations": ["wh-1"]}],
        }
        _api(hub, "PUT", f"/v1/channels/{partner.channel}", channel)
    hub.settle()
    for start in range(0, skus, OFFERS_PART):  # Wildberries takes stock by size id: chrtId n + 1
        items = [{"sku": _sku(n), "chrtId": n + 1} for n in range(start, min(start + OFFERS_PART, skus))]
        _api(hub, "PUT", "/v1/channels/wb/offers", {"items": items})
    _figures(skus, shift=0)
    hub.settle(timeout=3600)
    dirty_skus.clear("wb", list(dirty_skus.marks("wb")))  # the mappings' marks: the full push sends them


@dataclass(frozen=True)
class Measured:
    record: dict[str, Any]
    modelled_s: float
    real_s: float
    aws_calls: Counter[str]
    partner_requests: int  # as the fake counted them


def _push(calls: AwsCalls, partner: Partner, mode: str, clock: FakeClock, fake: Fake) -> Measured:
    from stock_push.adapters import push_state
    from stock_push.use_cases import pushes

    push_id = pushes.new_push_id(datetime.fromtimestamp(clock.now(), UTC).isoformat().replace("+00:00", "Z"))
    job = pushes.Job(partner.channel, mode, push_id, trigger="bench")
    seen = len(fake.requests)
    calls.take()
    started, modelled = time.monotonic(), clock.now()
    result = pushes.push(job, clock, clock.now() + 10**9)  # one invocation: no deadline cuts it
    real = time.monotonic() - started
    made = Counter(call.name for call in calls.take_own())
    if result["state"] != "done":
        raise RuntimeError(f"{partner.channel} {mode} push ended {result}")
    record = push_state.push_record(partner.channel, push_id)
    if record is None:
        raise RuntimeError(f"{partner.channel} {mode} push left no record")
    return Measured(record, clock.now() - modelled, real, made, len(fake.requests) - seen)


def _floor_s(requests: int, per_minute: int) -> float:
    """When the last of `requests` may go at `per_minute` in any 60 s, the first at 0."""
    return (math.ceil(requests / per_minute) - 1) * 60.0


def _report(partner: Partner, case: str, items: int, measured: Measured) -> None:
    record = measured.record
    minimum = math.ceil(items / partner.batch_size)
    prefix = f"stock_push_{case}_{partner.channel}"
    emit(f"{prefix}_requests", record["requests"], "requests")
    emit(f"{prefix}_requests_minimum", minimum, "requests")
    emit(f"{prefix}_modelled_wall_s", measured.modelled_s, "s")
    emit(f"{prefix}_modelled_wall_floor_s", _floor_s(minimum, partner.per_minute), "s")
    emit(f"{prefix}_real_s", measured.real_s, "s")
    emit(f"{prefix}_aws_calls_per_item", sum(measured.aws_calls.values()) / max(record["items"], 1), "calls")
    note(
        f"{case} push to {partner.channel}: {record['items']} items, {record['requests']} partner requests "
        f"({measured.partner_requests} at the fake), {record['accepted']} accepted, {record['rejected']} refused, "
        f"{record['pending']} pending, {record['deferred']} deferred; "
        f"AWS calls {dict(sorted(measured.aws_calls.items()))}"
    )


def main(skus: int = SKUS) -> None:
    from inventory.adapters import dirty_skus
    from stock_push.use_cases import pushes

    changed = min(CHANGED, skus)
    calls = AwsCalls()
    clocks = {partner.channel: FakeClock() for partner in PARTNERS}
    market = FakeYandexMarket(clocks["ym"].now)
    market.wall = lambda: datetime.fromtimestamp(clocks["ym"].now(), UTC)  # updatedAt is judged on the fake clock
    fakes: dict[str, FakeOzon | FakeWildberries | FakeYandexMarket] = {
        "ozon": FakeOzon(clocks["ozon"].now),
        "wb": FakeWildberries(clocks["wb"].now),
        "ym": market,
    }
    with ExitStack() as stack:
        hub = stack.enter_context(LocalHub())
        urls = {channel: stack.enter_context(serve(fake.app())) for channel, fake in fakes.items()}
        original = pushes.push_marked
        pushes.push_marked = lambda *_: []  # the marks' stream trigger off: the bench runs each push itself
        stack.callback(setattr, pushes, "push_marked", original)
        set_up = time.monotonic()
        _set_up(hub, skus, urls)
        note(
            f"stock push set-up ({skus} SKUs x 3 channels' figures, {skus} Wildberries chrtIds): "
            f"{time.monotonic() - set_up:.0f} s"
        )
        calls.install()
        for partner in PARTNERS:
            _report(
                partner, "full", skus, _push(calls, partner, "full", clocks[partner.channel], fakes[partner.channel])
            )
        _figures(changed, shift=1)  # the first `changed` SKUs' offers move ...
        hub.settle()
        stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        for partner in PARTNERS:  # ... and are marked, as the ledger marks what it moves
            dirty_skus.mark([(partner.channel, _sku(n)) for n in range(changed)], stamp)
            clocks[partner.channel].advance(61)  # past the budget window and Ozon's 30 s per pair
            _report(
                partner,
                "changed",
                changed,
                _push(calls, partner, "changed", clocks[partner.channel], fakes[partner.channel]),
            )
    held = {channel: len(fake.stocks) for channel, fake in fakes.items()}
    note(f"(warehouse, offer) pairs the fakes hold at the end: {held}")


if __name__ == "__main__":
    os.environ.setdefault("OMS_LOG_LEVEL", "WARNING")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--skus", type=int, default=SKUS, help=f"SKUs per channel (default {SKUS:,})")
    main(parser.parse_args().skus)
