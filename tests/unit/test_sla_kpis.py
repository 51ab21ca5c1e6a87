"""Time in status and marketplace risk as pure figures: the histogram's buckets, percentiles read from them,
the report's range, and the marketplaces' bands."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from common.errors import Unprocessable
from sla_monitor.domain import kpis
from sla_monitor.domain.kpis import KpiRow, StatusFigures, Stay, bucket_middle, bucket_of, channel_risk


def test_the_buckets_cover_one_second_to_400_days_each_5_percent_wider() -> None:
    assert kpis.LOG_BUCKETS == 356
    assert bucket_of(0) == bucket_of(0.999) == 0
    assert bucket_of(1) == 1
    assert bucket_of(1.0499) == 1 and bucket_of(1.0501) == 2
    assert bucket_of(400 * 86_400 - 1) == kpis.LOG_BUCKETS
    assert bucket_of(10**12) == kpis.OVERFLOW
    # Every value of a bucket is within the stated relative error of the value it is read as.
    for seconds in (1.0, 3.3, 59.9, 3_600, 86_400 * 3.7, 86_400 * 399):
        middle = bucket_middle(bucket_of(seconds))
        assert abs(middle - seconds) / seconds <= kpis.RESOLUTION["relative_error"] + 1e-9, seconds


def _figures(stays: list[float]) -> StatusFigures:
    histogram: dict[int, int] = {}
    for seconds in stays:
        histogram[bucket_of(seconds)] = histogram.get(bucket_of(seconds), 0) + 1
    figures = StatusFigures("courier", "confirmed")
    figures.add(KpiRow("courier", "confirmed", "web", "wh-1", len(stays), sum(stays), max(stays), 0, 0, 0, histogram))
    return figures


def test_percentiles_from_the_buckets_are_within_the_resolution_of_the_exact_ones() -> None:
    rng = random.Random(15)  # noqa: S311 - reproducible test data, no secret
    stays = [rng.lognormvariate(math.log(1_800), 1.2) for _ in range(5_000)]
    figures = _figures(stays)
    ordered = sorted(stays)
    for share in (0.5, 0.9):
        exact = ordered[math.ceil(share * len(ordered)) - 1]
        estimate = figures.percentile(share)
        assert estimate is not None
        assert abs(estimate - exact) / exact <= kpis.RESOLUTION["relative_error"] + 1e-9, (share, estimate, exact)


def test_a_percentile_never_exceeds_the_longest_stay_and_none_without_stays() -> None:
    figures = _figures([100.0, 100.0, 100.0])
    assert figures.percentile(0.9) == 100.0  # the bucket's middle (102.x) is above the max: the max
    assert StatusFigures("courier", "confirmed").percentile(0.5) is None
    assert StatusFigures("courier", "confirmed").answer()["max_seconds"] is None


def test_rows_are_summed_per_workflow_and_status_over_channels_locations_and_days() -> None:
    rows = [
        KpiRow("courier", "picked", "web", "wh-1", 2, 20.0, 15.0, 1, 0, 0, {bucket_of(5): 1, bucket_of(15): 1}),
        KpiRow("courier", "picked", "ozon", "st-1", 1, 40.0, 40.0, 0, 1, 1, {bucket_of(40): 1}),
        KpiRow("courier", "confirmed", "web", "wh-1", 0, 0.0, 0.0, 1, 0, 0, {}),  # warned, not left yet
    ]
    answers = [f.answer() for f in kpis.status_figures(rows)]
    assert [(a["status"], a["count"], a["warnings"], a["escalations"], a["breaches"]) for a in answers] == [
        ("confirmed", 0, 1, 0, 0),
        ("picked", 3, 1, 1, 1),
    ]
    assert answers[1]["max_seconds"] == 40.0 and answers[1]["mean_seconds"] == 20.0
    assert answers[0]["p50_seconds"] is None


def test_a_stay_is_counted_on_the_day_it_ended_and_never_negative() -> None:
    entered = datetime(2026, 12, 1, 23, 50, tzinfo=UTC)
    stay = Stay("courier", "picked", "web", None, entered, entered + timedelta(minutes=20))
    assert stay.day == date(2026, 12, 2) and stay.seconds == 1_200
    assert Stay("courier", "picked", "web", None, entered, entered - timedelta(milliseconds=3)).seconds == 0


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [(date(2026, 12, 2), date(2026, 12, 1), "from"), (date(2026, 8, 31), date(2026, 12, 1), "to")],
)
def test_a_report_range_backwards_or_longer_than_92_days_is_refused(first: date, last: date, field: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        kpis.report_days(first, last, date(2026, 12, 3))
    assert [p.field for p in refused.value.problems] == [(field,)]


def test_a_report_range_of_92_days_is_taken_and_stops_at_today() -> None:
    days = kpis.report_days(date(2026, 9, 3), date(2026, 12, 3), date(2026, 12, 3))
    assert len(days) == 92 and days[-1] == date(2026, 12, 3)
    assert kpis.report_days(date(2026, 12, 1), date(2026, 12, 31), date(2026, 12, 3))[-1] == date(2026, 12, 3)


@pytest.mark.parametrize(
    ("kind", "cancelled", "late", "bands"),
    [
        ("ozon", 4, 0, ["green"]),  # 4 % is still Ozon's green zone
        ("ozon", 5, 0, ["blue"]),
        ("ozon", 41, 0, ["red"]),
        ("yandex_market", 1, 3, ["index 95-100", "index 95-100"]),
        ("yandex_market", 2, 4, ["index 80-94", "index 80-94"]),
        ("yandex_market", 25, 50, ["index 0-39", "index 0-39"]),
    ],
)
def test_marketplace_shares_are_graded_on_their_published_bands(
    kind: str, cancelled: int, late: int, bands: list[str]
) -> None:
    today = date(2026, 12, 3)
    facts = {today: {"accepted": 100, "seller_cancelled": cancelled, "shipped": 100, "shipped_late": late}}
    measures = channel_risk(kind, facts, today)
    assert [m["band"] for m in measures] == list(reversed(bands)) if kind == "yandex_market" else bands
    ozon = measures[0]
    if kind == "ozon":
        assert ozon["measure"] == "seller_cancelled_share" and ozon["share"] == cancelled / 100
        assert ozon["threshold"] == 0.04 and ozon["over_threshold"] is (cancelled > 4)


def test_the_windows_are_14_days_for_ozon_and_7_for_yandex_market_today_included() -> None:
    today = date(2026, 12, 3)
    facts = {
        today - timedelta(days=n): {"accepted": 10, "seller_cancelled": 1, "shipped": 10, "shipped_late": 1}
        for n in range(20)
    }
    ozon = channel_risk("ozon", facts, today)[0]
    assert (ozon["accepted"], ozon["seller_cancelled"]) == (140, 14)
    assert ozon["window"] == {"from": "2026-11-20", "to": "2026-12-03"}
    late, cancelled = channel_risk("yandex_market", facts, today)
    assert (late["shipped"], late["shipped_late"], late["share"]) == (70, 7, 0.1)
    assert cancelled["measure"] == "seller_cancelled_share"


def test_a_channel_without_a_published_scale_gets_both_shares_ungraded_and_none_without_orders() -> None:
    measures = channel_risk("web", {}, date(2026, 12, 3))
    assert [m["measure"] for m in measures] == ["seller_cancelled_share", "late_shipment_share"]
    assert all(m["share"] is None and "band" not in m for m in measures)


def test_a_fired_tier_counts_as_a_warning_an_escalation_or_a_breach() -> None:
    assert [kpis.tier_counter(t) for t in ("warn", "escalate_1", "escalate_3", "breach")] == [
        "warned",
        "escalated",
        "escalated",
        "breached",
    ]
    with pytest.raises(ValueError):
        kpis.tier_counter("start")
