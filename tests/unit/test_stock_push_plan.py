"""The stock push's plan: values per warehouse, what is sent, deferred or skipped, batching, the budget."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stock_push.domain import plan

LOCATIONS = [f"loc-{n}" for n in range(6)]
STARTED = "2026-12-02T08:00:00.000Z"


def _state(**changes: object) -> plan.PairState:
    fields: dict[str, object] = {
        "warehouse_id": "77",
        "sku": "SKU-A",
        "offer_id": "SKU-A",
        "amount": 5,
        "stamp": "2026-12-02T07:00:00.000Z",
        "state": "accepted",
        "sent_at": 1000.0,
        "accepted_at": "2026-12-02T07:00:00.000Z",
    }
    fields.update(changes)
    return plan.PairState(**fields)  # type: ignore[arg-type]


@given(st.dictionaries(st.sampled_from(LOCATIONS), st.integers(-50, 500)), st.sets(st.sampled_from(LOCATIONS)))
def test_a_warehouse_gets_its_locations_offers_summed_never_negative(offered: dict[str, int], fed: set[str]) -> None:
    amount = plan.warehouse_amount(offered, plan.Warehouse("77", tuple(sorted(fed))))
    assert amount >= 0
    assert amount == sum(max(offered.get(loc, 0), 0) for loc in fed)


def test_a_sku_not_offered_sends_zero_and_a_dropped_offer_id_gets_its_zero() -> None:
    warehouses = [plan.Warehouse("77", ("wh-1", "wh-2")), plan.Warehouse("78", ("s-1",))]
    pairs = plan.pairs_of("SKU-A", {"wh-1": 3, "wh-2": 4}, warehouses, "ART-A", None, {"78": _state(warehouse_id="78")})
    assert pairs == [
        plan.Pair("SKU-A", "77", "ART-A", 7),
        plan.Pair("SKU-A", "78", "ART-A", 0),
        plan.Pair("SKU-A", "78", "SKU-A", 0, retiring=True),
    ]


def test_a_changed_push_skips_what_was_taken_and_a_full_push_resends_it_once() -> None:
    pair = plan.Pair("SKU-A", "77", "SKU-A", 5)
    taken = _state()
    assert (
        plan.decide(pair, taken, full=False, push_started=STARTED, now=2000.0, pair_interval=30)[0]
        is plan.Decision.skip
    )
    assert plan.decide(pair, _state(state="refused"), full=False, push_started=STARTED, now=2000.0, pair_interval=30)[
        0
    ] is (plan.Decision.skip)
    assert plan.decide(pair, _state(state="retry"), full=False, push_started=STARTED, now=2000.0, pair_interval=30)[
        0
    ] is (plan.Decision.send)
    assert (
        plan.decide(pair, taken, full=True, push_started=STARTED, now=2000.0, pair_interval=30)[0] is plan.Decision.send
    )
    refused_without_size = _state(state="refused", chrt_id=None)
    sized = plan.Pair("SKU-A", "77", "SKU-A", 5, chrt_id=501)  # Wildberries' size id mapped since
    assert plan.decide(sized, refused_without_size, full=False, push_started=STARTED, now=2000.0, pair_interval=0)[
        0
    ] is (plan.Decision.send)
    by_this_push = _state(accepted_at="2026-12-02T08:00:01.000Z")
    assert (
        plan.decide(pair, by_this_push, full=True, push_started=STARTED, now=2000.0, pair_interval=30)[0]
        is plan.Decision.skip
    )


def test_a_pair_sent_within_its_interval_is_deferred_until_the_interval_passed() -> None:
    pair = plan.Pair("SKU-A", "77", "SKU-A", 6)
    assert plan.decide(pair, _state(), full=False, push_started=STARTED, now=1010.0, pair_interval=30) == (
        plan.Decision.defer,
        1030.0,
    )
    assert (
        plan.decide(pair, _state(), full=False, push_started=STARTED, now=1030.0, pair_interval=30)[0]
        is plan.Decision.send
    )
    assert (
        plan.decide(pair, None, full=False, push_started=STARTED, now=1010.0, pair_interval=30)[0] is plan.Decision.send
    )


group_lists = st.lists(
    st.tuples(st.sampled_from(["77", "78", "79"]), st.integers(0, 400), st.booleans()),
    max_size=300,
    unique_by=lambda t: t[1],
)


@given(group_lists, st.integers(2, 50), st.booleans())
def test_batches_lose_nothing_split_no_group_and_respect_size_and_warehouse(
    specs: list[tuple[str, int, bool]], size: int, one_warehouse: bool
) -> None:
    groups = [
        [plan.Pair(f"S{n}", wh, f"S{n}", n)]
        + ([plan.Pair(f"S{n}", wh, f"OLD{n}", 0, retiring=True)] if retiring else [])
        for wh, n, retiring in specs
    ]
    made = plan.batches(groups, size, one_warehouse)
    assert sorted(p.key for b in made for p in b) == sorted(p.key for g in groups for p in g)
    assert all(0 < len(b) <= size for b in made)
    if one_warehouse:
        assert all(len({p.warehouse_id for p in b}) == 1 for b in made)
    for group in groups:
        assert any(all(p in b for p in group) for b in made)


@given(st.lists(st.floats(0, 200), max_size=200), st.floats(0, 200), st.integers(1, 50))
def test_after_the_budget_wait_one_more_request_fits(log: list[float], now: float, per_minute: int) -> None:
    wait = plan.budget_wait(log, now, per_minute)
    assert wait >= 0
    assert len(plan.recent(log, now + wait + 1e-6)) < per_minute


def test_a_group_settles_with_its_line_and_keeps_a_zero_not_taken_yet() -> None:
    group = [plan.Pair("SKU-A", "77", "ART-A", 4), plan.Pair("SKU-A", "77", "SKU-A", 0, retiring=True)]
    sending = plan.Sending("2026-12-02T08:00:00.000Z", 1100.0, "2026-12-02T08:00:01.000Z", verified=False)
    kept = plan.settled(
        _state(), group, {("ART-A", "77"): ("accepted", None), ("SKU-A", "77"): ("retry", "busy")}, sending
    )
    assert (kept.offer_id, kept.amount, kept.state, kept.retired_offer_id) == ("ART-A", 4, "accepted", "SKU-A")
    done = plan.settled(
        kept,
        [*group[:1], plan.Pair("SKU-A", "77", "SKU-A", 0, retiring=True)],
        {
            ("ART-A", "77"): ("accepted", None),
            ("SKU-A", "77"): ("refused", "NOT_FOUND"),
        },
        sending,
    )
    assert done.retired_offer_id is None


@given(st.integers(1, 5000), st.integers(1, 3000))
def test_a_round_fills_the_requests_of_a_partner_taking_one_warehouse_a_request(chunk: int, batch_size: int) -> None:
    size = plan.round_size(chunk, batch_size, one_warehouse_per_request=True)
    assert size >= chunk and size % batch_size == 0 and size - chunk < batch_size
    assert plan.round_size(chunk, batch_size, one_warehouse_per_request=False) == chunk
