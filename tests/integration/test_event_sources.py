"""The local event sources wait for writes while idle, and still deliver at once what a write brings."""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
import pytest
from moto.sqs.models import SQSBackend

from oms_local.runtime import LocalHub


def test_an_idle_hub_does_not_poll_its_queues_and_a_message_sent_later_is_still_delivered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    receives: list[str] = []
    original = SQSBackend.receive_message

    def counting(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        receives.append(queue_name)
        return original(self, queue_name, *args, **kwargs)

    monkeypatch.setattr(SQSBackend, "receive_message", counting)
    with LocalHub() as hub:
        queue = next(source for source in hub.template.queue_sources)
        delivered = threading.Event()
        real = hub._handlers[queue.function]

        def spy(event: dict[str, Any], context: object) -> object:
            delivered.set()
            return real(event, context)

        hub._handlers[queue.function] = spy
        time.sleep(0.5)  # the pollers' first looks
        looked_before = len(receives)
        ddb, table = boto3.client("dynamodb"), f"{hub.template.stack}-TasksTable"
        for n in range(20):  # table writes wake stream readers, not queue pollers
            ddb.put_item(TableName=table, Item={"task_id": {"S": f"idle-{n}"}})
            time.sleep(0.1)
        idle_receives = len(receives) - looked_before
        # Polling every 0.05 s, a queue's poller asked about 40 times in 2 s (and once more per table write
        # when any write woke it); a waiting one looks again only after its 1 s timeout.
        assert idle_receives <= 3 * len(hub.template.queue_sources), idle_receives
        sqs = boto3.client("sqs", region_name=hub.template.region)
        name = queue.queue_arn.rsplit(":", 1)[-1]
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"], MessageBody="{}")
        assert delivered.wait(timeout=10)  # the send woke the poller (a malformed body is the handler's to refuse)


def test_a_stream_reader_reads_its_stream_once_per_batch_and_not_at_all_while_idle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    reads: list[str] = []
    original = DynamoDBStreamsBackend.get_records

    def counting(self: Any, iterator_arn: str, *args: Any, **kwargs: Any) -> Any:
        reads.append(iterator_arn)
        return original(self, iterator_arn, *args, **kwargs)

    monkeypatch.setattr(DynamoDBStreamsBackend, "get_records", counting)
    with LocalHub() as hub:
        reader = hub.stream_reader("StockChangesFunction")
        table = f"{hub.template.stack}-StockTable"
        stream_arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]

        def stock_reads() -> int:
            return sum(1 for arn in reads if arn.startswith(stream_arn))

        hub.settle()
        idle_from = stock_reads()
        time.sleep(2.5)
        assert stock_reads() == idle_from  # moto's shard length says there is nothing to read
        ddb = boto3.client("dynamodb")
        delivered = reader.records
        for n in range(5):  # within one batching window (1 s)
            ddb.put_item(TableName=table, Item={"sku": {"S": f"SKU-{n}"}, "location_id": {"S": "wh"}})
        hub.settle()
        assert reader.records - delivered == 5
        # Looking every 0.05 s through the API, the window cost about 20 reads.
        assert stock_reads() - idle_from <= 2, stock_reads() - idle_from
