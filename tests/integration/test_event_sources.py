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
        time.sleep(2)
        idle_receives = len(receives) - looked_before
        # Polling every 0.05 s, a queue's poller asked about 40 times in 2 s; a waiting one looks again only
        # after its 1 s timeout.
        assert idle_receives <= 3 * len(hub.template.queue_sources), idle_receives
        sqs = boto3.client("sqs", region_name=hub.template.region)
        name = queue.queue_arn.rsplit(":", 1)[-1]
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"], MessageBody="{}")
        assert delivered.wait(timeout=10)  # the send woke the poller (a malformed body is the handler's to refuse)
