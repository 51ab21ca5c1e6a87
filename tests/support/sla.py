"""Driving the SLA monitor in tests: one run at a chosen time (the scheduled event's `time`), Step Functions
refusing one start (as when StartExecution failed after intake wrote the order), a staff webhook receiver, and
reading back what the monitor keeps on the order item."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from common import aws
from oms_local.runtime import LocalHub
from tests.fakes.server import serve
from tests.fakes.staff_webhook import PATH, FakeStaffWebhook

SCAN = "SlaMonitorFunction.Scan"


def monitor(hub: LocalHub, at: datetime) -> dict[str, int]:
    """One SLA monitor run, as its schedule would fire it at `at`; what the run counted."""
    outcome: dict[str, int] = hub.fire_schedules(SCAN, at=at)[SCAN]
    return outcome


def order_item(order_id: str) -> dict[str, Any]:
    """The order's item as stored (DynamoDB's typed values): the SLA attributes the API does not show."""
    answer = boto3.client("dynamodb").get_item(
        TableName=os.environ["ORDERS_TABLE"], Key={"pk": {"S": f"ORDER#{order_id}"}}, ConsistentRead=True
    )
    item: dict[str, Any] = answer["Item"]
    return item


def ozon_time(moment: datetime) -> str:
    """A time as Ozon's pushes write it (shipment_date, cutoff dates)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def refuse_one_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next StartExecution fails (ServiceUnavailable); every other call goes to Step Functions."""
    real = aws.stepfunctions()

    class RefusesOneStart:
        refused = False

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def start_execution(self, **request: Any) -> Any:
            if not self.refused:
                self.refused = True
                raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "try later"}}, "StartExecution")
            return real.start_execution(**request)

    refusing = RefusesOneStart()
    monkeypatch.setattr(aws, "stepfunctions", lambda: refusing)


@contextmanager
def staff_webhook(secret: str) -> Iterator[tuple[FakeStaffWebhook, str]]:
    """A staff webhook receiver on 127.0.0.1 checking posts signed with `secret`, and the url to give a role."""
    fake = FakeStaffWebhook(secret)
    with serve(fake.app()) as url:
        yield fake, url + PATH
