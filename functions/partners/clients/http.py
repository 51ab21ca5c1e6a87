"""Outbound HTTP every partner client shares (marketplaces, carriers, the payment acquirer): timeouts,
per-partner rate limits, retries with backoff on 429/420/5xx and timeouts honoring Retry-After, a fresh
token after a 401, and typed failures."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Collection, Mapping
from contextlib import nullcontext
from typing import Any, TypedDict, TypeVar, Unpack

import httpx
from pydantic import BaseModel, ValidationError
from pyrate_limiter import Duration, Limiter, Rate
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from common.observability import count, logger

RETRIED_STATUSES = frozenset({420, 429, 500, 502, 503, 504})


class PartnerError(Exception):
    """A partner call that did not do what was asked."""


class PartnerUnavailable(PartnerError):
    """Throttled, failing or timing out after every retry: the same call may succeed later."""


class PartnerRejected(PartnerError):
    """The partner refused the call (4xx other than throttling) or reported a per-item failure."""


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


M = TypeVar("M", bound=BaseModel)


def parsed(model: type[M], data: Any, partner: str) -> M:
    """A partner's answer in its documented shape, or a PartnerRejected (never a crash of the caller)."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise PartnerRejected(f"{partner} answered in an unexpected shape: {error.errors()[0]['loc']}") from None


def per_second(requests: int) -> Limiter:
    return Limiter(Rate(requests, Duration.SECOND))


def per_minute(requests: int) -> Limiter:
    return Limiter(Rate(requests, Duration.MINUTE))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
    if seconds is None or math.isnan(seconds):
        return None  # "nan" would reach sleep() and crash the caller
    return max(seconds, 0.0)


class Tuning(TypedDict, total=False):
    """What a caller of a partner client may tune: a read while the partner waits for our answer wants few,
    short attempts; tests want fast ones."""

    timeout: float | httpx.Timeout
    attempts: int
    max_backoff: float
    transport: httpx.BaseTransport


class HttpOptions(Tuning, total=False):
    """How one partner is called, each with a default. `costs` charges some answers more of the rate budget
    (Wildberries: a 409 counts as 10 requests); `parallel` caps requests in flight (Yandex Market: 2 per
    account); `auth` gives headers per request and `reauth` forgets a token the partner no longer accepts;
    `retried` are the statuses worth another attempt."""

    headers: Mapping[str, str]
    limiter: Limiter
    parallel: int
    costs: Mapping[int, int]
    auth: Callable[[], Mapping[str, str]]
    reauth: Callable[[], None]
    retried: frozenset[int]


class PartnerHttp:
    """One partner's API, called as its `HttpOptions` say."""

    def __init__(self, partner: str, base_url: str, **options: Unpack[HttpOptions]) -> None:
        self.partner = partner
        self.client = httpx.Client(
            base_url=base_url,
            headers=dict(options.get("headers", {})),
            timeout=options.get("timeout", 10.0),
            transport=options.get("transport"),
        )
        self.limiter = options.get("limiter")
        parallel = options.get("parallel")
        self.in_flight = threading.BoundedSemaphore(parallel) if parallel else None
        self.costs = dict(options.get("costs", {}))
        self.auth = options.get("auth")
        self.reauth = options.get("reauth")
        self.attempts = options.get("attempts", 5)
        self.max_backoff = options.get("max_backoff", 30.0)
        self.retried = options.get("retried", RETRIED_STATUSES)
        self.requests = 0  # sent, for the bench
        self.spent = 0  # of the partner's request budget: requests, an answer in `costs` counting its cost

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        backoff = wait_exponential_jitter(multiplier=0.2, max=self.max_backoff, jitter=0.1)(state)
        if isinstance(error, _Retryable) and error.retry_after is not None:
            return min(error.retry_after, self.max_backoff)
        return backoff

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        answered: Collection[int] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """The partner's answer (2xx/3xx, or a status in `answered`: a refusal whose body the caller reads);
        PartnerUnavailable once every retry failed, PartnerRejected for a refusal. `headers` are this
        request's own, beside the client's and the auth headers."""
        try:
            for attempt in Retrying(
                retry=retry_if_exception_type(_Retryable),
                stop=stop_after_attempt(self.attempts),
                wait=self._wait,
                reraise=True,
            ):
                with attempt:
                    return self._once(method, path, headers or {}, answered, **kwargs)
        except _Retryable as error:
            count(f"PartnerUnavailable_{self.partner}")
            raise PartnerUnavailable(f"{self.partner} {method} {path}: {error}") from None
        raise AssertionError("unreachable")

    def _once(
        self, method: str, path: str, headers: Mapping[str, str], answered: Collection[int], **kwargs: Any
    ) -> httpx.Response:
        if self.limiter is not None:
            self.limiter.try_acquire(self.partner)
        sent = {**(self.auth() if self.auth else {}), **headers}
        try:
            with self.in_flight or nullcontext():
                self.requests += 1
                self.spent += 1
                response = self.client.request(method, path, headers=sent, **kwargs)
        except httpx.TimeoutException:
            raise _Retryable("timed out") from None
        except httpx.TransportError as error:
            raise _Retryable(type(error).__name__) from None
        extra = self.costs.get(response.status_code, 1) - 1
        self.spent += max(extra, 0)
        if extra > 0 and self.limiter is not None:
            self.limiter.try_acquire(self.partner, weight=extra)
        if response.status_code == 401 and self.reauth is not None:
            self.reauth()
            raise _Retryable("token no longer accepted")
        if response.status_code in self.retried:
            logger.info(
                "partner call retried", extra={"partner": self.partner, "path": path, "status": response.status_code}
            )
            raise _Retryable(f"HTTP {response.status_code}", _retry_after(response))
        if response.status_code >= 400 and response.status_code not in answered:
            raise PartnerRejected(f"{self.partner} {method} {path}: HTTP {response.status_code}: {response.text[:300]}")
        return response

    def close(self) -> None:
        self.client.close()
