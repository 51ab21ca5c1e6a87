"""Publishing domain events to the event bus (EventBridge on moto): batches of ten, dropped entries raise."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from common import aws, events
from common.config import settings


def test_publish_batches_by_ten_and_raises_on_dropped_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("EVENT_BUS_NAME", "test-bus")
    settings.cache_clear()
    aws.reset()
    with mock_aws():
        boto3.client("events").create_event_bus(Name="test-bus")
        calls: list[int] = []
        real = aws.events().put_events

        def counting(**kwargs: object) -> dict[str, object]:
            calls.append(len(kwargs["Entries"]))  # type: ignore[arg-type]
            return real(**kwargs)

        monkeypatch.setattr(aws.events(), "put_events", counting)
        assert events.publish("StockChanged", [{"sku": f"S{i}"} for i in range(23)]) == 23
        assert calls == [10, 10, 3]

        def dropping(**kwargs: object) -> dict[str, object]:
            return {"FailedEntryCount": 1, "Entries": [{"EventId": "1"}, {"ErrorCode": "ThrottlingException"}]}

        monkeypatch.setattr(aws.events(), "put_events", dropping)
        with pytest.raises(events.EventsNotPublished, match="ThrottlingException"):
            events.publish("StockChanged", [{"sku": "A"}, {"sku": "B"}])
    settings.cache_clear()
    aws.reset()
