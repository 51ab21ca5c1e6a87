"""Lambda's event sources, locally: an SQS queue poller and a DynamoDB stream reader per event source
the template declares, each on its own thread, invoking its function as Lambda would."""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any, Protocol

from oms_local.invocation import run_on_this_thread_as
from oms_local.moto_patches import Deliverables, moto_lock
from oms_local.template import ACCOUNT, LocalTemplate, QueueSource, StreamSource, queue_url


class Invoker(Protocol):
    """What an event source needs of the hub."""

    @property
    def template(self) -> LocalTemplate: ...

    @property
    def queue_retry_seconds(self) -> int | None: ...

    @property
    def retry_time_scale(self) -> float: ...

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any: ...


class _EventSource:
    """One event source's thread: started with the hub, stopped (and woken, if it waits) with it."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.invocations = 0

    def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        Deliverables.wake()
        self._thread.join(timeout=10)


class QueuePoller(_EventSource):
    """Lambda's SQS event source, locally: batches of up to BatchSize messages to the function (filled for
    up to MaximumBatchingWindowInSeconds from the first message); with ReportBatchItemFailures only the
    reported messages stay (the rest are deleted), without it a failed invocation keeps the whole batch.
    A kept message comes back after the visibility timeout, and moto moves it to the dead-letter queue
    once its receive count passes maxReceiveCount."""

    # An idle poller waits for a send (Deliverables); this long at most, for a message whose delay or
    # visibility timeout ran out, which no write announces.
    IDLE_SECONDS = 1.0

    RECEIVE_MAX = 10  # SQS's most messages per ReceiveMessage: a larger BatchSize takes several

    def __init__(self, hub: Invoker, source: QueueSource) -> None:
        super().__init__(f"sqs-{source.function}")
        self.hub = hub
        self.source = source
        self.url = queue_url(hub.template.region, source.queue_arn.rsplit(":", 1)[-1])
        self._open = threading.Event()
        self._open.set()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """No batch is taken while held (the event source mapping disabled, as UpdateEventSourceMapping
        Enabled=false does on AWS): what is sent meanwhile waits in the queue and comes out in full batches."""
        self._open.clear()
        try:
            yield
        finally:
            self._open.set()
            Deliverables.wake()

    def _receive(self, sqs: Any) -> list[dict[str, Any]]:
        """Up to BatchSize messages: more receives while the batch window, from the first message, lasts."""
        batch: list[dict[str, Any]] = []
        deadline = math.inf
        while len(batch) < self.source.batch_size and not self._stop.is_set():
            looked = Deliverables.generation("sqs")
            got = sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=min(self.source.batch_size - len(batch), self.RECEIVE_MAX),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            batch += got
            if batch and deadline == math.inf:
                deadline = time.monotonic() + self.source.window_seconds
            left = deadline - time.monotonic()
            if not batch or left <= 0:
                break
            if not got:
                Deliverables.wait("sqs", looked, left)
        return batch

    def _run(self) -> None:
        import boto3

        # Lambda's event source polls with the function's role (SAM's SQSPollerPolicy), not inside it.
        run_on_this_thread_as(f"event-source:{self.source.function}")
        sqs = boto3.client("sqs", region_name=self.hub.template.region)
        while not self._stop.is_set():
            looked = Deliverables.generation("sqs")
            if not self._open.is_set():
                Deliverables.wait("sqs", looked, self.IDLE_SECONDS)
                continue
            try:
                messages = self._receive(sqs)
            except Exception:  # noqa: BLE001 - the mock is stopping under us
                return
            if not messages:
                Deliverables.wait("sqs", looked, self.IDLE_SECONDS)
                continue
            failed = self._deliver(messages)
            for message in messages:
                if message["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
                elif self.hub.queue_retry_seconds is not None:
                    sqs.change_message_visibility(
                        QueueUrl=self.url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=self.hub.queue_retry_seconds,
                    )

    def _deliver(self, messages: list[dict[str, Any]]) -> set[str]:
        """Invoke the function with one batch; the ids of the messages that must stay in the queue."""
        region = self.hub.template.region
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": m.get("MessageAttributes", {}),
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.source.queue_arn,
                    "awsRegion": region,
                }
                for m in messages
            ]
        }
        self.invocations += 1
        try:
            answer = self.hub.invoke(self.source.function, event)
        except Exception:  # noqa: BLE001 - a failed invocation keeps the whole batch, as on AWS
            traceback.print_exc()
            return {m["MessageId"] for m in messages}
        if not self.source.report_failures:
            return set()
        return {f["itemIdentifier"] for f in (answer or {}).get("batchItemFailures", [])}


class _Stream:
    """The table's stream as the reader sees it, read from after the last record it read."""

    def __init__(self, region: str, table: str) -> None:
        import boto3
        from botocore.config import Config

        # botocore sends stream calls to an account-based endpoint (<account>.streams-ddb...) that moto
        # 5.2 does not route; the regional endpoint is the same API.
        self._client = boto3.client(
            "dynamodbstreams", region_name=region, config=Config(account_id_endpoint_mode="disabled")
        )
        self.arn: str = boto3.client("dynamodb", region_name=region).describe_table(TableName=table)["Table"][
            "LatestStreamArn"
        ]
        self.shard: str = self._client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.read_up_to: str | None = None  # sequence number of the last record read

    def read(self, limit: int) -> list[dict[str, Any]]:
        # A fresh iterator each time: moto replaces the table (and its stream shard) with a copy when a
        # transaction fails, and an old iterator would go on reading the abandoned shard.
        position = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.read_up_to}
            if self.read_up_to
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = self._client.get_shard_iterator(StreamArn=self.arn, ShardId=self.shard, **position)["ShardIterator"]
        records: list[dict[str, Any]] = self._client.get_records(ShardIterator=iterator, Limit=limit)["Records"]
        if records:
            self.read_up_to = records[-1]["dynamodb"]["SequenceNumber"]
        return records


