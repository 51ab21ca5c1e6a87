"""Reference data every function shares: sales channels, stock locations and carriers, as the API takes
and shows them. Pure: the ConfigTable adapter (`reference.config_table`) stores them."""

from __future__ import annotations

import functools
from datetime import time
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    IPvAnyNetwork,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from common.models import EMAIL, FREE_TEXT, ONE_LINE, Identifier, Number, Sku, Units


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

    name: str = Field(min_length=1, max_length=200, pattern=ONE_LINE)
    kind: LocationKind
    city: str | None = Field(None, max_length=100, pattern=ONE_LINE)
    lat: Number | None = Field(None, ge=-90, le=90)
    lon: Number | None = Field(None, ge=-180, le=180)
    timezone: str | None = None
    capabilities: list[DeliveryMethod] = Field(default_factory=list)
    active: bool = Field(True, description="A paused location (false) offers nothing online and is never sourced.")
    working_hours: dict[Weekday, OpeningHours] = Field(
        default_factory=dict, description="Days not listed are closed; an empty map means open around the clock."
    )
    processing_minutes: StrictInt = Field(120, ge=0, le=10_080, description="Working time to pick and pack an order.")
    cutoff: time | None = Field(None, description="Local time after which a new order starts the next working day.")
    hold_hours: StrictInt = Field(48, ge=1, le=720, description="How long a reserve-in-store hold keeps its units.")

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
    # 0.01 % steps: DynamoDB numbers hold 38 digits and nothing below 1e-130 (JSON's 1e-285 would not store)
    return None if value is None else round(value, 4) + 0.0  # + 0.0: -0.0 reads as 0


class LocationRules(BaseModel):
    """A channel's rules at one location; unset fields fall back to the channel's."""

    model_config = ConfigDict(extra="forbid")

    safety_stock: Units | None = None
    stock_share: Number | None = Field(None, ge=0, le=1)

    _share = field_validator("stock_share")(_round_share)


class SkuRules(LocationRules):
    """A channel's rules for one SKU (at every location); unset fields fall back to the channel's."""

    max_units: Units | None = None
    max_share: Number | None = Field(None, ge=0, le=1)
    min_presentable: Units | None = None

    _max_share = field_validator("max_share")(_round_share)


class ChannelRules(BaseModel):
    """What a channel may sell of the physical stock. The order they apply in is in docs/inventory.md."""

    model_config = ConfigDict(extra="forbid")

    safety_stock: Units = Field(0, description="Units kept back at every location.")
    stock_share: Number = Field(1.0, ge=0, le=1, description="Share of the rest offered, rounded down.")
    max_units: Units | None = Field(None, description="Allocation: at most this many units per SKU in total.")
    max_share: Number | None = Field(
        None,
        ge=0,
        le=1,
        description="Allocation: at most this share of the SKU's free units at the channel's locations, rounded down.",
    )
    min_presentable: Units = Field(0, description="Offer nothing when the total is below this.")
    excluded_locations: list[Identifier] = Field(
        default_factory=list, max_length=MAX_RULE_OVERRIDES, description="Locations this channel never sells from."
    )
    locations: dict[Identifier, LocationRules] = Field(
        default_factory=dict, max_length=MAX_RULE_OVERRIDES, description="Overrides per location."
    )
    skus: dict[Sku, SkuRules] = Field(
        default_factory=dict, max_length=MAX_RULE_OVERRIDES, description="Overrides per SKU (win over the location's)."
    )

    _share = field_validator("stock_share", "max_share")(_round_share)

    @field_validator("excluded_locations")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


MAX_URL = 2083  # what HttpUrl (and browsers) take


def _short_url(url: HttpUrl) -> HttpUrl:
    # Normalising percent-encodes (one "é" becomes six characters): the stored form must fit the limit too.
    if len(str(url)) > MAX_URL:
        raise ValueError(f"URL is longer than {MAX_URL} characters once normalised")
    return url


