"""The stock push's dirty marks as a test reads them: the DirtySkusTable's SKUs per channel."""

from __future__ import annotations

import os

import boto3

from tests.support.api import Api


def dirty(api: Api, channel: str) -> set[str]:
    """The channel's dirty SKUs, once the streams have delivered every write so far."""
    api.hub.settle()
    ddb = boto3.client("dynamodb")
    return {
        item["sku"]["S"]
        for shard in range(16)
        for item in ddb.query(
            TableName=os.environ["DIRTY_SKUS_TABLE"],
            KeyConditionExpression="channel_shard = :p",
            ExpressionAttributeValues={":p": {"S": f"{channel}#{shard:02d}"}},
        )["Items"]
    }


def clear_dirty(api: Api) -> None:
    api.hub.settle()  # marks of earlier writes land first, then go
    ddb = boto3.client("dynamodb")
    table = os.environ["DIRTY_SKUS_TABLE"]
    for item in ddb.scan(TableName=table)["Items"]:
        ddb.delete_item(TableName=table, Key={"channel_shard": item["channel_shard"], "sku": item["sku"]})