class StreamPoller(_EventSource):
    """Lambda's DynamoDB stream event source, locally: reads the table's stream in order and invokes the
    function with batches of up to BatchSize records, waiting up to MaximumBatchingWindowInSeconds to fill
    one. A batch whose invocation fails is tried again, up to MaximumRetryAttempts more times, then its
    shard and sequence range go to the OnFailure queue and reading goes on. (AWS also halves a failing
    batch when BisectBatchOnFunctionError is set; here the whole batch is retried.)

    moto keeps every stream record for ever; records are dropped here once delivered, as DynamoDB drops
    them after 24 hours, so a long local run or a 100,000-row import does not hold them all."""

    IDLE_SECONDS = 1.0  # an idle reader waits for a table write (Deliverables), looking again this often
    WINDOW_POLL_SECONDS = 0.05  # how often a batch being filled within its batching window looks again
    RETRY_SECONDS = 0.2

    def __init__(self, hub: Invoker, source: StreamSource) -> None:
        super().__init__(f"stream-{source.function}")
        self.hub = hub
        self.source = source
        self._idle = threading.Event()
        self.records = 0

    @property
    def thread_id(self) -> int | None:
        return self._thread.ident

    def caught_up(self) -> bool:
        """Every record written so far has been delivered (or given up on)."""
        if not self._thread.is_alive():
            raise RuntimeError(f"the stream reader of {self.source.function} has stopped")
        return self._idle.is_set() and not self._pending()

    def _shard(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[ACCOUNT][self.hub.template.region].get_table(self.source.table).stream_shard

    def _pending(self) -> int:
        """Records to deliver; with FilterCriteria only those it lets through (the others are read and
        dropped with the next batch, and never hold a batching window open, as on AWS)."""
        with moto_lock:
            items = self._shard().items
            if self.source.event_names is None:
                return len(items)
            return sum(1 for item in items if item.record["eventName"] in self.source.event_names)

    def _run(self) -> None:
        # Lambda reads the stream with the function's role (SAM adds it with the event source).
        run_on_this_thread_as(f"event-source:{self.source.function}")
        stream = _Stream(self.hub.template.region, self.source.table)
        while not self._stop.is_set():
            try:
                batch = self._next_batch(stream)
            except Exception:  # noqa: BLE001 - the mock is stopping under us
                return
            if batch:
                self._deliver(batch, stream.arn, stream.shard)
                self._forget(batch)

    def _next_batch(self, stream: _Stream) -> list[dict[str, Any]]:
        """Up to BatchSize records, waiting up to the batching window from the first one. Until the window
        closes or a full batch is there, only the shard's length is looked at (in memory, under moto's
        lock): the stream is read once per batch, not twice per look (0.05 s) through the API."""
        batch: list[dict[str, Any]] = []
        deadline = None
        while len(batch) < self.source.batch_size and not self._stop.is_set():
            looked = Deliverables.generation("dynamodb")
            if deadline is None and not self._pending():
                self._idle.set()
                Deliverables.wait("dynamodb", looked, self.IDLE_SECONDS)
                continue
            self._idle.clear()
            deadline = deadline or time.monotonic() + self.source.window_seconds
            if time.monotonic() < deadline and self._pending() < self.source.batch_size:
                self._stop.wait(min(self.WINDOW_POLL_SECONDS, max(deadline - time.monotonic(), 0)))
                continue
            batch += stream.read(self.source.batch_size - len(batch))
            self._forget_iterators(stream)
            if time.monotonic() >= deadline:
                break
        return batch

    def _deliver(self, records: list[dict[str, Any]], arn: str, shard: str) -> None:
        if self.source.event_names is not None:  # FilterCriteria: the others are never delivered (nor retried)
            records = [record for record in records if record.get("eventName") in self.source.event_names]
            if not records:
                return
        event = {
            "Records": [{**record, "awsRegion": self.hub.template.region, "eventSourceARN": arn} for record in records]
        }
        attempts = 1 + max(self.source.max_retries, 0)
        for attempt in range(attempts):
            self.invocations += 1
            try:
                self.hub.invoke(self.source.function, event)
            except Exception:  # noqa: BLE001 - a failed batch is retried, then given up on
                traceback.print_exc()
                if attempt + 1 < attempts:
                    self._stop.wait(self.RETRY_SECONDS * self.hub.retry_time_scale)
            else:
                self.records += len(records)
                return
        if self.source.on_failure_arn:
            self._give_up(self.source.on_failure_arn, records, arn, shard, attempts)

    def _give_up(self, on_failure_arn: str, records: list[dict[str, Any]], arn: str, shard: str, attempts: int) -> None:
        """The batch's shard and sequence range to the OnFailure queue, as Lambda sends them."""
        import boto3

        region = self.hub.template.region
        sequence = [record["dynamodb"]["SequenceNumber"] for record in records]
        function = self.hub.template.functions[self.source.function].name
        boto3.client("sqs", region_name=region).send_message(
            QueueUrl=queue_url(region, on_failure_arn.rsplit(":", 1)[-1]),
            MessageBody=json.dumps(
                {
                    "requestContext": {
                        "condition": "RetryAttemptsExhausted",
                        "approximateInvokeCount": attempts,
                        "functionArn": f"arn:aws:lambda:{region}:{ACCOUNT}:function:{function}",
                    },
                    "DDBStreamBatchInfo": {
                        "shardId": shard,
                        "startSequenceNumber": sequence[0],
                        "endSequenceNumber": sequence[-1],
                        "batchSize": len(records),
                        "streamArn": arn,
                    },
                }
            ),
        )

    def _forget_iterators(self, stream: _Stream) -> None:
        """moto keeps every shard iterator it hands out (two per read here, twenty reads a second when
        idle): without this a day of `oms-hub local` would hold gigabytes of them. Only this reader's
        (named after its stream): another table's reader may be between getting one and reading."""
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        with moto_lock:
            iterators = dynamodbstreams_backends[ACCOUNT][self.hub.template.region].shard_iterators
            for name in [name for name in iterators if name.startswith(f"{stream.arn}|")]:
                del iterators[name]

    def _forget(self, records: list[dict[str, Any]]) -> None:
        last = int(records[-1]["dynamodb"]["SequenceNumber"])
        with moto_lock:
            shard = self._shard()
            delivered = last + 1 - shard.starting_sequence_number
            if delivered > 0:
                del shard.items[:delivered]
                shard.starting_sequence_number += delivered
