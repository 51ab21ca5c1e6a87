"""The admin function's environment (template.yaml: AdminFunction), read once per container."""

from __future__ import annotations

import functools
import os

from pydantic import BaseModel, ConfigDict, Field


class AdminSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    sessions_table: str = Field("", alias="ADMIN_SESSIONS_TABLE")
    user_pool_id: str = Field("", alias="ADMIN_USER_POOL_ID")
    client_id: str = Field("", alias="ADMIN_CLIENT_ID")
    # The pool's key set; the issuer tokens must name is the pool's own URL (see `issuer`).
    jwks_url: str = Field("", alias="ADMIN_JWKS_URL")
    region: str = Field("eu-central-1", alias="AWS_REGION")
    # A session lasts one shift, however long the ID token it was opened with is valid.
    session_hours: float = Field(10.0, alias="ADMIN_SESSION_HOURS", gt=0, le=24)

    @property
    def issuer(self) -> str:
        region = self.user_pool_id.split("_", 1)[0] or self.region
        return f"https://cognito-idp.{region}.amazonaws.com/{self.user_pool_id}"


@functools.cache
def admin_settings() -> AdminSettings:
    env = dict(os.environ)
    env.setdefault("AWS_REGION", env.get("AWS_DEFAULT_REGION", "eu-central-1"))
    return AdminSettings.model_validate(env)
