"""AWS clients, created on first use and cached per container (never at import time)."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

# Adaptive retries absorb DynamoDB and Step Functions throttling inside the SDK; short timeouts keep
# a slow dependency from eating the whole API Gateway budget (29 s). The pool holds a connection for each of
# the SLA monitor's looks and its own reads at once (urllib3 drops, with a warning, what does not fit).
_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 5}, connect_timeout=2, read_timeout=5, max_pool_connections=16
)


class _Client:
    """One client per service, made at first use. Clients are safe to share between threads; making them
    from boto3's default session is not, so the first use is made under a lock (the SLA monitor looks at
    orders from several threads)."""

    _lock = threading.Lock()

    def __init__(self, service: str) -> None:
        self.service = service
        self._client: Any = None

    def __call__(self) -> Any:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = boto3.client(self.service, config=_CONFIG)
                client = self._client
        return client

    def cache_clear(self) -> None:
        with self._lock:  # after a client being made meanwhile, which would otherwise be kept
            self._client = None


dynamodb = _Client("dynamodb")
stepfunctions = _Client("stepfunctions")
events = _Client("events")
ssm = _Client("ssm")
sqs = _Client("sqs")
sesv2 = _Client("sesv2")


def reset() -> None:
    """Forget cached clients (a new moto mock, a new process-wide environment)."""
    for factory in (dynamodb, stepfunctions, events, ssm, sqs, sesv2):
        factory.cache_clear()
