"""Routes of the stock push API (pushes)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

router = Router()  # type: ignore[no-untyped-call]  # powertools' __init__ is unannotated
