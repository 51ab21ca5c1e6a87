"""AWS clients, created on first use and cached per container (never at import time)."""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

# Adaptive retries absorb DynamoDB and Step Functions throttling inside the SDK; short timeouts keep
# a slow dependency from eating the whole API Gateway budget (29 s).
_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 5}, connect_timeout=2, read_timeout=5)


@functools.cache
def dynamodb() -> Any:
    return boto3.client("dynamodb", config=_CONFIG)


@functools.cache
def stepfunctions() -> Any:
    return boto3.client("stepfunctions", config=_CONFIG)


@functools.cache
def events() -> Any:
    return boto3.client("events", config=_CONFIG)


@functools.cache
def ssm() -> Any:
    return boto3.client("ssm", config=_CONFIG)


@functools.cache
def sqs() -> Any:
    return boto3.client("sqs", config=_CONFIG)


@functools.cache
def sesv2() -> Any:
    return boto3.client("sesv2", config=_CONFIG)


def reset() -> None:
    """Forget cached clients (a new moto mock, a new process-wide environment)."""
    for factory in (dynamodb, stepfunctions, events, ssm, sqs, sesv2):
        factory.cache_clear()
