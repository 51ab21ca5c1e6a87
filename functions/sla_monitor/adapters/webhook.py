"""A role's outgoing webhook (docs/notifications.md, "Staff notifications"): one signed POST, no retry here
(the monitor's next run is the retry). An answer says whether the receiver took it, refused it, or could not
be reached; never the URL in a reason (a chat tool's URL is often its credential)."""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
from typing import Literal

import httpx

Delivery = Literal["accepted", "refused", "unavailable"]
# The monitor posts to every role it tells within one run: a receiver that hangs must not hold the run.
TIMEOUT = httpx.Timeout(5.0, connect=2.0)
LATER = frozenset({408, 425, 429})  # client errors that say "not now" rather than "not this"


_posting = contextvars.ContextVar("_posting", default=False)


class _NotWhilePosting(logging.Filter):
    """httpx logs every request's URL at INFO: not this one's."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _posting.get()


_making = threading.Lock()


@functools.cache
def _made() -> httpx.Client:
    logging.getLogger("httpx").addFilter(_NotWhilePosting())
    return httpx.Client(follow_redirects=False)  # a redirect is the receiver's misconfiguration: refused


def _client() -> httpx.Client:
    with _making:  # the monitor's looks post from several threads: one client (it is safe to share)
        return _made()


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[Delivery, str]:
    """How the post ended and why (the status, or the transport error's kind)."""
    client = _client()
    token = _posting.set(True)
    try:
        answer = client.post(url, content=body, headers=headers, timeout=TIMEOUT)
    except httpx.TimeoutException:
        return "unavailable", "timed out"
    except httpx.TransportError as error:
        return "unavailable", type(error).__name__
    finally:
        _posting.reset(token)
    status = answer.status_code
    if status < 300:
        return "accepted", f"HTTP {status}"
    return ("unavailable" if status >= 500 or status in LATER else "refused"), f"HTTP {status}"
