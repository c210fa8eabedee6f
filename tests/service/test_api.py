"""The /v1 API over real HTTP against `chipgate serve`, on SQLite and on PostgreSQL."""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx

import chipgate
from tests.service.conftest import SHIPMENT, Running
from tests.service.server import service_command

LICENCE = "US-DEMO-NVDA-ALIBABA"
POOL = "cn-h200-2026-01-28"


def shipment(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(SHIPMENT)
    out.update(changes)
    return out


def balance(client: httpx.Client, authorization: str) -> dict[str, Any]:
    rows = client.get("/v1/balances").json()
    found: dict[str, Any] = next(b for b in rows if b["authorization"] == authorization)
    return found


def new_key() -> str:
    return f"test-{uuid.uuid4().hex}"


# ---- keys and roles -------------------------------------------------------------------------


def test_health_needs_no_key(anonymous: httpx.Client) -> None:
    response = anonymous.get("/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_missing_and_unknown_keys_are_401(anonymous: httpx.Client, running: Running) -> None:
    missing = anonymous.post("/v1/decide", json=SHIPMENT)
    assert missing.status_code == 401
    assert missing.json()["code"] == "missing_key"
    with running.server.client("cg_not-a-real-key-at-all-000000000000") as wrong:
        response = wrong.get("/v1/balances")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_key"


def test_roles_are_ordered(analyst: httpx.Client, officer: httpx.Client, admin: httpx.Client) -> None:
    assert analyst.post("/v1/decide", json=SHIPMENT).status_code == 200
    assert analyst.get("/v1/balances").status_code == 200
    refused = analyst.post("/v1/reservations", json={"key": new_key(), "shipment": SHIPMENT})
    assert refused.status_code == 403
    assert "officer" in refused.json()["detail"]
    assert analyst.get("/v1/keys").status_code == 403
    licence = {"id": f"lic-{uuid.uuid4().hex[:8]}", "kind": "us_export_license", "products": ["nvidia-h200-sxm"]}
    assert officer.post("/v1/authorizations", json={**licence, "quantity": 1, "consignees": ["X"]}).status_code == 403
    assert officer.post(f"/v1/authorizations/{LICENCE}/revoke", json={}).status_code == 403
    assert admin.get("/v1/keys").status_code == 200
    assert [k["role"] for k in admin.get("/v1/keys").json() if k["name"] == "ana-analyst"] == ["analyst"]


def test_whoami_names_the_key(officer: httpx.Client) -> None:
    assert officer.get("/v1/whoami").json() == {"name": "olga-officer", "role": "officer"}


def test_a_revoked_key_is_refused(running: Running, admin: httpx.Client) -> None:
    name = f"temp-{uuid.uuid4().hex[:6]}"
    token = running.server.create_key(name, "analyst")
    with running.server.client(token) as client:
        assert client.get("/v1/whoami").status_code == 200
        # The key is now in the server's cache, which the short way for decisions reads.
        assert client.post("/v1/decide", json=SHIPMENT).status_code == 200
        assert admin.post(f"/v1/keys/{name}/revoke").json()["active"] is False
        assert client.get("/v1/whoami").status_code == 401
        assert client.post("/v1/decide", json=SHIPMENT).status_code == 401


def test_keys_made_on_the_command_line_work_on_the_running_server(running: Running) -> None:
    name = f"cli-{uuid.uuid4().hex[:6]}"
    made = subprocess.run(
        service_command(
            "keys", "create", "--role", "officer", "--name", name, "--ledger", running.server.target, "--json"
        ),
        capture_output=True,
        text=True,
        check=True,
    )
    token = json.loads(made.stdout)["token"]
    listed = subprocess.run(
        service_command("keys", "list", "--ledger", running.server.target, "--json"),
        capture_output=True,
        text=True,
        check=True,
    )
    entry = next(k for k in json.loads(listed.stdout) if k["name"] == name)
    assert entry["role"] == "officer"
    assert token not in listed.stdout, "a listing must never show a token"
    with running.server.client(token) as client:
        assert client.get("/v1/whoami").json() == {"name": name, "role": "officer"}
        subprocess.run(
            service_command("keys", "revoke", name, "--ledger", running.server.target), check=True, capture_output=True
        )
        time.sleep(0.5)  # the server trusts a verified key for CHIPGATE_SERVICE_KEY_TTL (0.2 s here)
        assert client.get("/v1/whoami").status_code == 401


# ---- request limits and validation ----------------------------------------------------------


def test_a_body_over_the_limit_is_413(analyst: httpx.Client) -> None:
    big = shipment(consignee={"name": "x" * 70_000, "country": "CN"})
    response = analyst.post("/v1/decide", json=big)
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


def test_a_chunked_body_over_the_limit_is_413(analyst: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 8192

    response = analyst.post("/v1/decide", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_invalid_bodies_are_422_naming_the_field(analyst: httpx.Client, officer: httpx.Client) -> None:
    bad_country = analyst.post("/v1/decide", json=shipment(consignee={"name": "A", "country": "ZZ"}))
    assert bad_country.status_code == 422
    assert bad_country.json()["detail"][0]["loc"] == ["body", "consignee", "country"]
    missing = analyst.post("/v1/decide", json={k: v for k, v in SHIPMENT.items() if k != "quantity"})
    assert missing.json()["detail"][0]["loc"] == ["body", "quantity"]
    not_json = analyst.post("/v1/decide", content=b"{not json", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422
    assert not_json.json()["detail"][0]["loc"] == ["body"]
    nested = officer.post("/v1/reservations", json={"key": new_key(), "shipment": shipment(quantity=0)})
    assert nested.status_code == 422
    assert nested.json()["detail"][0]["loc"] == ["body", "shipment", "quantity"]
    bad_date = analyst.post("/v1/decide?as_of=yesterday", json=SHIPMENT)
    assert bad_date.status_code == 422
    assert bad_date.json()["detail"][0]["loc"] == ["query", "as_of"]


def test_unknown_chips(analyst: httpx.Client) -> None:
    in_path = analyst.get("/v1/classify/nvidia-h201")
    assert in_path.status_code == 404
    assert in_path.json()["code"] == "unknown_chip"
    assert "nvidia-h200-sxm" in in_path.json()["candidates"]
    in_body = analyst.post("/v1/decide", json=shipment(item={"chip": "nvidia-h201"}))
    assert in_body.status_code == 422
    assert in_body.json()["detail"][0]["loc"] == ["body", "item", "chip"]


# ---- the core's contracts -------------------------------------------------------------------


def test_decide_returns_the_cli_contract(analyst: httpx.Client) -> None:
    response = analyst.post("/v1/decide", json=SHIPMENT)
    assert response.status_code == 200
    expected = json.loads(json.dumps(chipgate.decide(SHIPMENT).to_dict()))
    assert response.json() == expected
    assert response.json()["us_export"]["review_policy"] == "case_by_case"
    earlier = analyst.post("/v1/decide?as_of=2025-06-01", json=SHIPMENT).json()
    assert earlier["as_of"] == "2025-06-01"
    assert earlier["us_export"]["review_policy"] != "case_by_case"


def test_decide_answers_alike_on_the_first_and_later_calls(running: Running) -> None:
    # A key's first call goes through the route (the key is looked up in the database);
    # later ones, with the key cached, take the short way (chipgate.service.fast).
    token = running.server.create_key(f"twice-{uuid.uuid4().hex[:6]}", "analyst")
    with running.server.client(token) as client:
        answers = [client.post("/v1/decide?as_of=2026-03-02", json=SHIPMENT) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {a.headers["content-type"] for a in answers} == {"application/json"}
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert answers[0].json() == json.loads(json.dumps(chipgate.decide(SHIPMENT, dt.date(2026, 3, 2)).to_dict()))


def test_decide_with_check_reads_the_ledger(analyst: httpx.Client) -> None:
    checked = analyst.post("/v1/decide?check=true", json=SHIPMENT).json()
    assert LICENCE in checked["covered_by"]
    assert POOL in checked["covered_by"]
    assert checked["outcome"] == "allowed"
    uncovered = analyst.post("/v1/decide?check=true", json=shipment(consignee={"name": "Nobody", "country": "CN"}))
    assert uncovered.json()["missing"]


def test_classify_by_id_and_by_spec(analyst: httpx.Client) -> None:
    by_id = analyst.get("/v1/classify/nvidia-h200-sxm?as_of=2026-03-02").json()
    on = dt.date(2026, 3, 2)
    assert by_id == json.loads(json.dumps(chipgate.classify("nvidia-h200-sxm", on).to_dict()))
    assert by_id["eccn"] == "3A090.a"
    spec = {"dense_tops": {"fp8": 1979}, "die_area_mm2": 814, "dram_bandwidth_gbs": 4800}
    by_spec = analyst.post("/v1/classify?as_of=2026-03-02", json=spec).json()
    assert by_spec["tpp"] == by_id["tpp"] == 15832
    bad = analyst.post("/v1/classify", json={"dense_tops": {"fp9": 1}})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "dense_tops", "fp9"]


def test_chips_and_timeline(analyst: httpx.Client) -> None:
    chips = analyst.get("/v1/chips").json()
    assert any(c["id"] == "nvidia-h200-sxm" for c in chips)
    assert analyst.get("/v1/chips/H200").json()["id"] == "nvidia-h200-sxm"
    timeline = analyst.get("/v1/timeline/nvidia-h200-sxm?to=CN").json()
    policies = [p["review_policy"] for p in timeline["periods"]]
    assert "presumption_of_denial" in policies and "case_by_case" in policies
    assert analyst.get("/v1/timeline/nvidia-h200-sxm?to=XX").json()["detail"][0]["loc"] == ["query", "to"]


# ---- the ledger -----------------------------------------------------------------------------


def test_seeded_with_the_2026_scenario(analyst: httpx.Client) -> None:
    pool = balance(analyst, POOL)
    assert pool["limit"] == 400_000
    assert pool["used"] > 0
    allocation = analyst.get(f"/v1/authorizations/{POOL}/allocation").json()
    assert {c["company"] for c in allocation["companies"]} >= {"ByteDance", "Alibaba", "Tencent"}
    cap = analyst.get("/v1/authorizations/CAP-NVDA-H200/series").json()["points"]
    assert cap[-1]["limit"] == cap[-1]["us_shipped"] // 2
    assert analyst.get("/v1/verify").json()["ok"] is True


def test_reserve_post_void_with_idempotency(officer: httpx.Client, analyst: httpx.Client) -> None:
    before = balance(analyst, LICENCE)
    key = new_key()
    first = officer.post("/v1/reservations", json={"key": key, "shipment": SHIPMENT})
    assert first.status_code == 201, first.text
    held = first.json()
    assert held["status"] == "pending"
    assert {leg["authorization"] for leg in held["legs"]} >= {LICENCE, POOL}
    assert balance(analyst, LICENCE)["held"] == before["held"] + 500

    retry = officer.post("/v1/reservations", json={"key": key, "shipment": SHIPMENT})
    assert retry.status_code == 201
    assert retry.json()["created_at"] == held["created_at"]
    assert balance(analyst, LICENCE)["held"] == before["held"] + 500, "a retry must not hold twice"

    conflict = officer.post("/v1/reservations", json={"key": key, "shipment": shipment(quantity=501)})
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency_conflict"

    posted = officer.post(f"/v1/reservations/{key}/post")
    assert posted.json()["status"] == "posted"
    assert officer.post(f"/v1/reservations/{key}/post").json()["status"] == "posted"
    after = balance(analyst, LICENCE)
    assert (after["held"], after["used"]) == (before["held"], before["used"] + 500)
    refused = officer.post(f"/v1/reservations/{key}/void")
    assert refused.status_code == 409
    assert refused.json()["code"] == "already_posted"

    other = new_key()
    officer.post("/v1/reservations", json={"key": other, "shipment": shipment(quantity=100)}).raise_for_status()
    assert officer.post(f"/v1/reservations/{other}/void").json()["status"] == "voided"
    assert balance(analyst, LICENCE)["held"] == before["held"]
    assert analyst.get(f"/v1/reservations/{other}").json()["status"] == "voided"
    assert officer.post("/v1/reservations/no-such-key/post").status_code == 404
    assert analyst.get("/v1/verify").json()["ok"] is True


def test_a_reservation_beyond_the_balance_is_409(officer: httpx.Client, analyst: httpx.Client) -> None:
    available = balance(analyst, LICENCE)["available"]
    response = officer.post("/v1/reservations", json={"key": new_key(), "shipment": shipment(quantity=available + 1)})
    assert response.status_code == 409, (available, response.text)
    assert response.json()["code"] == "insufficient_balance"
    assert balance(analyst, LICENCE)["available"] == available


def test_the_journal_records_who_wrote(officer: httpx.Client, admin: httpx.Client, analyst: httpx.Client) -> None:
    key = new_key()
    officer.post("/v1/reservations", json={"key": key, "shipment": shipment(quantity=10)}).raise_for_status()
    officer.post(f"/v1/reservations/{key}/void").raise_for_status()
    entries = analyst.get("/v1/journal", params={"subject": key}).json()
    assert [(e["op"], e["actor"]) for e in entries] == [("reserve", "olga-officer"), ("void", "olga-officer")]
    by_actor = analyst.get("/v1/journal", params={"actor": "olga-officer", "op": "void", "newest_first": True}).json()
    assert by_actor[0]["subject"] == key
    touching = analyst.get("/v1/journal", params={"authorization": LICENCE, "limit": 1000}).json()
    assert key in {e["subject"] for e in touching}
    assert all(e["op"] != "us_shipment" for e in touching)


def test_authorisations_create_amend_revoke(admin: httpx.Client, analyst: httpx.Client, officer: httpx.Client) -> None:
    auth_id = f"US-TEST-{uuid.uuid4().hex[:6]}"
    terms = {
        "id": auth_id,
        "kind": "us_export_license",
        "licensee": "NVIDIA",
        "consignees": ["Tencent"],
        "products": ["nvidia-h200-sxm"],
        "quantity": 1000,
        "valid_from": "2026-02-01",
        "basis": "assumption",
    }
    created = admin.post("/v1/authorizations", json=terms)
    assert created.status_code == 201, created.text
    assert created.json()["balance"]["limit"] == 1000
    assert admin.post("/v1/authorizations", json=terms).status_code == 201, "the same terms again are a no-op"
    changed = admin.post("/v1/authorizations", json={**terms, "quantity": 5})
    assert changed.status_code == 409
    assert changed.json()["code"] == "authorization_exists"
    missing_field = admin.post("/v1/authorizations", json={**terms, "id": auth_id + "b", "consignees": []})
    assert missing_field.status_code == 422
    assert missing_field.json()["detail"][0]["loc"] == ["body", "consignees"]

    amended = admin.patch(f"/v1/authorizations/{auth_id}", json={"quantity": 2000})
    assert amended.json()["balance"]["limit"] == 2000
    assert auth_id in {a["id"] for a in analyst.get("/v1/authorizations").json()}
    revoked = admin.post(f"/v1/authorizations/{auth_id}/revoke", json={"reason": "test"})
    assert revoked.json()["revoked"] is True
    assert admin.post("/v1/authorizations/NOPE/revoke", json={}).status_code == 404
    assert analyst.get("/v1/authorizations/NOPE").status_code == 404
    history = analyst.get("/v1/journal", params={"subject": auth_id}).json()
    assert [(e["op"], e["actor"]) for e in history] == [("authorize", "admin"), ("amend", "admin"), ("revoke", "admin")]
    using_revoked = officer.post(
        "/v1/reservations",
        json={
            "key": new_key(),
            "shipment": shipment(consignee={"name": "Tencent", "country": "CN"}, end_user=None),
            "using": [auth_id],
        },
    )
    assert using_revoked.status_code == 422
    assert using_revoked.json()["detail"][0]["type"] == "authorization_revoked"


def test_openapi_and_docs(anonymous: httpx.Client) -> None:
    spec = anonymous.get("/openapi.json").json()
    for path in ("/v1/decide", "/v1/classify", "/v1/reservations", "/v1/balances", "/v1/journal", "/v1/verify"):
        assert path in spec["paths"]
    assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    assert anonymous.get("/docs").status_code == 200


def test_the_dashboard_is_served_locally(anonymous: httpx.Client) -> None:
    page = anonymous.get("/", follow_redirects=True)
    assert page.status_code == 200
    assert "vendor/plotly.min.js" in page.text
    assert "http" not in page.text.split("<body>")[0].replace("http-equiv", ""), "no remote assets in the head"
    plotly = anonymous.get("/dashboard/vendor/plotly.min.js")
    assert plotly.status_code == 200
    assert len(plotly.content) > 1_000_000
