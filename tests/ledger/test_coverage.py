"""Pure matching of shipments to authorisations, with decisions built by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from helpers import H200, licence, shipment

import chipgate.ledger
from chipgate.decide import decide
from chipgate.ledger import Authorization
from chipgate.ledger.coverage import (
    child_id,
    choose,
    plan_coverage,
    same_party,
)
from chipgate.ledger.errors import AuthorizationExpired, ProductNotCovered
from chipgate.model import Decision


class Room:
    def __init__(self, limit: int | None, held: int = 0, used: int = 0) -> None:
        self.limit, self.held, self.used = limit, held, used
        self.value_limit: int | None = None
        self.value_held = self.value_used = 0


def auths(*raw: dict[str, object]) -> dict[str, Authorization]:
    return {a.id: a for a in (Authorization.from_dict(r) for r in raw)}


def with_policy(decision: Decision, policy: str) -> Decision:
    us = dataclasses.replace(decision.us_export, review_policy=policy)  # type: ignore[arg-type]
    return dataclasses.replace(decision, us_export=us)


POOL = {
    "id": "POOL",
    "kind": "cn_import_approval",
    "holders": ["ByteDance", "Alibaba", "Tencent"],
    "sub_limits": {"Tencent": 10},
    "products": [H200],
    "status": "conditional",
    "quantity": 100,
}
CAP = {"id": "CAP", "kind": "derived_volume_cap", "exporter": "NVIDIA", "products": [H200]}


def test_names_match_after_normalisation() -> None:
    assert same_party("Alibaba Cloud Co., Ltd.", "ALIBABA CLOUD")
    assert not same_party("Alibaba Cloud", "Alibaba")


def test_licence_matches_by_eccn_and_normalised_consignee() -> None:
    ship = shipment(5, "Alibaba Cloud Co., Ltd.")
    on_file = auths(licence("L", "Alibaba Cloud", 10, products=["3A090.a"]))
    plan = plan_coverage(ship, decide(ship), on_file)
    assert plan.slots[0].routes == (("L",),)
    assert any(m.startswith("cn_import_approval") for m in plan.missing)


def test_case_by_case_draws_the_volume_cap_presumption_of_denial_does_not() -> None:
    ship = shipment(5, "Alibaba")
    on_file = auths(licence("L", "Alibaba", 10), POOL, CAP)
    lane = plan_coverage(ship, with_policy(decide(ship), "case_by_case"), on_file)
    assert [s.requirement for s in lane.slots] == [
        "us_export_license",
        "derived_volume_cap",
        "cn_import_approval",
    ]
    denial = plan_coverage(ship, with_policy(decide(ship), "presumption_of_denial"), on_file)
    assert "derived_volume_cap" not in [s.requirement for s in denial.slots]


def test_a_pool_holder_with_a_sub_limit_draws_its_share_too() -> None:
    ship = shipment(5, "Tencent")
    plan = plan_coverage(ship, decide(ship), auths(licence("L", "Tencent", 10), POOL))
    cn = next(s for s in plan.slots if s.requirement == "cn_import_approval")
    assert cn.routes == (("POOL", child_id("POOL", "Tencent")),)


def test_choose_takes_the_first_route_with_room_and_reports_shortfalls() -> None:
    ship = shipment(8, "Alibaba")
    on_file = auths(licence("A", "Alibaba", 10), licence("B", "Alibaba", 10), POOL)
    plan = plan_coverage(ship, decide(ship), on_file)
    legs, short = choose(plan, {"A": Room(10, held=5), "B": Room(10), "POOL": Room(100)})
    assert [leg.authorization_id for leg in legs] == ["B", "POOL"] and not short
    legs, short = choose(plan, {"A": Room(10, 5), "B": Room(10, 0, 9), "POOL": Room(None)})
    assert short[0].authorization_id == "A" and short[0].available == 5


def test_named_authorisations_that_do_not_apply_give_precise_errors() -> None:
    ship = shipment(5, "Alibaba", on=dt.date(2027, 6, 1))
    on_file = auths(licence("L", "Alibaba", 10))
    with pytest.raises(AuthorizationExpired):
        plan_coverage(ship, decide(ship), on_file, using=["L"])
    h20 = shipment(5, "Alibaba", chip="nvidia-h20")
    with pytest.raises(ProductNotCovered):
        plan_coverage(h20, decide(h20), on_file, using=["L"])


def test_the_public_api_is_deliberate() -> None:
    assert "Ledger" in chipgate.ledger.__all__
    for name in chipgate.ledger.__all__:
        assert hasattr(chipgate.ledger, name), name
