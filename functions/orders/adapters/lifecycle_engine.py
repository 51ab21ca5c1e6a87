"""The order lifecycle on Step Functions: one Standard execution per order, named after it, on its
workflow's state machine."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from common import aws
from common.config import settings
from common.errors import LifecycleUnavailable

# The token no longer belongs to a waiting task (it timed out, or the execution ended).
GONE_TOKEN_ERRORS = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


class TaskGone(Exception):
    pass


def start(workflow: str, order_id: str, execution_input: dict[str, Any]) -> None:
    """Idempotent: the same name and input again is accepted by Step Functions, or already exists."""
    try:
        aws.stepfunctions().start_execution(
            stateMachineArn=settings().lifecycle_arn_prefix + workflow,
            name=order_id,
            input=json.dumps(execution_input, sort_keys=True),
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise LifecycleUnavailable(
                "the order is recorded but its lifecycle could not be started; send the same request again"
            ) from error


def execution_status(workflow: str, order_id: str) -> str | None:
    """The order's execution's status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED), None if it never started."""
    arn = settings().lifecycle_arn_prefix.replace(":stateMachine:", ":execution:") + f"{workflow}:{order_id}"
    try:
        status: str = aws.stepfunctions().describe_execution(executionArn=arn)["status"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
            return None
        raise
    return status


def resume(token: str, output: dict[str, Any]) -> None:
    try:
        aws.stepfunctions().send_task_success(taskToken=token, output=json.dumps(output))
    except ClientError as error:
        if error.response["Error"]["Code"] in GONE_TOKEN_ERRORS:
            raise TaskGone() from None
        raise
