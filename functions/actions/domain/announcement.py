"""The lifecycle's OrderStatusEntered announcement, as EventBridge delivers it to the actions queue."""

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


class Announcement(BaseModel):
    """The EventBridge envelope: its time is when the lifecycle announced the entry."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: str
    time: datetime
    detail_type: str = Field(alias="detail-type")
    detail: Entered
