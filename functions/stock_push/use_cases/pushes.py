"""Stock pushes: a marketplace channel's offer sent to the partner's warehouses (docs/stock-push.md).

`push` runs one invocation's share of a push: it takes the channel's lease (one pusher per channel), reads
what to send (a changed push: the channel's dirty marks; a full push: the channel's availability
partition from its cursor), takes each SKU's current offer the way GET /v1/availability answers it, its
offer identity and the pairs' last states, sends what the plan says within the partner's budget (kept in
the lease across invocations), records every line's outcome, deletes the marks whose lines are final,
keeps the channel's operator task of refused items, and stops near its deadline. Whatever it did not
finish (out of time, pairs deferred by the partner's pair interval, lines to retry, the lease held by
another pusher) goes back to the queue as a continuation; a crash anywhere leaves the marks and the cursor
where a continuation finds them, and what was recorded accepted is not sent again.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from common.clock import utc_text
from common.errors import Conflict, NotFound
from common.observability import count, logger
from inventory.adapters import availability_table, dirty_skus
from inventory.use_cases.availability import channel_availability
from orders.adapters import task_table
from partners.clients.http import PartnerRejected, PartnerUnavailable
from partners.clients.stock import Credentials, LineResult, Outcome, StockLine, StockTarget, stock_target
from reference import config_table
from reference.models import Channel
from stock_push.adapters import channel_offers, push_queue, push_state
from stock_push.domain.plan import (
    MAX_REJECTIONS,
    Counters,
    Decision,
    Pair,
    PairState,
    Sending,
    Warehouse,
    batches,
    budget_wait,
    decide,
    offered_per_location,
    pairs_of,
    recent,
    round_size,
    settled,
)

# Channel kinds with a stock API (partners.clients.stock registers one target per kind).
MARKETPLACES = frozenset({"ozon", "wildberries", "yandex_market"})
MODES = ("changed", "full")
LEASE_SECONDS = 120.0  # renewed before every partner request; a crashed pusher's lease frees itself
CHUNK = 1000  # SKUs read, planned and sent per round
HELD_DELAY_SECONDS = 5.0  # a push finding the lease held tries again this much later
RETRY_DELAY_SECONDS = 30.0  # lines to retry, a partner unavailable
MAX_ROUNDS = 20  # continuations for lines the partner keeps asking to retry; then the push ends pending
MAX_TASK_ITEMS = 50
TASK_KIND = "stock_push_refused"

TargetFactory = Callable[[str, str, Credentials], StockTarget]


class Clock(Protocol):
    """Time as the engine paces by it: epoch seconds, and a wait (tests and the bench pass a fake one)."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time, not the hub clock (common.clock): the engine paces by the partners' rate limits, its
    lease and the Lambda's remaining time, which all run in real seconds, also when a local hub's clock
    runs faster (a push at speed 60 must not send 60 times the partner's budget)."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _text(moment: float) -> str:
    return utc_text(datetime.fromtimestamp(moment, UTC))


def new_push_id(now: str) -> str:
    """Begins with the start time, so the records sort by it."""
    digits = now.replace("-", "").replace(":", "").replace(".", "")
    return f"sp_{digits}_{uuid.uuid4().hex[:8]}"


def refusal(channel: Channel | None) -> str | None:
    """Why the channel's stock cannot be pushed (None: it can)."""
    if channel is None:
        return "unknown channel"
    if channel.kind not in MARKETPLACES:
        return f"channel kind {channel.kind!r} has no stock API (marketplaces: {', '.join(sorted(MARKETPLACES))})"
    if not channel.warehouses:
        return "the channel maps no partner warehouses (PUT /v1/channels/{id} with warehouses)"
    if channel.api_url is None:
        return "the channel has no api_url"
    return None


# ------------------------------------------------------------------ the API's side


def request(channel_id: str, mode: str, now: str, trigger: str = "api") -> dict[str, Any]:
    """A push asked for: its record (queued) and its message; the push runs in StockPushFunction."""
    channel = config_table.channel(channel_id)
    if channel is None:
        raise NotFound(f"channel {channel_id!r} does not exist", channel_id=channel_id)
    why = refusal(channel)
    if why is not None:
        raise Conflict(f"channel {channel_id!r} cannot take a stock push: {why}", channel_id=channel_id)
    push_id = new_push_id(now)
    record = push_state.create_push(channel_id, push_id, mode, trigger, "queued", now)
    push_queue.send({"channel_id": channel_id, "mode": mode, "push_id": push_id, "trigger": trigger})
    return _public(record)


def recent_pushes(channel_id: str, limit: int) -> list[dict[str, Any]]:
    if config_table.channel(channel_id) is None:
        raise NotFound(f"channel {channel_id!r} does not exist", channel_id=channel_id)
    return push_state.recent_pushes(channel_id, limit)


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("key", "expires_at")}