PartnerUrl = Annotated[HttpUrl, AfterValidator(_short_url)]


MAX_PARTNER_WAREHOUSES = 50


class PartnerWarehouse(BaseModel):
    """One of the partner's warehouses (Ozon `warehouse_id`, Wildberries `warehouseId`, the Yandex Market
    campaign of a warehouse) and the hub locations whose offered units it shows."""

    model_config = ConfigDict(extra="forbid")

    partner_warehouse_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    locations: list[Identifier] = Field(min_length=1, max_length=MAX_RULE_OVERRIDES)

    @field_validator("locations")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


def _one_warehouse_per_location(warehouses: list[PartnerWarehouse]) -> list[PartnerWarehouse]:
    # A location feeding two partner warehouses would offer its units twice: the partner could oversell.
    seen_ids: set[str] = set()
    fed: dict[str, str] = {}
    for warehouse in warehouses:
        if warehouse.partner_warehouse_id in seen_ids:
            raise ValueError(f"partner_warehouse_id {warehouse.partner_warehouse_id!r} is listed twice")
        seen_ids.add(warehouse.partner_warehouse_id)
        for location in warehouse.locations:
            if location in fed:
                raise ValueError(
                    f"location {location!r} feeds both {fed[location]!r} and {warehouse.partner_warehouse_id!r}"
                )
            fed[location] = warehouse.partner_warehouse_id
    return warehouses


PartnerWarehouses = Annotated[
    list[PartnerWarehouse], Field(max_length=MAX_PARTNER_WAREHOUSES), AfterValidator(_one_warehouse_per_location)
]


NotificationTopic = Literal["confirmed", "ready_for_pickup", "shipped", "delivered", "cancelled", "payment_link"]
Language = Literal["ru", "en"]
Medium = Literal["sms", "email"]
MAX_TEMPLATE_OVERRIDES = 6 * 2 * 2  # every topic, medium and language


class TemplateOverride(BaseModel):
    """The channel's own wording of one message, replacing the hub's default (jinja2, held to reading, testing
    and filtering its values: common.templates; the values it may use are listed in docs/notifications.md)."""

    model_config = ConfigDict(extra="forbid")

    topic: NotificationTopic
    medium: Medium
    language: Language
    subject: str | None = Field(None, min_length=1, max_length=200, pattern=ONE_LINE, description="Email only.")
    text: str | None = Field(
        None, min_length=1, max_length=1000, pattern=FREE_TEXT, description="The SMS, or an email's plain-text part."
    )
    html: str | None = Field(
        None, min_length=1, max_length=20_000, pattern=FREE_TEXT, description="An email's HTML part (autoescaped)."
    )

    @model_validator(mode="after")
    def _complete(self) -> TemplateOverride:
        if self.medium == "sms" and (self.text is None or self.subject is not None or self.html is not None):
            raise ValueError("an sms template has a text and nothing else")
        if self.medium == "email" and (self.subject is None or (self.text is None and self.html is None)):
            raise ValueError("an email template has a subject and a text or html part")
        from common.templates import syntax_error  # jinja2 only where a channel brings templates: off cold starts

        for part in (self.subject, self.text, self.html):
            error = None if part is None else syntax_error(part)
            if error is not None:
                raise ValueError(f"not a template: {error}")
        return self


def _one_override_each(overrides: list[TemplateOverride]) -> list[TemplateOverride]:
    seen: set[tuple[str, str, str]] = set()
    for override in overrides:
        which = (override.topic, override.medium, override.language)
        if which in seen:
            raise ValueError(f"the template {'/'.join(which)} is listed twice")
        seen.add(which)
    return overrides


