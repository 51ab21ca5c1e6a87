"""The local runtime reads the template's Schedule/ScheduleV2 events and fires them as EventBridge would."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oms_local.template import Schedule, load

ROOT = Path(__file__).parents[2]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("rate(5 minutes)", "2026-11-25T10:00:30", "2026-11-25T10:05:30"),
        ("rate(1 hour)", "2026-11-25T10:00:00", "2026-11-25T11:00:00"),
        ("rate(2 days)", "2026-11-25T10:00:00", "2026-11-27T10:00:00"),
        ("cron(0/15 * * * ? *)", "2026-11-25T10:07:10", "2026-11-25T10:15:00"),
        ("cron(30 2 * * ? *)", "2026-11-25T10:00:00", "2026-11-26T02:30:00"),
        # AWS counts days of the week 1-7 from Sunday: 2 is Monday (2026-11-30), 6#1 the first Friday.
        ("cron(0 9 ? * 2 *)", "2026-11-25T10:00:00", "2026-11-30T09:00:00"),
        ("cron(0 9 ? * 6#1 *)", "2026-11-25T10:00:00", "2026-12-04T09:00:00"),
        ("cron(0 9 ? * MON-FRI *)", "2026-11-27T10:00:00", "2026-11-30T09:00:00"),
    ],
)
def test_rate_and_cron_expressions(expression: str, after: str, expected: str) -> None:
    assert Schedule("s", "F", expression, None).next_after(_at(after)) == _at(expected)


@pytest.mark.parametrize("expression", ["rate(5 fortnights)", "cron(0 9 * * *)", "cron(0 9 ? * * 2027)", "at(x)"])
def test_expressions_the_runtime_cannot_run_fail_loudly(expression: str) -> None:
    with pytest.raises(ValueError):
        Schedule("s", "F", expression, None).next_after(_at("2026-11-25T10:00:00"))


def test_schedule_and_schedule_v2_events_are_read_and_disabled_ones_skipped(tmp_path: Path) -> None:
    text = (ROOT / "template.yaml").read_text()
    extra = textwrap.indent(
        textwrap.dedent("""
        Reconcile:
          Type: AWS::Serverless::Function
          Properties:
            Handler: orders.handlers.hold_sweeper.handler
            Events:
              Hourly:
                Type: ScheduleV2
                Properties: {ScheduleExpression: "cron(0 * * * ? *)", Input: '{"scope": "all"}'}
              Paused: {Type: ScheduleV2, Properties: {ScheduleExpression: "rate(1 hour)", State: DISABLED}}
              Off: {Type: Schedule, Properties: {Schedule: "rate(1 hour)", Enabled: false}}
        """),
        "  ",
    )
    (tmp_path / "template.yaml").write_text(text.replace("\nOutputs:", extra + "\nOutputs:"))
    (tmp_path / "state_machines").symlink_to(ROOT / "state_machines")
    schedules = {s.name: s for s in load(tmp_path / "template.yaml").schedules}
    assert set(schedules) == {
        "HoldSweeperFunction.Sweep",
        "PartnerPollFunction.EveryFiveMinutes",
        "SlaMonitorFunction.Scan",
        "StockPushFunction.Reconcile",
        "Reconcile.Hourly",
    }
    assert schedules["StockPushFunction.Reconcile"].expression == "rate(1 day)"  # the parameter's default
    assert schedules["Reconcile.Hourly"].payload == {"scope": "all"}
    assert schedules["HoldSweeperFunction.Sweep"].payload is None
    assert schedules["HoldSweeperFunction.Sweep"].expression == "rate(5 minutes)"
