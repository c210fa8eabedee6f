"""Clearances of possible restricted-party matches over real HTTP (`chipgate serve`), on SQLite
and PostgreSQL: recorded by an officer, listed for analysts, withdrawn, journalled."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import httpx
import pytest

from chipgate.decide import decide
from chipgate.inputs import parse_shipment
from chipgate.rulebook import default_rulebook
from tests.clearance_case import PARTY, RECORD, SHIPMENT
from tests.service.conftest import Running


def entry_fingerprint(aliases: tuple[str, ...] = ()) -> str:
    listed = next(e for e in default_rulebook().restricted_parties.entries if e.record_id == RECORD)
    return dataclasses.replace(listed, aliases=aliases).fingerprint if aliases else listed.fingerprint


def a_party() -> str:
    """A party of its own per test: the server is shared by the module's tests."""
    return f"Garment Maker {uuid.uuid4().hex[:8]} Co., Ltd."


def body(party: str, **changes: Any) -> dict[str, Any]:
    return {"party": party, "record_id": RECORD, "reason": "a garment maker; its USCC differs", **changes}


def error_at(response: httpx.Response) -> list[str]:
    loc: list[str] = response.json()["detail"][0]["loc"]
    return loc


def test_an_officer_clears_and_an_analyst_lists_it(officer: httpx.Client, analyst: httpx.Client) -> None:
    party = a_party()
    made = officer.post("/v1/ledger/clearances", json=body(party))
    assert made.status_code == 201, made.text
    found = made.json()
    assert found["id"].startswith("CLR-") and found["status"] == "live"
    assert found["actor"] == "olga-officer" and found["list_code"] == "EL"
    assert found["entry_fingerprint"] == entry_fingerprint()
    assert found["snapshot"] == default_rulebook().restricted_parties.snapshot_id
    listed = analyst.get("/v1/ledger/clearances").json()
    assert [c for c in listed if c["id"] == found["id"]] == [found]
    journal = analyst.get("/v1/journal", params={"op": "clear", "subject": found["id"]}).json()
    assert [(e["actor"], e["data"]["party"], e["data"]["record_id"]) for e in journal] == [
        ("olga-officer", party, RECORD)
    ]
    assert analyst.get("/v1/verify").json()["ok"] is True


def test_the_same_clearance_again_returns_it_and_another_reason_is_409(officer: httpx.Client) -> None:
    party = a_party()
    first = officer.post("/v1/ledger/clearances", json=body(party)).json()
    again = officer.post("/v1/ledger/clearances", json=body(party.upper()))
    assert again.status_code == 201 and again.json()["id"] == first["id"]
    other = officer.post("/v1/ledger/clearances", json=body(party, reason="another reason"))
    assert other.status_code == 409
    assert other.json()["code"] == "clearance_exists" and first["id"] in other.json()["detail"]


def test_roles(running: Running, analyst: httpx.Client) -> None:
    assert analyst.post("/v1/ledger/clearances", json=body(a_party())).status_code == 403
    assert analyst.post("/v1/ledger/clearances/CLR-1/revoke", json={"reason": "r"}).status_code == 403
    with running.server.client() as anonymous:
        assert anonymous.get("/v1/ledger/clearances").status_code == 401
        assert anonymous.post("/v1/ledger/clearances", json=body(a_party())).status_code == 401


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"record_id": RECORD, "reason": "r"}, "party"),
        ({"party": "P", "record_id": RECORD, "reason": "  "}, "reason"),
        ({"party": "P", "record_id": RECORD, "reason": 7}, "reason"),
        ({"party": "P", "record_id": "rpl-not-on-any-list", "reason": "r"}, "record_id"),
        ({"party": "P", "record_id": "rpl-x", "entry_fingerprint": "abc", "reason": "r"}, "list_code"),
        ({"party": "P", "record_id": RECORD, "reason": "r", "actor": "someone else"}, "actor"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    officer: httpx.Client, analyst: httpx.Client, sent: dict[str, Any], field: str
) -> None:
    before = len(analyst.get("/v1/ledger/clearances").json())
    response = officer.post("/v1/ledger/clearances", json=sent)
    assert response.status_code == 422, response.text
    assert error_at(response) == ["body", field]
    assert len(analyst.get("/v1/ledger/clearances").json()) == before