class ChannelNotifications(BaseModel):
    """How the channel's customers hear of their orders (docs/notifications.md)."""

    model_config = ConfigDict(extra="forbid")

    language: Language = Field("ru", description="The language of the messages.")
    sms: StrictBool = Field(False, description="Send SMS to customers whose order does not say whether they agreed.")
    email: StrictBool = Field(
        False, description="Send email to customers whose order does not say whether they agreed."
    )
    sms_sender: str | None = Field(
        None,
        min_length=1,
        max_length=15,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$",
        description="The SMS sender name approved at the gateway; none: the gateway account's default.",
    )
    email_sender: str | None = Field(
        None,
        max_length=254,
        pattern=EMAIL,
        description="The From address (verified in SES); none: the hub's NOTIFY_EMAIL_FROM.",
    )
    templates: Annotated[
        list[TemplateOverride], Field(max_length=MAX_TEMPLATE_OVERRIDES), AfterValidator(_one_override_each)
    ] = Field(default_factory=list, description="The channel's own wording; the rest are the hub's defaults.")


class ChannelLoyalty(BaseModel):
    """How the channel's orders settle loyalty points (docs/loyalty.md)."""

    model_config = ConfigDict(extra="forbid")

    write_off_on: Literal["paid", "delivered"] = Field(
        "delivered",
        description="When the held points are written off the card: once the order is paid, or on delivery "
        "(a delivered order's points are written off in either case).",
    )
    accrual_rate: Number = Field(
        0.0, ge=0, le=1, description="Points accrued on delivery per unit of money paid (0.05: 5 %), rounded down."
    )

    _rate = field_validator("accrual_rate")(_round_share)


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="web, app, callcenter, ozon, wildberries, yandex_market, ...",
    )
    name: str = Field(min_length=1, max_length=200, pattern=ONE_LINE)
    secret: str | None = Field(None, min_length=8, max_length=256, description="Never echoed back.")
    rules: ChannelRules = Field(default_factory=ChannelRules)
    allow_split: bool = Field(
        False,
        description="Orders may ship from several locations when no single one has every line (docs/sourcing.md).",
    )
    allowed_ips: list[IPvAnyNetwork] = Field(
        default_factory=list,
        max_length=50,
        description="Partner pushes are taken only from these networks (e.g. Yandex Market's published ranges); "
        "empty = any.",
    )
    api_url: PartnerUrl | None = Field(
        None,
        description="Base URL of the partner's API for the hub's own calls "
        f"(at most {MAX_URL} characters once normalised).",
    )
    credentials: (
        dict[
            Annotated[str, Field(min_length=1, max_length=128, pattern=ONE_LINE)],
            Annotated[str, Field(min_length=1, max_length=512, pattern=ONE_LINE)],
        ]
        | None
    ) = Field(
        None,
        max_length=10,
        description="Partner API credentials (e.g. Client-Id, Api-Key); stored in SSM, never echoed.",
    )
    warehouses: PartnerWarehouses = Field(
        default_factory=list,
        description="Marketplaces: which hub locations feed which of the partner's warehouses (the stock "
        "pushed to a warehouse is the channel's offer summed over its locations; docs/stock-push.md).",
    )
    notifications: ChannelNotifications = Field(
        default_factory=ChannelNotifications, description="Customer notifications (docs/notifications.md)."
    )
    loyalty: ChannelLoyalty = Field(default_factory=ChannelLoyalty, description="Loyalty points (docs/loyalty.md).")


class Channel(BaseModel):
    """A channel as the API shows it: the secret is reduced to whether one is set."""

    channel_id: Identifier
    kind: str
    name: str
    rules: ChannelRules
    has_secret: bool
    allowed_ips: list[IPvAnyNetwork] = Field(default_factory=list)
    api_url: PartnerUrl | None = None
    has_credentials: bool = False
    updated_at: str | None = None
    allow_split: bool = False
    warehouses: list[PartnerWarehouse] = Field(default_factory=list)
    notifications: ChannelNotifications = Field(default_factory=ChannelNotifications)
    loyalty: ChannelLoyalty = Field(default_factory=ChannelLoyalty)


