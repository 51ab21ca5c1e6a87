"""Shared building blocks: webhook signatures, location working hours, publishing domain events."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError

from common import aws, events
from common.config import settings
from common.models import LocationIn
from common.signatures import hmac_sha256_hex, signature_matches, token_matches


def test_signature_accepts_only_the_hmac_of_the_exact_body() -> None:
    body = b'{"order": 1}'
    good = hmac_sha256_hex("s3cret-value", body)
    assert signature_matches("s3cret-value", body, f"sha256={good}")
    assert signature_matches("s3cret-value", body, good.upper())
    assert not signature_matches("s3cret-value", body + b" ", f"sha256={good}")
    assert not signature_matches("other-secret", body, f"sha256={good}")
    assert not signature_matches("s3cret-value", body, None)
    assert token_matches("tok-123456", "tok-123456")
    assert not token_matches("tok-123456", "tok-12345")
    assert not token_matches("tok-123456", None)


def test_working_hours_must_close_after_they_open() -> None:
    store = LocationIn.model_validate(
        {
            "name": "S",
            "kind": "store",
            "working_hours": {"mon": {"opens": "10:00", "closes": "22:00"}},
            "cutoff": "18:00",
        }
    )
    assert store.working_hours["mon"].closes.hour == 22
    with pytest.raises(ValidationError):
        LocationIn.model_validate(
            {"name": "S", "kind": "store", "working_hours": {"mon": {"opens": "22:00", "closes": "10:00"}}}
        )
    with pytest.raises(ValidationError):
        LocationIn.model_validate(
            {"name": "S", "kind": "store", "working_hours": {"monday": {"opens": "10:00", "closes": "22:00"}}}
        )


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