def pushable_channels() -> list[str]:
    return sorted(c.channel_id for c in config_table.channels(fresh=True) if refusal(c) is None)


# ------------------------------------------------------------------ the engine


@dataclass(frozen=True)
class Job:
    """One invocation's push, as its message (or trigger) names it."""

    channel_id: str
    mode: str
    push_id: str
    trigger: str = "queue"
    round: int = 0

    @classmethod
    def from_message(cls, body: dict[str, Any]) -> Job:
        """A queued push; ValueError (or KeyError) for a message that names none."""
        job = cls(
            str(body["channel_id"]),
            str(body["mode"]),
            str(body["push_id"]),
            str(body.get("trigger", "queue")),
            int(body.get("round", 0)),
        )
        if job.mode not in MODES:
            raise ValueError(f"unknown mode {job.mode!r}")
        return job

    def message(self, **changes: Any) -> dict[str, Any]:
        job = replace(self, **changes)
        return {
            "channel_id": job.channel_id,
            "mode": job.mode,
            "push_id": job.push_id,
            "trigger": job.trigger,
            "round": job.round,
        }


def push(job: Job, clock: Clock, deadline: float, target_factory: TargetFactory | None = None) -> dict[str, Any]:
    """Run the job until it is done or `deadline` (epoch seconds) is near; what it did and what follows.
    `target_factory` (default: the partner's stock API) makes the channel's StockTarget."""
    channel = config_table.channel(job.channel_id)
    if channel is None or refusal(channel) is not None:
        return {"push_id": job.push_id, "state": "skipped"}
    holder = f"{job.push_id}:{uuid.uuid4().hex[:8]}"
    log = _lease(job, holder, clock)
    if log is None:
        return {"push_id": job.push_id, "state": "waiting"}
    target = (target_factory or stock_target)(
        channel.kind, str(channel.api_url), lambda: config_table.credentials(job.channel_id)
    )
    run: _Run | None = None
    try:
        run = _Run(job, channel, target, clock, deadline, holder, log)
        return run.run()
    finally:
        target.close()
        # The log goes back with the lease: the requests since the last renewal count for the next pusher.
        if push_state.release_lease(job.channel_id, holder, recent(run.log if run else log, clock.now())):
            again = Job(job.channel_id, "changed", new_push_id(_text(clock.now())), trigger="change")
            push_queue.send(again.message())


def push_marked(channel_shards: Iterable[str], clock: Clock, deadline: float) -> list[dict[str, Any]]:
    """A changed push of each channel whose marks a stream batch names (the partitions of its marks)."""
    now = _text(clock.now())
    channels = sorted({dirty_skus.channel_of(shard) for shard in channel_shards})
    return [push(Job(channel, "changed", new_push_id(now), trigger="change"), clock, deadline) for channel in channels]


def _lease(job: Job, holder: str, clock: Clock) -> list[float] | None:
    """The channel's request log with the lease taken; None when another pusher has it: a changed push a
    stream batch started leaves the new marks to the holder's next pass, any other push (one with a record
    to finish: asked for, or a continuation) comes back a few seconds later."""
    for _ in range(3):  # the holder may release between our two writes
        log = push_state.take_lease(job.channel_id, holder, clock.now(), LEASE_SECONDS)
        if log is not None:
            return log
        if job.mode != "changed" or job.trigger != "change" or job.round > 0:
            push_queue.send(job.message(), HELD_DELAY_SECONDS)
            return None
        if push_state.ask_again(job.channel_id, clock.now()):
            return None
    push_queue.send(job.message(), HELD_DELAY_SECONDS)
    return None