@functools.cache
def _timezones() -> set[str]:
    return available_timezones()


class TransitDays(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: StrictInt = Field(ge=0, le=90, description="Calendar days from hand-over to the earliest delivery.")
    max: StrictInt = Field(ge=0, le=90, description="Calendar days from hand-over to the latest delivery.")

    @model_validator(mode="after")
    def _ordered(self) -> TransitDays:
        if self.max < self.min:
            raise ValueError("max must not be below min")
        return self


class CarrierIn(BaseModel):
    """A carrier's transit time for the delivery methods it serves: configuration of the delivery promise."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=ONE_LINE)
    delivery_methods: Annotated[
        list[DeliveryMethod], AfterValidator(lambda methods: list(dict.fromkeys(methods))), Field(min_length=1)
    ]
    transit_days: TransitDays
    active: bool = Field(True, description="An inactive carrier is never used for a promise.")


class Carrier(CarrierIn):
    carrier_id: Identifier
    updated_at: str | None = None


# ------------------------------------------------------------------ staff roles' contacts (docs/notifications.md)

RoleName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z_]*$")]
STORE_ROLE_PREFIX = "store_"  # store roles are told per location: each store has its own people
MAX_ROLE_EMAILS = 20
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


def is_store_role(role: str) -> bool:
    return role.startswith(STORE_ROLE_PREFIX)


def _https_or_local(url: HttpUrl) -> HttpUrl:
    # The posts carry order ids and a signature: over TLS, or plain http only to this machine (a local relay).
    if url.scheme != "https" and url.host not in LOCAL_HOSTS:
        raise ValueError("a webhook URL must be https (plain http only to 127.0.0.1 or localhost)")
    return url


WebhookUrl = Annotated[HttpUrl, AfterValidator(_short_url), AfterValidator(_https_or_local)]
StaffEmail = Annotated[str, Field(max_length=254, pattern=EMAIL)]


def _unique_emails(emails: list[str]) -> list[str]:
    """Each address once, whatever its case (the first spelling stays)."""
    kept: dict[str, str] = {}
    for email in emails:
        kept.setdefault(email.lower(), email)
    return list(kept.values())


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl
    secret: str | None = Field(
        None,
        min_length=16,
        max_length=256,
        pattern=ONE_LINE,
        description="Signs every post (HMAC-SHA256); write-only, never echoed. Omitted: the secret this webhook "
        "already has stays; a new webhook needs one.",
    )


class Webhook(BaseModel):
    """A webhook as the API shows it: the secret is reduced to whether one is set."""

    url: WebhookUrl
    has_secret: bool


class ContactsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    emails: Annotated[list[StaffEmail], Field(max_length=MAX_ROLE_EMAILS), AfterValidator(_unique_emails)]
    webhook: WebhookIn | None = None


class RoleContactsIn(ContactsIn):
    """Who hears of a role's SLA warnings and escalations; a store role (`store_*`) per location too."""

    language: Language = Field("ru", description="The language of the emails.")
    locations: dict[Identifier, ContactsIn] = Field(
        default_factory=dict,
        max_length=MAX_RULE_OVERRIDES,
        description="Store roles only: who is told for an order of that location, instead of the role's own "
        "emails and webhook.",
    )


class Contacts(BaseModel):
    emails: list[str]
    webhook: Webhook | None = None


class RoleContacts(Contacts):
    role: RoleName
    language: Language = "ru"
    locations: dict[Identifier, Contacts] = Field(default_factory=dict)
    updated_at: str | None = None

    def scope_for(self, location_id: str | None) -> str | None:
        """The location whose entry tells this role of an order at `location_id`; None: the role's own."""
        return location_id if is_store_role(self.role) and location_id in self.locations else None

    def told_for(self, location_id: str | None) -> Contacts:
        scope = self.scope_for(location_id)
        return self if scope is None else self.locations[scope]
