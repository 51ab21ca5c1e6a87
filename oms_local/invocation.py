"""Lambda handlers run in-process: the handler each function name dispatches to, the context object a
handler receives, and which function is running (the least-privilege test attributes
AWS calls to it)."""

from __future__ import annotations

import contextvars
import os
import time
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from oms_local.template import ACCOUNT

Handler = Callable[[dict[str, Any], Any], Any]

# Function name (as moto's Lambda backend is asked for it) -> the handler that answers.
handlers: dict[str, Handler] = {}
# A context variable, not a thread's own: a handler that hands work to threads of its own with a copy of its
# context (contextvars.copy_context) still acts as its function there. A new thread starts without one.
_running: contextvars.ContextVar[str | None] = contextvars.ContextVar("oms_running_function", default=None)


def running_function() -> str | None:
    """The function whose handler runs here (None outside handlers: callers, the state machine)."""
    return _running.get()


def run_on_this_thread_as(name: str) -> None:
    """This thread acts for `name` from now on (an event source polls with its function's role)."""
    _running.set(name)


def run_as(name: str, target: Handler, event: Any, context: Any) -> Any:
    token = _running.set(name)
    try:
        return target(event, context)
    finally:
        _running.reset(token)


def context_for(name: str, timeout_s: int = 30, memory: int = 512) -> Any:
    deadline = time.monotonic() + timeout_s
    region = os.environ.get("AWS_DEFAULT_REGION", "eu-central-1")
    return SimpleNamespace(
        function_name=name,
        function_version="$LATEST",
        memory_limit_in_mb=memory,
        invoked_function_arn=f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}",
        aws_request_id=str(uuid.uuid4()),
        log_group_name=f"/aws/lambda/{name}",
        log_stream_name="local",
        get_remaining_time_in_millis=lambda: max(int((deadline - time.monotonic()) * 1000), 0),
    )