class _Stop(Exception):
    """This invocation stops here; `delay` says when its continuation may run (None: no continuation)."""

    def __init__(self, why: str, delay: float | None) -> None:
        super().__init__(why)
        self.why = why
        self.delay = delay


@dataclass
class _Run:
    job: Job
    channel: Channel
    target: StockTarget
    clock: Clock
    deadline: float
    holder: str
    log: list[float]
    counters: Counters = field(default_factory=Counters)
    started_at: str = ""
    record: dict[str, Any] | None = None
    deferred: int = 0
    deferred_until: float | None = None
    pending: int = 0
    refused: list[dict[str, str]] = field(default_factory=list)
    sent: set[tuple[str, str]] = field(default_factory=set)  # (warehouse, sku) sent in this invocation

    def __post_init__(self) -> None:
        self.warehouses = [Warehouse(w.partner_warehouse_id, tuple(w.locations)) for w in self.channel.warehouses]
        self.record = push_state.push_record(self.job.channel_id, self.job.push_id)
        self.started_at = str(self.record["created_at"]) if self.record else _text(self.clock.now())
        self.rejected_so_far = int(self.record["rejected"]) if self.record else 0
        self.round_size = round_size(CHUNK, self.target.batch_size, self.target.one_warehouse_per_request)

    # -------------------------------------------------------------- the whole invocation

    def run(self) -> dict[str, Any]:
        channel_id = self.job.channel_id
        full = self.job.mode == "full"
        try:
            if full:
                cursor = self.record.get("cursor") if self.record else None
                skus = (figures.sku for figures in availability_table.partition(channel_id, after=cursor))
                for chunk in _chunks(skus, self.round_size):
                    self._chunk(chunk, {})
                    self._save(cursor=chunk[-1])
            else:
                for marks in _chunks(dirty_skus.marks(channel_id), self.round_size):
                    self._chunk([m.sku for m in marks], {m.sku: m for m in marks})
        except _Stop as stop:
            return self._finish(stop.why, stop.delay)
        except PartnerRejected as error:
            logger.warning("stock push refused", extra={"channel": channel_id, "push_id": self.job.push_id})
            count("StockPushFailed")
            return self._finish("failed", None, reason=str(error)[:300])
        if self.deferred_until is not None:
            return self._finish("deferred", max(self.deferred_until - self.clock.now(), 0.0))
        if self.pending and not full and self.job.round < MAX_ROUNDS:
            return self._finish("retrying", RETRY_DELAY_SECONDS)
        return self._finish("done", None)

    def _finish(self, why: str, delay: float | None, reason: str | None = None) -> dict[str, Any]:
        state = "failed" if why == "failed" else ("running" if delay is not None else "done")
        now = _text(self.clock.now())
        if self.record is not None or self.counters.requests or delay is not None or state == "failed":
            self._ensure_record()
            fields: dict[str, Any] = {"state": state, "pending": self.pending, "deferred": self.deferred}
            if state != "running":
                fields["finished_at"] = now
            if reason:
                fields["reason"] = reason
            self._save(**fields)
        if delay is not None:
            push_queue.send(self.job.message(round=self.job.round + 1), delay)
        return {"push_id": self.job.push_id, "state": state, "why": why, "continue_in": delay}

    def _ensure_record(self) -> None:
        if self.record is None:
            self.record = push_state.create_push(
                self.job.channel_id, self.job.push_id, self.job.mode, self.job.trigger, "running", self.started_at
            )

    def _save(self, **fields: Any) -> None:
        self._ensure_record()
        push_state.update_push(
            self.job.channel_id, self.job.push_id, self.counters.taken(), _text(self.clock.now()), **fields
        )

    # -------------------------------------------------------------- one chunk of SKUs

    def _chunk(self, skus: list[str], marks: dict[str, dirty_skus.Mark]) -> None:
        if self.clock.now() >= self.deadline:
            raise _Stop("deadline", 0.0)
        channel_id = self.job.channel_id
        full = self.job.mode == "full"
        now = self.clock.now()
        stamp = _text(now)
        offers = channel_availability(channel_id, skus)
        identities = channel_offers.identities(channel_id, skus)
        states = push_state.pair_states(channel_id, [(w.warehouse_id, s) for s in skus for w in self.warehouses])
        by_sku: dict[str, dict[str, PairState]] = {}
        for (warehouse_id, sku), state in states.items():
            by_sku.setdefault(sku, {})[warehouse_id] = state
        groups: list[list[Pair]] = []
        open_skus: set[str] = set()  # SKUs with a line not final yet: their marks stay
        local: list[tuple[list[Pair], str]] = []  # groups refused without asking the partner
        for offer in offers:
            sku = str(offer["sku"])
            identity = identities[sku]
            sku_states = by_sku.get(sku, {})
            lines = pairs_of(
                sku, offered_per_location(offer), self.warehouses, identity.offer_id, identity.chrt_id, sku_states
            )
            for warehouse_id, group in itertools.groupby(lines, key=lambda p: p.warehouse_id):
                group_pairs = list(group)
                decision, when = decide(
                    group_pairs[0],
                    sku_states.get(warehouse_id),
                    full=full,
                    push_started=self.started_at,
                    now=now,
                    pair_interval=self.target.pair_interval,
                )
                if decision is Decision.skip:
                    continue
                if decision is Decision.defer:
                    open_skus.add(sku)
                    self.deferred += 1
                    if not full:  # a full push marks what it defers: a changed push takes it
                        self.deferred_until = min(self.deferred_until or when, when)
                    continue
                if self.target.partner == "wildberries" and any(p.chrt_id is None for p in group_pairs):
                    local.append((group_pairs, "no chrtId mapped for the offer (PUT /v1/channels/{id}/offers)"))
                    continue
                groups.append(group_pairs)
        current = dict(states)
        if local:
            self._record(
                [g for g, _ in local],
                {p.key: ("refused", why) for g, why in local for p in g},
                current,
                stamp,
                verified=False,
            )
        try:
            for batch in batches(groups, self.target.batch_size, self.target.one_warehouse_per_request):
                results = self._send(batch, current, stamp)
                in_batch = [list(g) for _, g in itertools.groupby(batch, key=lambda p: (p.sku, p.warehouse_id))]
                outcomes = {key: (result.outcome.value, result.reason) for key, result in results.items()}
                open_skus |= self._record(in_batch, outcomes, current, stamp, verified=self._verify(batch, current))
        except (_Stop, PartnerUnavailable) as stopped:
            unsent = {p.sku for g in groups for p in g if (p.warehouse_id, p.sku) not in self.sent}
            self.pending += len(unsent)
            self._close_chunk(marks, open_skus | unsent, full=full)
            if isinstance(stopped, _Stop):
                raise
            raise _Stop("partner unavailable", RETRY_DELAY_SECONDS) from None
        self._close_chunk(marks, open_skus, full=full)

    def _verify(self, batch: Sequence[Pair], current: dict[tuple[str, str], PairState]) -> bool:
        """Wildberries answers 204 to what it ignores: read back the batches holding a pair never verified."""
        return self.target.partner == "wildberries" and any(
            not (s := current.get((p.warehouse_id, p.sku))) or not s.verified or s.offer_id != p.offer_id for p in batch
        )

    def _send(
        self, batch: list[Pair], current: dict[tuple[str, str], PairState], stamp: str
    ) -> dict[tuple[str, str], LineResult]:
        """One partner request, within the budget and under the lease."""
        wait = budget_wait(self.log, self.clock.now(), self.target.per_minute)
        if wait > 0:
            if self.clock.now() + wait >= self.deadline:
                raise _Stop("deadline", wait)
            self.clock.sleep(wait)
        now = self.clock.now()
        if not push_state.renew_lease(self.job.channel_id, self.holder, now, LEASE_SECONDS, recent(self.log, now)):
            raise _Stop("lease lost", None)
        at = datetime.fromtimestamp(now, UTC)
        lines = [StockLine(p.offer_id, p.warehouse_id, p.amount, at, p.chrt_id) for p in batch]
        before, spent_before = self.target.requests, self.target.spent
        verify = self._verify(batch, current)
        try:
            results = self.target.push(lines, verify=verify)
        finally:
            sent = self.target.requests - before  # retries and read-backs included; 0 if nothing went out
            # The log holds what the partner counts: a Wildberries 409 takes 10 of its 300 a minute.
            self.log = recent(self.log, now) + [now] * (self.target.spent - spent_before)
            self.counters.requests += sent
        self.sent |= {(p.warehouse_id, p.sku) for p in batch}
        self.counters.items += len(batch)
        # A line the partner did not report is not known taken: it goes again.
        return {p.key: results.get(p.key, LineResult(Outcome.retry, "not reported")) for p in batch}

    def _record(
        self,
        groups: Iterable[list[Pair]],
        outcomes: dict[tuple[str, str], tuple[str, str | None]],
        current: dict[tuple[str, str], PairState],
        stamp: str,
        *,
        verified: bool,
    ) -> set[str]:
        """Store each group's new state (unless a newer figure's is stored); the SKUs not final yet."""
        now = self.clock.now()
        sending = Sending(stamp, now, _text(now), verified)
        written: list[PairState] = []
        open_skus: set[str] = set()
        for group in groups:
            line = next(p for p in group if not p.retiring)
            new = settled(current.get((line.warehouse_id, line.sku)), group, outcomes, sending)
            current[(line.warehouse_id, line.sku)] = new
            written.append(new)
            for pair in group:
                outcome, reason = outcomes[pair.key]
                self.counters.add_outcome(pair, outcome, reason)
                if outcome == "refused":
                    self.refused.append(
                        {
                            "sku": pair.sku,
                            "offer_id": pair.offer_id,
                            "warehouse_id": pair.warehouse_id,
                            "reason": reason or "",
                        }
                    )
            if new.state not in ("accepted", "refused") or new.retired_offer_id is not None:
                open_skus.add(line.sku)
                self.pending += 1
        newer = push_state.record_pairs(self.job.channel_id, written)
        if newer:
            logger.info("newer stock figures kept", extra={"channel": self.job.channel_id, "pairs": len(newer)})
        self._trim_rejections()
        return open_skus

    def _trim_rejections(self) -> None:
        room = max(MAX_REJECTIONS - self.rejected_so_far, 0)
        self.rejected_so_far += len(self.counters.rejections)
        self.counters.rejections = self.counters.rejections[:room]

    def _close_chunk(self, marks: dict[str, dirty_skus.Mark], open_skus: set[str], *, full: bool) -> None:
        """Marks of final SKUs deleted (a full push marks the ones it left open, so a changed push takes them),
        refusals onto the channel's task, the figures onto the push record and the metrics."""
        now = self.clock.now()
        channel_id = self.job.channel_id
        if full:
            dirty_skus.mark([(channel_id, sku) for sku in sorted(open_skus)], _text(now))
        else:
            done = [mark for sku, mark in marks.items() if sku not in open_skus]
            dirty_skus.clear(channel_id, done)
            lags = [now - _epoch(mark.marked_at) for mark in done]
            if lags:
                _metric("StockPushLagSeconds", max(lags), MetricUnit.Seconds, channel_id)
        if self.refused:
            task_table.keep_open(
                f"{TASK_KIND}#{channel_id}",
                TASK_KIND,
                {"channel": channel_id, "push_id": self.job.push_id, "refused": self.refused[:MAX_TASK_ITEMS]},
                _text(now),
            )
            _metric("StockPushRejected", len(self.refused), MetricUnit.Count, channel_id)
            self.refused = []
        items = self.counters.items
        if self.counters.requests or self.counters.rejected:
            self._save()
        if items:
            _metric("StockPushItems", items, MetricUnit.Count, channel_id)


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _metric(name: str, value: float, unit: MetricUnit, channel_id: str) -> None:
    """Per channel (the alarm on StockPushFailed counts over the service; these are per channel). A single
    metric is flushed at once, so it honours the switch that turns the others off (locally) itself."""
    if is_metrics_disabled():
        return
    with single_metric(name=name, unit=unit, value=value, default_dimensions={"channel": channel_id}) as metric:
        metric.add_dimension(name="service", value="oms-hub")


def deadline_of(remaining_ms: int, now: float, margin: float = 60.0) -> float:
    """When an invocation with `remaining_ms` left stops starting new work."""
    return now + max(remaining_ms / 1000 - margin, 0.0)
