"""Time in status and marketplace risk as pure figures.

A stay (one status entry, from entering to leaving) is counted into a histogram of log-spaced buckets, each
5 % wider than the one before, from 1 s up to 400 days: p50 and p90 come from the bucket counts alone (no raw
stays are kept), within about 2.5 % of the true value. Risk compares a channel's seller-fault cancellations and
late shipments with the marketplaces' published thresholds (docs/sla.md cites them).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from common.errors import Problem, Unprocessable

# ------------------------------------------------------------------ stays and their histogram

RATIO = 1.05  # each bucket's upper bound is 5 % above its lower one
MAX_SECONDS = 400 * 86_400  # the longest stay the buckets tell apart; longer ones share the last bucket
LOG_BUCKETS = math.ceil(math.log(MAX_SECONDS) / math.log(RATIO))  # 356 buckets of [RATIO^(i-1), RATIO^i)
OVERFLOW = LOG_BUCKETS + 1  # bucket 0 is [0, 1 s); OVERFLOW holds stays of 400 days and more
RESOLUTION = {
    "buckets": "log-spaced, each 5 % wider than the last, from 1 s to 400 days (below 1 s: one bucket)",
    "ratio": RATIO,
    "min_seconds": 1,
    "max_seconds": MAX_SECONDS,
    "relative_error": round(math.sqrt(RATIO) - 1, 4),  # a bucket's geometric middle against either bound
}
NO_LOCATION = "-"  # an order no location fulfils (yet): its stays are still counted


@dataclass(frozen=True)
class Stay:
    """One status entry of an order that has ended: `left_at` is when the order entered its next status."""

    workflow: str
    status: str
    channel: str
    location: str | None
    entered_at: datetime
    left_at: datetime

    @property
    def seconds(self) -> float:
        """Time spent, never negative (clocks of two writers may disagree by a few milliseconds)."""
        return max(0.0, (self.left_at - self.entered_at).total_seconds())

    @property
    def day(self) -> date:
        """The UTC day the stay ended: the day its figures are counted in."""
        return self.left_at.astimezone(UTC).date()


def bucket_of(seconds: float) -> int:
    if seconds < 1:
        return 0
    return min(1 + math.floor(math.log(seconds) / math.log(RATIO)), OVERFLOW)


def bucket_middle(bucket: int) -> float:
    """The value a bucket's stays are read as: its geometric middle (0.5 s for the sub-second bucket)."""
    if bucket == 0:
        return 0.5
    return float(RATIO ** (bucket - 0.5))


TierCounter = Literal["warned", "escalated", "breached"]


def tier_counter(tier_kind: str) -> TierCounter:
    """The KPI counter a fired tier adds to: `warn`, `escalate_<n>` or `breach`."""
    if tier_kind == "warn":
        return "warned"
    if tier_kind == "breach":
        return "breached"
    if tier_kind.startswith("escalate"):
        return "escalated"
    raise ValueError(f"not a tier: {tier_kind!r}")


@dataclass
class StatusFigures:
    """The figures of one (workflow, status) summed over days, channels and locations."""

    workflow: str
    status: str
    count: int = 0
    total_seconds: float = 0.0
    max_seconds: float = 0.0
    warned: int = 0
    escalated: int = 0
    breached: int = 0
    histogram: dict[int, int] = field(default_factory=dict)

    def add(self, row: KpiRow) -> None:
        self.count += row.count
        self.total_seconds += row.total_seconds
        self.max_seconds = max(self.max_seconds, row.max_seconds)
        self.warned += row.warned
        self.escalated += row.escalated
        self.breached += row.breached
        for bucket, n in row.histogram.items():
            self.histogram[bucket] = self.histogram.get(bucket, 0) + n

    def percentile(self, share: float) -> float | None:
        """The stay `share` of all stays are at most (nearest rank), read from the buckets; none without stays."""
        if self.count <= 0:
            return None
        rank = max(1, math.ceil(share * self.count))
        seen = 0
        for bucket in sorted(self.histogram):
            seen += self.histogram[bucket]
            if seen >= rank:
                # No estimate above the longest stay seen: the top bucket holds it.
                return round(min(bucket_middle(bucket), self.max_seconds), 3)
        return round(self.max_seconds, 3)

    def answer(self) -> dict[str, object]:
        return {
            "workflow": self.workflow,
            "status": self.status,
            "count": self.count,
            "p50_seconds": self.percentile(0.5),
            "p90_seconds": self.percentile(0.9),
            "max_seconds": round(self.max_seconds, 3) if self.count else None,
            "mean_seconds": round(self.total_seconds / self.count, 3) if self.count else None,
            "warnings": self.warned,
            "escalations": self.escalated,
            "breaches": self.breached,
        }


@dataclass(frozen=True)
class KpiRow:
    """One stored aggregate: a day's figures of (workflow, status, channel, location)."""

    workflow: str
    status: str
    channel: str
    location: str
    count: int
    total_seconds: float
    max_seconds: float
    warned: int
    escalated: int
    breached: int
    histogram: Mapping[int, int]


def status_figures(rows: Iterable[KpiRow]) -> list[StatusFigures]:
    """The rows summed per (workflow, status), in workflow then status order."""
    figures: dict[tuple[str, str], StatusFigures] = {}
    for row in rows:
        key = (row.workflow, row.status)
        figures.setdefault(key, StatusFigures(row.workflow, row.status)).add(row)
    return [figures[key] for key in sorted(figures)]