def test_a_body_that_is_not_an_object_is_422(officer: httpx.Client) -> None:
    response = officer.post("/v1/ledger/clearances", json=["party"])
    assert response.status_code == 422 and error_at(response) == ["body"]


def test_a_clearance_of_another_entry_version_is_listed_as_lapsed(officer: httpx.Client) -> None:
    older = entry_fingerprint(("Dahua",))
    made = officer.post("/v1/ledger/clearances", json=body(a_party(), entry_fingerprint=older))
    assert made.status_code == 201 and made.json()["status"] == "lapsed"
    assert made.json()["snapshot"] == "" and made.json()["entry_fingerprint"] == older


def test_withdrawal(officer: httpx.Client, analyst: httpx.Client) -> None:
    made = officer.post("/v1/ledger/clearances", json=body(a_party())).json()
    number = made["id"].removeprefix("CLR-")
    missing_reason = officer.post(f"/v1/ledger/clearances/{made['id']}/revoke", json={})
    assert missing_reason.status_code == 422 and error_at(missing_reason) == ["body", "reason"]
    withdrawn = officer.post(f"/v1/ledger/clearances/{number}/revoke", json={"reason": "USCC misread"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn" and withdrawn.json()["revoked_by"] == "olga-officer"
    live = analyst.get("/v1/ledger/clearances", params={"live": "true"}).json()
    assert made["id"] not in {c["id"] for c in live}
    unknown = officer.post("/v1/ledger/clearances/CLR-999999/revoke", json={"reason": "r"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_clearance"
    assert officer.post("/v1/ledger/clearances/nonsense/revoke", json={"reason": "r"}).status_code == 404
    assert analyst.get("/v1/verify").json()["ok"] is True


def test_the_operations_are_in_the_openapi_document(analyst: httpx.Client) -> None:
    paths = analyst.get("/openapi.json").json()["paths"]
    assert set(paths["/v1/ledger/clearances"]) == {"get", "post"}
    assert "post" in paths["/v1/ledger/clearances/{clearance_id}/revoke"]


def test_a_clearance_turns_the_decision_and_the_reservation(officer: httpx.Client, analyst: httpx.Client) -> None:
    decision = decide(parse_shipment(SHIPMENT))
    assert [(h.record_id, h.strength) for h in decision.party_hits] == [(RECORD, "possible")]
    key = f"po-{uuid.uuid4().hex[:8]}"
    held = analyst.post("/v1/decide", params={"check": "true"}, json=SHIPMENT).json()
    assert held["outcome"] == "needs_authorization"
    assert len(held["missing"]) == 1 and RECORD in held["missing"][0]
    refused = officer.post("/v1/reservations", json={"key": key, "shipment": SHIPMENT})
    assert refused.status_code == 409 and refused.json()["code"] == "not_covered"
    assert RECORD in refused.json()["missing"][0]

    made = officer.post("/v1/ledger/clearances", json=body(PARTY)).json()
    cleared = analyst.post("/v1/decide", params={"check": "true"}, json=SHIPMENT).json()
    assert cleared["outcome"] == "allowed" and cleared["missing"] == []
    assert cleared["reasons"][-1]["rule"] == "screening.clearance" and made["id"] in cleared["reasons"][-1]["text"]
    # Without check=true the decision is the rules' alone: the clearance is the ledger's.
    assert analyst.post("/v1/decide", json=SHIPMENT).json()["outcome"] == "needs_authorization"
    reserved = officer.post("/v1/reservations", json={"key": key, "shipment": SHIPMENT})
    assert reserved.status_code == 201, reserved.text

    officer.post(f"/v1/ledger/clearances/{made['id']}/revoke", json={"reason": "misread"})
    posted = officer.post(f"/v1/reservations/{key}/post")
    assert posted.status_code == 409 and posted.json()["code"] == "clearance_withdrawn"
    assert analyst.get("/v1/verify").json()["ok"] is True
