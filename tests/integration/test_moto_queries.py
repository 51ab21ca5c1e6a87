"""The local runtime's Query (oms_local.moto_patches._Partitions and _QueryCopies) answers as moto's own does,
reading only the queried partition and copying and sizing only what it must: random writes (puts, updates
moving an item between partitions or out of a sparse index, deletes, batches, transactions committed and
cancelled, refused conditions) interleaved with random Queries (COUNT, projections, Limit, filters), each
asked twice, of the patched Query and of moto's, and every page compared whole; pages that moto's 1 MB
limit ends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.dynamodb.models.table import Table

from oms_local.moto_patches import patch_moto

REGION = "eu-central-1"
PARTITIONS = ["a", "b"]  # few values, so partitions share items and items move between them
RANGES = ["r1", "r2", "r3", "s1"]


@pytest.fixture(scope="module")
def ddb() -> Iterator[Any]:
    patch_moto()
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


def _tables(ddb: Any) -> dict[str, str]:
    """A table with a sort key, two GSIs (one sparse by its sort key, one without a sort key) and an LSI,
    and a table with a partition key only; each named afresh."""
    suffix = uuid.uuid4().hex[:8]
    ranged, single = f"ranged-{suffix}", f"single-{suffix}"
    strings = ("pk", "g", "h", "r")
    ddb.create_table(
        TableName=ranged,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            *({"AttributeName": name, "AttributeType": "S"} for name in strings),
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "r", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]},
            },
            {
                "IndexName": "ByH",
                "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "ByR",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "r", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    ddb.create_table(
        TableName=single,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "g", "r")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "r", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    return {"ranged": ranged, "single": single}


maybe = st.sampled_from([None, *PARTITIONS])
keys = st.fixed_dictionaries({"pk": st.sampled_from(PARTITIONS), "sk": st.integers(0, 4)})
attributes = st.fixed_dictionaries(
    {"g": maybe, "h": maybe, "r": st.sampled_from([None, *RANGES]), "x": st.integers(0, 3)}
)
writes = st.one_of(
    st.tuples(st.just("put"), st.sampled_from(["ranged", "single"]), keys, attributes),
    st.tuples(
        st.just("update"),
        st.sampled_from(["ranged", "single"]),
        keys,
        st.sampled_from(["g", "h", "r"]),
        st.one_of(st.none(), st.sampled_from(PARTITIONS + RANGES)),  # None: REMOVE it
        st.booleans(),  # only if the item exists (refused, changing nothing, when it does not)
    ),
    st.tuples(st.just("delete"), st.sampled_from(["ranged", "single"]), keys),
    st.tuples(st.just("batch"), st.lists(st.tuples(keys, st.one_of(st.none(), attributes)), max_size=4)),
    st.tuples(st.just("transaction"), st.lists(st.tuples(keys, attributes), min_size=1, max_size=3), st.booleans()),
)
range_conditions = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(["=", "<", "<=", ">", ">="]), st.sampled_from(RANGES)),
    st.tuples(st.just("begins_with"), st.sampled_from(["r", "s"])),
    st.tuples(st.just("BETWEEN"), st.sampled_from(RANGES), st.sampled_from(RANGES)),
)
queries = st.fixed_dictionaries(
    {
        "target": st.sampled_from(
            [
                ("ranged", None),
                ("ranged", "ByG"),
                ("ranged", "ByH"),
                ("ranged", "ByR"),
                ("single", None),
                ("single", "ByG"),
            ]
        ),
        "partition": st.sampled_from([*PARTITIONS, "none-such"]),
        "range": range_conditions,
        "sk_above": st.one_of(st.none(), st.integers(0, 4)),
        "limit": st.one_of(st.none(), st.integers(1, 3)),
        "forward": st.booleans(),
        "select": st.sampled_from([None, "COUNT", "SPECIFIC_ATTRIBUTES"]),
        "filter": st.one_of(st.none(), st.integers(0, 3)),
    }
)
steps = st.lists(st.one_of(st.tuples(st.just("query"), queries), writes), min_size=5, max_size=25)


def _item(table: str, key: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": {"S": f"{key['pk']}"}}
    if table == "ranged":
        item["sk"] = {"N": str(key["sk"])}
    else:
        item["pk"] = {"S": f"{key['pk']}{key['sk']}"}  # the single table's items are partitions of their own
    for name in ("g", "h", "r"):
        if attrs[name] is not None and not (table == "single" and name == "h"):
            item[name] = {"S": attrs[name]}
    item["x"] = {"N": str(attrs["x"])}
    return item


def _key(table: str, key: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in _item(table, key, dict.fromkeys("ghr") | {"x": 0}).items() if name != "x"}


def _write(ddb: Any, names: dict[str, str], step: tuple[Any, ...]) -> None:
    kind = step[0]
    try:
        if kind == "put":
            _, table, key, attrs = step
            ddb.put_item(TableName=names[table], Item=_item(table, key, attrs))
        elif kind == "update":
            _, table, key, name, value, only_existing = step
            change = (
                {"UpdateExpression": "REMOVE #a"}
                if value is None
                else {"UpdateExpression": "SET #a = :v", "ExpressionAttributeValues": {":v": {"S": value}}}
            )
            if only_existing:
                change["ConditionExpression"] = "attribute_exists(pk)"
            ddb.update_item(
                TableName=names[table], Key=_key(table, key), ExpressionAttributeNames={"#a": name}, **change
            )
        elif kind == "delete":
            _, table, key = step
            ddb.delete_item(TableName=names[table], Key=_key(table, key))
        elif kind == "batch":
            requests = {}  # one request per key: DynamoDB refuses a batch naming a key twice
            for key, attrs in step[1]:
                requests[(key["pk"], key["sk"])] = (
                    {"DeleteRequest": {"Key": _key("ranged", key)}}
                    if attrs is None
                    else {"PutRequest": {"Item": _item("ranged", key, attrs)}}
                )
            if requests:
                ddb.batch_write_item(RequestItems={names["ranged"]: list(requests.values())})
        else:
            _, puts, cancelled = step
            unique = {(key["pk"], key["sk"]): (key, attrs) for key, attrs in puts}
            items: list[dict[str, Any]] = [
                {"Put": {"TableName": names["ranged"], "Item": _item("ranged", key, attrs)}}
                for key, attrs in unique.values()
            ]
            if cancelled:  # the last item's condition fails: the puts before it are undone
                items.append(
                    {
                        "ConditionCheck": {
                            "TableName": names["single"],
                            "Key": {"pk": {"S": "never-written"}},
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    }
                )
            ddb.transact_write_items(TransactItems=items)
    except ClientError as error:
        refused = ("ConditionalCheckFailedException", "TransactionCanceledException")
        assert error.response["Error"]["Code"] in refused


def _request(names: dict[str, str], q: dict[str, Any]) -> dict[str, Any]:
    table, index = q["target"]
    partition_key = {"ByG": "g", "ByH": "h"}.get(index or "", "pk")
    partition = q["partition"] + (str(q["sk_above"] or 0) if table == "single" and index is None else "")
    values: dict[str, Any] = {":p": {"S": partition}}
    condition = "#p = :p"
    names_used = {"#p": partition_key}
    sort_key = {"ByG": "r", "ByR": "r"}.get(index or "", "sk" if table == "ranged" and index is None else None)
    if sort_key == "r" and q["range"] is not None:
        op, *bounds = q["range"]
        names_used["#r"] = "r"
        values.update({f":r{n}": {"S": b} for n, b in enumerate(bounds)})
        condition += {
            "begins_with": " AND begins_with(#r, :r0)",
            "BETWEEN": " AND #r BETWEEN :r0 AND :r1",
        }.get(op, f" AND #r {op} :r0")
    elif sort_key == "sk" and q["sk_above"] is not None:
        condition += " AND sk > :s"
        values[":s"] = {"N": str(q["sk_above"])}
    request: dict[str, Any] = {
        "TableName": names[table],
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": names_used,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": q["forward"],
    }
    if index:
        request["IndexName"] = index
    if q["limit"]:
        request["Limit"] = q["limit"]
    if q["select"] == "COUNT":
        request["Select"] = "COUNT"
    elif q["select"] == "SPECIFIC_ATTRIBUTES":
        request["ProjectionExpression"] = "pk, #x"
        names_used["#x"] = "x"
    if q["filter"] is not None:
        request["FilterExpression"] = "#x >= :x"
        names_used["#x"] = "x"
        values[":x"] = {"N": str(q["filter"])}
    return request


def _pages(ddb: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of the Query, or the error it answers with."""
    pages = []
    asked = dict(request)
    for _ in range(50):
        try:
            page = ddb.query(**asked)
        except ClientError as error:
            return [{"error": error.response["Error"]}]
        page.pop("ResponseMetadata")
        pages.append(page)
        if "LastEvaluatedKey" not in page:
            return pages
        asked["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    raise AssertionError(f"more than 50 pages: {request}")


def _same_as_moto(ddb: Any, request: dict[str, Any]) -> None:
    patched = _pages(ddb, request)
    with mock.patch.object(Table, "query", Table.query.__wrapped__):
        own = _pages(ddb, request)
    assert patched == own, request


def _every_partition(ddb: Any, names: dict[str, str], asked: dict[str, Any]) -> None:
    """Each partition of every index and of the base tables, whole, compared with moto's answer."""
    for table, index in [("ranged", "ByG"), ("ranged", "ByH"), ("ranged", "ByR"), ("ranged", None), ("single", "ByG")]:
        for partition in PARTITIONS:
            whole = {"target": (table, index), "partition": partition, "range": None, "sk_above": None}
            _same_as_moto(ddb, _request(names, asked | whole | {"limit": None, "select": None, "filter": None}))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps, last=queries)
