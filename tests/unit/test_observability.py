"""Business metrics: counted where metrics are on, neither kept nor printed where they are off."""

from __future__ import annotations

import pytest

from common import observability


@pytest.fixture
def empty_metrics() -> None:
    observability.metrics.clear_metrics()


def test_disabled_metrics_are_neither_kept_nor_printed(
    empty_metrics: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    for _ in range(250):
        observability.count("OrderCreated")
    assert observability.metrics.metric_set == {}
    assert capsys.readouterr().out == ""


def test_enabled_metrics_are_kept_for_the_handlers_flush(empty_metrics: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    observability.count("OrderCreated", 2)
    assert observability.metrics.metric_set["OrderCreated"]["Value"] == [2.0]
    observability.metrics.clear_metrics()
