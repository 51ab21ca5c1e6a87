"""The functions' AWS clients: one per service however many threads ask for it at once (the SLA monitor's
looks), and a reset that no client being made at that moment outlives."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest

from common import aws


@pytest.fixture(autouse=True)
def region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    aws.reset()


def test_threads_asking_at_once_share_one_client(monkeypatch: pytest.MonkeyPatch) -> None:
    made = boto3.client
    gate = threading.Barrier(8)

    def slow_client(*args: Any, **kwargs: Any) -> Any:
        threading.Event().wait(0.05)  # making a client takes a while: every thread arrives meanwhile
        return made(*args, **kwargs)

    monkeypatch.setattr(boto3, "client", slow_client)
    got: list[Any] = []

    def ask() -> None:
        gate.wait()
        got.append(aws.sqs())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 8 and len({id(client) for client in got}) == 1


def test_a_reset_while_a_client_is_being_made_is_not_undone(monkeypatch: pytest.MonkeyPatch) -> None:
    made = boto3.client
    making, reset = threading.Event(), threading.Event()

    def slow_client(*args: Any, **kwargs: Any) -> Any:
        making.set()
        reset.wait(1)  # the reset is asked for while this client is being made
        return made(*args, **kwargs)

    monkeypatch.setattr(boto3, "client", slow_client)
    first: list[Any] = []
    maker = threading.Thread(target=lambda: first.append(aws.ssm()))
    maker.start()
    making.wait(1)
    resetter = threading.Thread(target=aws.reset)
    resetter.start()
    resetter.join(0.2)  # time for the reset to be made (or, as it is, to wait for the client being made)
    reset.set()
    maker.join()
    resetter.join()
    monkeypatch.setattr(boto3, "client", made)
    assert aws.ssm() is not first[0]  # the client made before the reset is not the one kept
