"""Environment of a function as a typed model, read once per container (never at import time)."""

from __future__ import annotations

import functools
import os

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """Names of the resources a function talks to; template.yaml sets each function's subset."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    orders_table: str = Field("", alias="ORDERS_TABLE")
    store_work_table: str = Field("", alias="STORE_WORK_TABLE")  # each store's queue entries (orders.domain.store_work)
    stock_table: str = Field("", alias="STOCK_TABLE")
    reservations_table: str = Field("", alias="RESERVATIONS_TABLE")
    tasks_table: str = Field("", alias="TASKS_TABLE")
    config_table: str = Field("", alias="CONFIG_TABLE")
    lifecycle_arn_prefix: str = Field("", alias="LIFECYCLE_ARN_PREFIX")
    acquirer_url: str = Field("", alias="ACQUIRER_URL")
    acquirer_parameters: str = Field("", alias="ACQUIRER_PARAMETERS")
    stock_batches_table: str = Field("", alias="STOCK_BATCHES_TABLE")
    dirty_skus_table: str = Field("", alias="DIRTY_SKUS_TABLE")
    availability_table: str = Field("", alias="AVAILABILITY_TABLE")
    channel_offers_table: str = Field("", alias="CHANNEL_OFFERS_TABLE")
    stock_push_table: str = Field("", alias="STOCK_PUSH_TABLE")
    products_table: str = Field("", alias="PRODUCTS_TABLE")
    stock_push_queue_url: str = Field("", alias="STOCK_PUSH_QUEUE_URL")
    order_actions_queue_url: str = Field("", alias="ORDER_ACTIONS_QUEUE_URL")
    # The first wait of an order action after a transient failure (it doubles per attempt).
    actions_backoff_seconds: int = Field(10, alias="ACTIONS_BACKOFF_SECONDS", ge=1)
    event_bus_name: str = Field("", alias="EVENT_BUS_NAME")
    # SSM parameter path under which channel secrets and partner credentials live (never the values).
    secrets_prefix: str = Field("/oms-hub", alias="SECRETS_PREFIX")
    partner_events_table: str = Field("", alias="PARTNER_EVENTS_TABLE")
    sla_table: str = Field("", alias="SLA_TABLE")  # time in status, marketplace risk facts, the due list
    partner_queue_url: str = Field("", alias="PARTNER_QUEUE_URL")
    # SSM SecureString that signs list cursors (created with a random value on first use).
    cursor_key_parameter: str = Field("", alias="CURSOR_KEY_PARAMETER")
    # SSM SecureString that keys the digests orders are found by phone or e-mail with (created on first use).
    lookup_key_parameter: str = Field("", alias="LOOKUP_KEY_PARAMETER")
    config_cache_seconds: float = Field(30.0, alias="CONFIG_CACHE_SECONDS", ge=0)
    # Customer notifications (docs/notifications.md): the SMS gateway's API and the default email sender.
    sms_gateway_url: str = Field("", alias="SMS_GATEWAY_URL")  # empty: SMS off (the stack's SmsGatewayUrl)
    notify_email_from: str = Field("", alias="NOTIFY_EMAIL_FROM")
    # Where staff open an order from an SLA notification, `{order_id}` in it; empty: the API's /v1/orders/{id}.
    order_link: str = Field("", alias="ORDER_LINK")
    loyalty_url: str = Field("https://loyalty.invalid", alias="LOYALTY_URL")  # the Loymax-like provider's API
    # The admin page (AdminFunction): its sessions, its Cognito user pool and app client, the pool's key set;
    # a session lasts one shift, however long the ID token it was opened with is valid.
    admin_sessions_table: str = Field("", alias="ADMIN_SESSIONS_TABLE")
    admin_user_pool_id: str = Field("", alias="ADMIN_USER_POOL_ID")
    admin_client_id: str = Field("", alias="ADMIN_CLIENT_ID")
    admin_jwks_url: str = Field("", alias="ADMIN_JWKS_URL")
    admin_session_hours: float = Field(10.0, alias="ADMIN_SESSION_HOURS", gt=0, le=24)


@functools.cache
def settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
