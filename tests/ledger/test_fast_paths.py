"""The shortcuts the reservation paths take give exactly what the general code gives."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import ACTOR, licence, seed_standard, shipment
from hypothesis import given, settings
from hypothesis import strategies as st

from chipgate.ledger import Ledger, LedgerError
from chipgate.ledger.coverage import Plan, Slot, choose, take
from chipgate.ledger.model import canonical_json, canonical_json_plain

# Text with every code point JSON may carry from Python (no lone surrogates, which the
# ledger refuses as input anyway).
TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(PLAIN)
def test_the_plain_encoder_writes_the_canonical_text(value: Any) -> None:
    assert canonical_json_plain(value) == canonical_json(value)


class Room:
    def __init__(self, limit: int | None, held: int, used: int, value_limit: int | None, value_used: int) -> None:
        self.limit, self.held, self.used = limit, held, used
        self.value_limit, self.value_held, self.value_used = value_limit, 0, value_used


ROOM = st.builds(
    Room,
    st.none() | st.integers(0, 50),
    st.integers(0, 20),
    st.integers(0, 20),
    st.none() | st.integers(0, 5000),
    st.integers(0, 2000),
)
REQUIREMENTS = ("us_export_license", "derived_volume_cap", "per_customer_cap", "cn_import_approval")


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    ids = iter(draw(st.lists(st.sampled_from("ABCDEFGHIJ"), min_size=6, max_size=6, unique=True)))
    slots = []
    for requirement in draw(st.lists(st.sampled_from(REQUIREMENTS), max_size=4, unique=True)):
        routes = tuple(
            tuple(next(ids, "Z") for _ in range(draw(st.integers(1, 2)))) for _ in range(draw(st.integers(1, 2)))
        )
        slots.append(Slot(requirement, routes, 1, None))
    return Plan(tuple(slots), (), ())


@settings(max_examples=400, deadline=None)
@given(plans(), st.dictionaries(st.sampled_from("ABCDEFGHIJZ"), ROOM, min_size=11), st.integers(1, 30))
def test_take_gives_the_legs_or_first_shortfall_choose_gives(
    plan: Plan, accounts: dict[str, Room], quantity: int
) -> None:
    value = quantity * 100 if quantity % 3 else None
    taken = take(plan, accounts, quantity, value)
    legs, shortfalls = choose(plan, accounts, quantity, value)
    if plan.draws is None:
        assert taken is None
    elif shortfalls:
        assert taken == shortfalls[0]
    else:
        assert taken == tuple(sorted(legs, key=lambda g: g.authorization_id))


def test_a_value_limited_licence_refuses_a_shipment_without_a_value(ledger: Ledger) -> None:
    seed_standard(ledger)
    ledger.authorize(licence("LIC-VAL", "Example Cloud", 100, value_usd="500000"), actor=ACTOR)
    ledger.authorize(
        {
            "id": "CN-EXAMPLE",
            "kind": "cn_import_approval",
            "holders": ["Example Cloud"],
            "products": ["nvidia-h200-sxm"],
            "quantity": 100,
            "status": "final",
        },
        actor=ACTOR,
    )
    ledger.reserve("warm", shipment(1), actor=ACTOR)  # terms cached: the fast paths apply
    with pytest.raises(LedgerError) as refused:
        ledger.reserve("no-value", shipment(5, "Example Cloud", unit_value=None), actor=ACTOR)
    assert refused.value.code == "insufficient_balance"
    assert "unit_value_usd" in str(refused.value)
    held = ledger.reserve("valued", shipment(5, "Example Cloud", unit_value="1000"), actor=ACTOR)
    assert {leg.authorization_id: leg.value_cents for leg in held.legs}["LIC-VAL"] == 500000
    assert ledger.verify().ok


def test_a_refusal_names_the_first_slot_short_as_the_locking_path_does(ledger: Ledger) -> None:
    seed_standard(ledger, pool=22, us_shipped=40)  # a volume cap of 20
    ledger.reserve("warm", shipment(1), actor=ACTOR)
    with pytest.raises(LedgerError) as refused:
        ledger.reserve("big", shipment(25), actor=ACTOR)
    # Both the volume cap and the pool lack room; the cap's slot comes first.
    assert refused.value.code == "insufficient_balance"
    assert "CAP-NVDA-H200" in str(refused.value)
    assert [r.key for r in ledger.reservations()] == ["warm"]
    assert ledger.verify().ok


@pytest.mark.postgres
def test_the_reserve_function_writes_nothing_on_stale_terms(target: str) -> None:
    if not target.startswith("postgresql"):
        pytest.skip("the one-statement reservation is PostgreSQL's")
    with Ledger(target) as ledger:
        seed_standard(ledger)
        ledger.reserve("warm", shipment(1), actor=ACTOR)
        before = len(ledger.journal())
        terms_seq = ledger._terms_seq
        rows = ledger.store.single(
            "SELECT o_status FROM chipgate_reserve(?, ?, ?::bigint, ?, ?, ?, ?, ?, ?::bigint,"
            " ?::text[], ?::bigint[], ?::bigint[], ?::bigint[])",
            ("k", "d", 1, "{}", "2026-03-01", "2026-03-02", ACTOR, "{}", terms_seq, "{LIC-ALI}", "{1}", "{0}", "{99}"),
        )
        assert rows == [("stale",)]  # version 99 is not the licence's
        assert len(ledger.journal()) == before
        assert [r.key for r in ledger.reservations()] == ["warm"]