def test_a_query_answers_every_page_as_moto_s_own_after_any_writes(ddb: Any, steps: list[Any], last: Any) -> None:
    names = _tables(ddb)
    _every_partition(ddb, names, last)  # the first index Query files the items: the writes keep them filed
    for step in [*steps, ("query", last)]:
        if step[0] == "query":
            _same_as_moto(ddb, _request(names, step[1]))
        else:
            _write(ddb, names, step)
    _every_partition(ddb, names, last)
    for name in names.values():
        ddb.delete_table(TableName=name)


def test_a_query_reads_only_its_partition(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    names = _tables(ddb)
    table = names["ranged"]
    for sk in range(200):
        ddb.put_item(TableName=table, Item=_item("ranged", {"pk": "a", "sk": sk}, {**_NONE, "g": "a", "r": "r1"}))
    ddb.put_item(TableName=table, Item=_item("ranged", {"pk": "b", "sk": 0}, {**_NONE, "g": "b", "r": "r1"}))
    by_g = {
        "TableName": table,
        "IndexName": "ByG",
        "KeyConditionExpression": "g = :b",
        "ExpressionAttributeValues": {":b": {"S": "b"}},
    }
    assert ddb.query(**by_g)["Count"] == 1  # files the table's items by g, walking them once
    ddb.update_item(
        TableName=table,
        Key=_key("ranged", {"pk": "a", "sk": 7}),
        UpdateExpression="SET g = :b",
        ExpressionAttributeValues={":b": {"S": "b"}},
    )
    seen: list[int] = []  # how many items moto's query walked, per Query
    walked = Table.all_items
    monkeypatch.setattr(Table, "all_items", lambda self: seen.append(len(items := walked(self))) or items)
    by_index = ddb.query(**by_g)
    by_table = ddb.query(
        TableName=table, KeyConditionExpression="pk = :b", ExpressionAttributeValues={":b": {"S": "b"}}
    )
    assert [i["sk"]["N"] for i in by_index["Items"]] == ["7", "0"]  # moved in by the update; same r: by key
    assert by_table["Count"] == 1
    assert seen == [2, 1]  # moto's walks 201 items for each


_NONE = {"g": None, "h": None, "r": None, "x": 0}


def _big_item(sk: int, pad: int) -> dict[str, Any]:
    """An item of about `pad` bytes in a map (sized by moto key by key, as an order's lines are)."""
    lines = {f"line{n}": {"S": "x" * 100} for n in range(pad // 105)}
    return {**_item("ranged", {"pk": "a", "sk": sk}, {**_NONE, "g": "a", "h": "a", "r": "r1"}), "m": {"M": lines}}


@pytest.mark.parametrize(
    "asked",
    [
        {"Select": "COUNT"},
        {"Select": "COUNT", "Limit": 7},
        {"Select": "COUNT", "IndexName": "ByR", "ScanIndexForward": False, "Limit": 11},
        {"IndexName": "ByR", "Limit": 9},
        {"ProjectionExpression": "pk, sk, x", "ScanIndexForward": False},
        {"FilterExpression": "x >= :x"},
        {},
    ],
)
def test_pages_end_at_moto_s_1_mb_as_in_moto(ddb: Any, asked: dict[str, Any]) -> None:
    """Items of 40-60 KB: a page ends where moto's 1 MB of item sizes ends it, COUNT or not, by every
    projection, Limit and ExclusiveStartKey."""
    names = _tables(ddb)
    for sk in range(60):
        ddb.put_item(TableName=names["ranged"], Item=_big_item(sk, 40_000 + 400 * sk))
    values = {":a": {"S": "a"}, **({":x": {"N": "0"}} if "FilterExpression" in asked else {})}
    condition = {"ByG": "g = :a", "ByR": "pk = :a"}.get(asked.get("IndexName", ""), "pk = :a")
    request = {"TableName": names["ranged"], "KeyConditionExpression": condition} | asked
    pages = _pages(ddb, {**request, "ExpressionAttributeValues": values})
    assert len(pages) > 2  # the 1 MB limit cut the partition, not only Limit
    _same_as_moto(ddb, {**request, "ExpressionAttributeValues": values})


@pytest.mark.parametrize(
    "asked",
    [
        {"Select": "COUNT", "IndexName": "ByH", "KeyConditionExpression": "h = :a"},
        {"Select": "COUNT", "IndexName": "ByG", "FilterExpression": "x >= :x"},
        {"IndexName": "ByH", "KeyConditionExpression": "h = :a"},
        {"IndexName": "ByG", "ScanIndexForward": False},
        {"IndexName": "ByG", "Limit": 9},
    ],
)
def test_a_page_of_a_keys_only_or_include_index_holds_1_mb_of_its_entries(ddb: Any, asked: dict[str, Any]) -> None:
    """DynamoDB sizes an index Query's page by the index entries it reads: the 60 items of 40-60 KB have
    entries of a few bytes each, all in one page (or pages of Limit), where moto's own ends a page at 1 MB of
    the table's items. Same items, same order, same count."""
    names = _tables(ddb)
    for sk in range(60):
        ddb.put_item(TableName=names["ranged"], Item=_big_item(sk, 40_000 + 400 * sk))
    values = {":a": {"S": "a"}, **({":x": {"N": "0"}} if "FilterExpression" in asked else {})}
    request = {"TableName": names["ranged"], "KeyConditionExpression": "g = :a"} | asked
    request["ExpressionAttributeValues"] = values
    patched = _pages(ddb, request)
    with mock.patch.object(Table, "query", Table.query.__wrapped__):
        own = _pages(ddb, request)
    assert len(patched) == (7 if "Limit" in asked else 1)
    assert len(own) == 7 if "Limit" in asked else len(own) > 2  # 9 items of 60 KB are under moto's 1 MB
    assert [i for page in patched for i in page.get("Items", [])] == [i for page in own for i in page.get("Items", [])]
    assert sum(page["Count"] for page in patched) == sum(page["Count"] for page in own) == 60


def test_a_count_query_sizes_each_item_once_and_copies_none(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto sizes every item it counts twice, deep-copies them all and projects them onto the index; the
    patched Query sizes each once, copies and projects none."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    names = _tables(ddb)
    for sk in range(20):
        ddb.put_item(TableName=names["ranged"], Item=_big_item(sk, 2_000))
    calls = {"size": 0, "copy": 0}
    sized, copied = DynamoType.size, Item.__deepcopy__

    def counted_size(self: Any) -> int:
        calls["size"] += 1
        return sized(self)

    def counted_copy(self: Any, memo: Any) -> Any:
        calls["copy"] += 1
        return copied(self, memo)

    monkeypatch.setattr(DynamoType, "size", counted_size)
    monkeypatch.setattr(Item, "__deepcopy__", counted_copy)
    by_table = {
        "TableName": names["ranged"],
        "KeyConditionExpression": "pk = :a",
        "ExpressionAttributeValues": {":a": {"S": "a"}},
        "Select": "COUNT",
    }
    by_index = {**by_table, "IndexName": "ByG", "KeyConditionExpression": "g = :a"}  # INCLUDE: projects

    def asked(request: dict[str, Any]) -> dict[str, int]:
        calls.update(size=0, copy=0)
        assert ddb.query(**request)["Count"] == 20
        return dict(calls)

    patched = asked(by_table)
    with mock.patch.object(Table, "query", Table.query.__wrapped__):
        own = asked(by_table)
        own_by_index = asked(by_index)
    assert own["copy"] == own_by_index["copy"] == 20
    assert own_by_index["size"] > own["size"]  # moto also sizes what it projects onto the index
    assert patched == {"size": own["size"] // 2, "copy": 0}
    entries = asked(by_index)  # the index's entries are sized, not the items: a few attributes each
    assert entries["copy"] == 0 and entries["size"] < patched["size"]


@pytest.mark.parametrize("index", [None, "ByG", "ByR"])
def test_a_range_query_sizes_only_the_items_in_its_range(ddb: Any, monkeypatch: pytest.MonkeyPatch, index: Any) -> None:
    """moto sizes every item of the partition for its page end, in the sort key's range or not (a day's COUNT
    over a partition of every order); the patched Query sizes only those in the range, as DynamoDB reads."""
    from moto.dynamodb.models.dynamo_type import Item

    names = _tables(ddb)
    for sk in range(40):
        r = "r1" if sk < 3 else "s1"
        ddb.put_item(
            TableName=names["ranged"], Item=_item("ranged", {"pk": "a", "sk": sk}, {**_NONE, "g": "a", "r": r})
        )
    sized: list[int] = []
    own_size = Item.size
    monkeypatch.setattr(Item, "size", lambda self: sized.append(1) or own_size(self))
    condition = {None: "pk = :a AND sk < :s", "ByG": "g = :a AND r < :s", "ByR": "pk = :a AND r < :s"}[index]
    bound = {"N": "3"} if index is None else {"S": "r2"}
    request = {
        "TableName": names["ranged"],
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": {":a": {"S": "a"}, ":s": bound},
        "Select": "COUNT",
        **({"IndexName": index} if index else {}),
    }
    assert ddb.query(**request)["Count"] == 3
    patched, sized[:] = len(sized), []
    with mock.patch.object(Table, "query", Table.query.__wrapped__):
        assert ddb.query(**request)["Count"] == 3
    # moto asks each item's size for the page end, and again for each it keeps: 40 + 3 by moto's own, and
    # the 3 in the range and the one past it when handed those
    assert (patched, len(sized)) == (4 + 3, 40 + 3)
    _same_as_moto(ddb, {key: value for key, value in request.items() if key != "Select"})


def test_an_index_entry_is_sized_as_moto_sizes_the_entry_it_projects(ddb: Any) -> None:
    from moto.dynamodb.models import dynamodb_backends

    from oms_local.moto_patches import _entry_attributes, _entry_size

    names = _tables(ddb)
    ddb.put_item(TableName=names["ranged"], Item=_big_item(1, 5_000))
    table = dynamodb_backends["123456789012"][REGION].get_table(names["ranged"])
    item = table.all_items()[0]
    for index in table.global_indexes:
        assert _entry_size(item, _entry_attributes(table, index)) == index.project(item).size() < item.size()
