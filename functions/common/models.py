"""Reference-data models every function shares: sales channels and stock locations. Pure."""

from __future__ import annotations

import functools
from datetime import time
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, IPvAnyNetwork, field_validator,
                      model_validator)

Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\s#]+$")]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]


class DeliveryMethod(StrEnum):
    courier = "courier"
    pickup_point = "pickup_point"
    post = "post"
    click_collect = "click_collect"
    reserve_in_store = "reserve_in_store"
    ship_from_store = "ship_from_store"
    marketplace = "marketplace"


class LocationKind(StrEnum):
    store = "store"
    warehouse = "warehouse"


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class OpeningHours(BaseModel):
    """One day's working hours in the location's own time zone."""

    model_config = ConfigDict(extra="forbid")

    opens: time
    closes: time

    @model_validator(mode="after")
    def _ordered(self) -> OpeningHours:
        if self.closes <= self.opens:
            raise ValueError("closes must be after opens (same day)")
        return self


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: LocationKind
    city: str | None = Field(None, max_length=100)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    timezone: str | None = None
    capabilities: list[DeliveryMethod] = Field(default_factory=list)
    active: bool = Field(True, description="A paused location (false) offers nothing online and is never sourced.")
    working_hours: dict[Weekday, OpeningHours] = Field(
        default_factory=dict, description="Days not listed are closed; an empty map means open around the clock.")
    processing_minutes: int = Field(120, ge=0, le=10_080, description="Working time to pick and pack an order.")
    cutoff: time | None = Field(None, description="Local time after which a new order starts the next working day.")
    hold_hours: int = Field(48, ge=1, le=720, description="How long a reserve-in-store hold keeps its units.")

    @field_validator("lat", "lon")
    @classmethod
    def _coordinate_precision(cls, value: float | None) -> float | None:
        return None if value is None else round(value, 6)  # ~0.1 m; DynamoDB numbers hold 38 digits

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None and value not in _timezones():
            raise ValueError("unknown IANA time zone")
        return value

    @field_validator("capabilities")
    @classmethod
    def _unique(cls, value: list[DeliveryMethod]) -> list[DeliveryMethod]:
        return list(dict.fromkeys(value))


class Location(LocationIn):
    location_id: Identifier
    updated_at: str | None = None


MAX_RULE_OVERRIDES = 500  # per channel: the rules travel inside the channel's config item (400 KB)


def _round_share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)  # 0.01 % steps; DynamoDB numbers hold 38 digits


class LocationRules(BaseModel):
    """A channel's rules at one location; unset fields fall back to the channel's."""

    model_config = ConfigDict(extra="forbid")

    safety_stock: int | None = Field(None, ge=0)
    stock_share: float | None = Field(None, ge=0, le=1)

    _share = field_validator("stock_share")(_round_share)


class SkuRules(LocationRules):
    """A channel's rules for one SKU (at every location); unset fields fall back to the channel's."""

    max_units: int | None = Field(None, ge=0)
    max_share: float | None = Field(None, ge=0, le=1)
    min_presentable: int | None = Field(None, ge=0)

    _max_share = field_validator("max_share")(_round_share)


class ChannelRules(BaseModel):
    """What a channel may sell of the physical stock. The order they apply in is in docs/inventory.md."""

    model_config = ConfigDict(extra="forbid")

    safety_stock: int = Field(0, ge=0, description="Units kept back at every location.")
    stock_share: float = Field(1.0, ge=0, le=1, description="Share of the rest offered, rounded down.")
    max_units: int | None = Field(None, ge=0, description="Allocation: at most this many units per SKU in total.")
    max_share: float | None = Field(None, ge=0, le=1,
                                    description="Allocation: at most this share of the SKU's free units "
                                                "at the channel's locations, rounded down.")
    min_presentable: int = Field(0, ge=0, description="Offer nothing when the total is below this.")
    excluded_locations: list[Identifier] = Field(default_factory=list, max_length=MAX_RULE_OVERRIDES,
                                                 description="Locations this channel never sells from.")
    locations: dict[Identifier, LocationRules] = Field(default_factory=dict, max_length=MAX_RULE_OVERRIDES,
                                                       description="Overrides per location.")
    skus: dict[Sku, SkuRules] = Field(default_factory=dict, max_length=MAX_RULE_OVERRIDES,
                                      description="Overrides per SKU (win over the location's).")

    _share = field_validator("stock_share", "max_share")(_round_share)

    @field_validator("excluded_locations")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))



class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$",
                      description='web, app, callcenter, ozon, wildberries, yandex_market, ...')
    name: str = Field(min_length=1, max_length=200)
    secret: str | None = Field(None, min_length=8, max_length=256, description="Never echoed back.")
    rules: ChannelRules = Field(default_factory=ChannelRules)
    allow_split: bool = Field(False, description="Orders may ship from several locations when no single one has "
                                                 "every line (docs/sourcing.md).")
    allowed_ips: list[IPvAnyNetwork] = Field(
        default_factory=list, max_length=50,
        description="Partner pushes are taken only from these networks (e.g. Yandex Market's published ranges); empty = any.")
    api_url: HttpUrl | None = Field(None, description="Base URL of the partner's API for the hub's own calls.")
    credentials: dict[str, Annotated[str, Field(min_length=1, max_length=512)]] | None = Field(
        None, max_length=10, description="Partner API credentials (e.g. Client-Id, Api-Key); stored in SSM, never echoed.")


class Channel(BaseModel):
    """A channel as the API shows it: the secret is reduced to whether one is set."""

    channel_id: Identifier
    kind: str
    name: str
    rules: ChannelRules
    has_secret: bool
    allowed_ips: list[IPvAnyNetwork] = Field(default_factory=list)
    api_url: HttpUrl | None = None
    has_credentials: bool = False
    updated_at: str | None = None
    allow_split: bool = False


@functools.cache
def _timezones() -> set[str]:
    return available_timezones()



class TransitDays(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: int = Field(ge=0, le=90, description="Calendar days from hand-over to the earliest delivery.")
    max: int = Field(ge=0, le=90, description="Calendar days from hand-over to the latest delivery.")

    @model_validator(mode="after")
    def _ordered(self) -> TransitDays:
        if self.max < self.min:
            raise ValueError("max must not be below min")
        return self


class CarrierIn(BaseModel):
    """A carrier's transit time for the delivery methods it serves: configuration of the delivery promise."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    delivery_methods: Annotated[list[DeliveryMethod], AfterValidator(lambda methods: list(dict.fromkeys(methods))),
                                Field(min_length=1)]
    transit_days: TransitDays
    active: bool = Field(True, description="An inactive carrier is never used for a promise.")


class Carrier(CarrierIn):
    carrier_id: Identifier
    updated_at: str | None = None
