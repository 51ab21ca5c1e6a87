"""The marketplaces' stock APIs behind one shape: lines in, one result per line out.

A `StockTarget` sends one batch per call (one partner request, plus Wildberries' read-back when asked)
and says, line by line, what the partner did with it. It paces nothing itself: the stock push engine
holds each partner's budget (`per_minute`, `pair_interval`) across invocations, so the targets keep only
what one request needs (the http stack's retries, Retry-After, Market's two requests in flight,
Wildberries' 409 cost).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypedDict, Unpack

from partners.clients.http import Tuning
from partners.clients.registry import MODULES

# The channel's API credentials, or how to read them: a callable is read again after a 401 (a key rotated
# while a push runs), once per refusal; a mapping is what it is, and a 401 refuses the request.
Credentials = Mapping[str, str] | Callable[[], Mapping[str, str]]


@dataclass(frozen=True)
class StockLine:
    offer_id: str  # the seller's article (Ozon offer_id, Market shop sku)
    warehouse_id: str  # the partner warehouse as the channel maps it (Ozon/WB ids as text, Market: campaignId)
    amount: int  # >= 0; clamped to the partner's maximum
    at: datetime  # when the figure was true (Market's updatedAt)
    chrt_id: int | None = None  # Wildberries' size id (required there)

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("StockLine.at must carry its time zone")


class Outcome(StrEnum):
    accepted = "accepted"  # the partner took the value (Wildberries: read back equal, when verified)
    retry = "retry"  # refused for a reason that can pass, or not reported: send again later
    refused = "refused"  # refused for good (unknown offer, chrtId, warehouse): an operator's matter


@dataclass(frozen=True)
class LineResult:
    outcome: Outcome
    reason: str | None = None  # the partner's own code and message


Pair = tuple[str, str]  # (offer_id, warehouse_id): how results are keyed


class StockTarget(Protocol):
    partner: str  # "ozon" | "wildberries" | "yandex_market"
    batch_size: int  # lines per request
    per_minute: int  # stock requests per minute the partner allows
    pair_interval: float  # seconds between two sends of one (offer, warehouse)
    one_warehouse_per_request: bool

    @property
    def requests(self) -> int:
        """Partner requests sent so far, retries included."""
        ...

    @property
    def spent(self) -> int:
        """Of the partner's request budget, spent so far: `requests`, an answer the partner charges more
        counting what it charges (a Wildberries 409 counts as 10)."""
        ...

    def push(self, lines: Sequence[StockLine], verify: bool = False) -> dict[Pair, LineResult]:
        """One batch of at most batch_size lines = one partner request (+ with `verify`, Wildberries' read
        back). Every line gets a result, keyed by (offer_id, warehouse_id). Raises PartnerUnavailable when
        the whole request failed after the http stack's retries (nothing is known accepted) and
        PartnerRejected when the partner refused the request as a whole; ValueError for a batch the target
        cannot send as one request (too many lines, several warehouses where one is required)."""
        ...

    def close(self) -> None: ...


class StockFactory(Protocol):
    def __call__(self, base_url: str, credentials: Credentials, **tuning: Unpack[Tuning]) -> StockTarget: ...


_factories: dict[str, StockFactory] = {}


def register(kind: str, factory: StockFactory) -> None:
    _factories[kind] = factory


def stock_target(kind: str, base_url: str, credentials: Credentials, **tuning: Unpack[Tuning]) -> StockTarget:
    """The stock API of a channel kind; ValueError for a kind that has none (web, app, callcenter, couriers)."""
    if not _factories:
        for module in MODULES:
            importlib.import_module(f"partners.clients.{module}")
    factory = _factories.get(kind)
    if factory is None:
        raise ValueError(f"channel kind {kind!r} has no stock API")
    return factory(base_url, credentials, **tuning)


def checked(target: StockTarget, lines: Sequence[StockLine]) -> None:
    """A batch the target can send as one request, or ValueError."""
    if len(lines) > target.batch_size:
        raise ValueError(f"{target.partner} takes at most {target.batch_size} lines per request, got {len(lines)}")
    if target.one_warehouse_per_request and len({line.warehouse_id for line in lines}) > 1:
        raise ValueError(f"{target.partner} takes one warehouse per request")
    if len({(line.offer_id, line.warehouse_id) for line in lines}) < len(lines):
        raise ValueError("an (offer, warehouse) pair twice in one batch: which value is meant?")


class AuthOptions(TypedDict, total=False):
    """The part of HttpOptions that authenticates."""

    headers: Mapping[str, str]
    auth: Callable[[], Mapping[str, str]]
    reauth: Callable[[], None]


def auth(credentials: Credentials, headers: Callable[[Mapping[str, str]], Mapping[str, str]]) -> AuthOptions:
    """The http options that send the partner's auth `headers` made from the credentials; credentials read
    through a callable are read again after a 401 and the request retried."""
    if not callable(credentials):
        return {"headers": headers(credentials)}
    read = credentials
    current = [headers(read())]

    def reread() -> None:
        current[0] = headers(read())

    return {"auth": lambda: current[0], "reauth": reread}