MAX_RANGE_DAYS = 92


def report_days(first: date, last: date, today: date) -> list[date]:
    """The UTC days a report covers, `first` to `last` both included: at most 92 of them, none after today."""
    problems = []
    if first > last:
        problems.append(Problem(("from",), "from is after to", part="query"))
    elif (last - first).days + 1 > MAX_RANGE_DAYS:
        problems.append(Problem(("to",), f"the range is longer than {MAX_RANGE_DAYS} days", part="query"))
    if problems:
        raise Unprocessable("the report's range is not valid", problems)
    last = min(last, today)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# ------------------------------------------------------------------ marketplace risk

RiskFact = Literal["accepted", "seller_cancelled", "shipped", "shipped_late"]
RISK_FACTS: tuple[RiskFact, ...] = ("accepted", "seller_cancelled", "shipped", "shipped_late")


@dataclass(frozen=True)
class Measure:
    """A share of one fact in another, e.g. seller-fault cancellations of accepted orders."""

    name: str
    part: RiskFact
    whole: RiskFact


CANCELLATIONS = Measure("seller_cancelled_share", "seller_cancelled", "accepted")
LATE_SHIPMENTS = Measure("late_shipment_share", "shipped_late", "shipped")


@dataclass(frozen=True)
class Band:
    """One band of a marketplace's scale: the shares up to `upto` (included) above the band before."""

    upto: float
    name: str


@dataclass(frozen=True)
class Scale:
    """A marketplace's published scale for one measure: its window, its bands (the first one is where nothing
    is charged or limited) and where it is published."""

    measure: Measure
    window_days: int
    bands: tuple[Band, ...]
    source: str

    def band(self, share: float) -> Band:
        return next((band for band in self.bands if share <= band.upto), self.bands[-1])


# Ozon's error index: seller-fault cancellations of the shipments due over the last 14 days; above 4 % each
# such cancellation is charged, from 3 % of its price (blue) to 9 % and a possible block (red).
OZON_ERROR_INDEX = Scale(
    CANCELLATIONS,
    14,
    (Band(0.04, "green"), Band(0.10, "blue"), Band(0.20, "yellow"), Band(0.40, "orange"), Band(1.0, "red")),
    "https://docs.ozon.com/global/en/commissions/ozon-fees/fines",
)
_YANDEX_QUALITY = "https://www.yandex.com/support/global-marketplace/en/quality/quality-score"
# Yandex Market's quality index: the index range each share of the last 7 days' orders allows (below 40 the
# store is switched off).
YANDEX_LATE_SHIPMENTS = Scale(
    LATE_SHIPMENTS,
    7,
    (Band(0.03, "index 95-100"), Band(0.14, "index 80-94"), Band(0.49, "index 40-79"), Band(1.0, "index 0-39")),
    _YANDEX_QUALITY,
)
YANDEX_CANCELLATIONS = Scale(
    CANCELLATIONS,
    7,
    (Band(0.01, "index 95-100"), Band(0.06, "index 80-94"), Band(0.24, "index 40-79"), Band(1.0, "index 0-39")),
    _YANDEX_QUALITY,
)
SCALES: dict[str, tuple[Scale, ...]] = {
    "ozon": (OZON_ERROR_INDEX,),
    "yandex_market": (YANDEX_LATE_SHIPMENTS, YANDEX_CANCELLATIONS),
}
UNSCALED_WINDOW_DAYS = 14  # a channel of a kind with no published scale: both shares over 14 days
RISK_DAYS = max(UNSCALED_WINDOW_DAYS, *(scale.window_days for scales in SCALES.values() for scale in scales))


def _assessed(
    measure: Measure, days: Mapping[date, Mapping[str, int]], today: date, window_days: int, scale: Scale | None
) -> dict[str, Any]:
    """The measure over the `window_days` ending today (today so far included: the hub warns before the
    marketplace's daily figure moves), graded on the scale if there is one."""
    first = today - timedelta(days=window_days - 1)
    part, whole = (
        sum(c.get(fact, 0) for day, c in days.items() if first <= day <= today)
        for fact in (measure.part, measure.whole)
    )
    share = round(part / whole, 4) if whole else None
    answer: dict[str, Any] = {
        "measure": measure.name,
        measure.part: part,
        measure.whole: whole,
        "share": share,
        "window": {"from": first.isoformat(), "to": today.isoformat()},
    }
    if scale is not None:
        answer["threshold"] = scale.bands[0].upto
        answer["over_threshold"] = share is not None and share > scale.bands[0].upto
        answer["band"] = None if share is None else scale.band(share).name
        answer["source"] = scale.source
    return answer


def channel_risk(kind: str, days: Mapping[date, Mapping[str, int]], today: date) -> list[dict[str, Any]]:
    """A channel's risk measures from its facts per day: graded on its marketplace's published scales, or both
    shares ungraded for a kind without one."""
    scales = SCALES.get(kind)
    if scales is None:
        return [_assessed(m, days, today, UNSCALED_WINDOW_DAYS, None) for m in (CANCELLATIONS, LATE_SHIPMENTS)]
    return [_assessed(scale.measure, days, today, scale.window_days, scale) for scale in scales]
