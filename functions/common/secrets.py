"""Secrets (partner credentials, webhook secrets) from SSM Parameter Store SecureStrings.

Never in code, env values or logs: env holds only the parameter *name*. Warm containers keep a value
for CONFIG_CACHE_SECONDS so a rotated secret is picked up without a deploy.
"""

from __future__ import annotations

import secrets as random_source
import threading
import time

from botocore.exceptions import ClientError

from common import aws
from common.config import settings

_lock = threading.Lock()
_cache: dict[str, tuple[float, str | None]] = {}


def secret(name: str) -> str | None:
    """The decrypted value of parameter `name`, or None when it does not exist."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(name)
        if cached and now - cached[0] < settings().config_cache_seconds:
            return cached[1]
    try:
        value: str | None = aws.ssm().get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ParameterNotFound":
            raise
        value = None
    with _lock:
        _cache[name] = (now, value)
    return value


def generated_secret(name: str) -> str:
    """The value of `name`, created with a random value by whoever needs it first: a key only the hub
    itself uses (nobody has to provision it). Concurrent first users agree: only one creation wins."""
    value = secret(name)
    if value is not None:
        return value
    try:
        aws.ssm().put_parameter(Name=name, Value=random_source.token_urlsafe(32), Type="SecureString", Overwrite=False)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ParameterAlreadyExists":
            raise
    with _lock:
        _cache.pop(name, None)
    created = secret(name)
    if created is None:
        raise LookupError(f"parameter {name} was created but cannot be read")
    return created


def put_secret(name: str, value: str) -> None:
    aws.ssm().put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
    forget()


def forget() -> None:
    with _lock:
        _cache.clear()
