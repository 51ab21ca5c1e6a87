"""What the actions queue receives from EventBridge: the lifecycle's OrderStatusEntered announcements and
the orders API's OrderReturned (a return recorded after delivery, which enters no status)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Entered(BaseModel):
    """`detail` of the event the lifecycle's Announce<Status> state puts on the bus."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    order_id: str = Field(min_length=1, max_length=64)
    channel: str
    workflow: str
    status: str
    actions: list[str]


class Returned(BaseModel):
    """`detail` of OrderReturned: the return's id names its actions (one give-back per return)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    order_id: str = Field(min_length=1, max_length=64)
    channel: str
    workflow: str
    return_id: str = Field(min_length=1, max_length=64)


class Announcement(BaseModel):
    """The EventBridge envelope: its time is when the lifecycle announced the entry."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: str
    time: datetime
    detail_type: str = Field(alias="detail-type")
    detail: Entered | Returned
