"""`POST /v1/screen` as a client meets it: the screen contract, 200 with or without hits, 4xx naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

import chipgate
from chipgate.ledger import Ledger
from chipgate.rulebook import default_rulebook
from chipgate.service.app import create_app
from chipgate.service.auth import KeyStore

DAWNING = "Dawning Information Industry Co., Ltd."
CLEAR = "Quillfeather Lamp Works Co., Ltd."


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    target = str(tmp_path_factory.mktemp("screen-api") / "ledger.sqlite")
    with Ledger(target) as ledger:
        keys = KeyStore(ledger.store)
        keys.ensure_table()
        token = keys.create("screen-analyst", "analyst")
    with TestClient(create_app(target), headers={"X-API-Key": token}) as test_client:
        yield test_client


def screen(client: TestClient, body: Any) -> dict[str, Any]:
    response = client.post("/v1/screen", json=body)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_a_listed_name_answers_with_the_contract_best_hit_first(client: TestClient) -> None:
    body = screen(client, {"name": DAWNING, "country": "CN"})
    lists = default_rulebook().restricted_parties
    assert set(body) == {"query", "country", "snapshot", "matcher", "thresholds", "hits"}
    assert body["query"] == DAWNING and body["country"] == "CN"
    assert body["snapshot"] == {"id": lists.snapshot_id, "date": lists.snapshot_date.isoformat()}
    scores = [hit["score"] for hit in body["hits"]]
    assert scores == sorted(scores, reverse=True)
    for hit in body["hits"]:
        assert {"record_id", "list", "name", "matched_name", "score", "strength", "countries", "features"} <= set(hit)
        assert hit["strength"] in ("match", "possible") and 0 <= hit["score"] <= 1
        assert hit["entry_fingerprint"]
    (sugon,) = [hit for hit in body["hits"] if hit["list"] == "EL" and hit["name"] == "Sugon"]
    assert sugon["matched_name"] == "Dawning Information Industry" and sugon["strength"] == "match"


def test_the_answer_is_the_cli_and_python_contract(client: TestClient) -> None:
    body = screen(client, {"name": "Sugon", "country": "cn", "lists": ["EL", "1260H"]})
    assert body == chipgate.screen("Sugon", "CN", list_codes=["EL", "1260H"]).to_dict()
    assert {hit["list"] for hit in body["hits"]} == {"EL", "1260H"}


def test_a_clear_name_is_200_with_no_hits(client: TestClient) -> None:
    body = screen(client, {"name": CLEAR, "country": "US", "identifiers": ["USCC:91110000100000000X"]})
    assert body["hits"] == []
    assert body["matcher"]


def test_a_key_is_required(client: TestClient) -> None:
    response = client.post("/v1/screen", json={"name": "Sugon"}, headers={"X-API-Key": ""})
    assert response.status_code == 401
    assert response.json()["code"] == "missing_key"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "name"]),
        ({"name": ""}, ["body", "name"]),
        ({"name": "   "}, ["body", "name"]),
        ({"name": 42}, ["body", "name"]),
        ({"name": "x" * 1001}, ["body", "name"]),
        ({"name": "Sugon", "country": "XX"}, ["body", "country"]),
        ({"name": "Sugon", "country": 86}, ["body", "country"]),
        ({"name": "Sugon", "identifiers": "USCC:1"}, ["body", "identifiers"]),
        ({"name": "Sugon", "identifiers": ["USCC:1", "plain"]}, ["body", "identifiers", "1"]),
        ({"name": "Sugon", "identifiers": [{"USCC": "1"}]}, ["body", "identifiers", "0"]),
        ({"name": "Sugon", "lists": ["SDN"]}, ["body", "lists"]),
        ({"name": "Sugon", "lists": "EL"}, ["body", "lists"]),
        ({"name": "Sugon", "lists": []}, ["body", "lists"]),
        ({"name": "Sugon", "lists": [["EL"]]}, ["body", "lists"]),
        ({"name": "Sugon", "date": "2026-03-02"}, ["body", "date"]),
        (["Sugon"], ["body"]),
    ],
)
def test_bad_input_is_422_naming_the_field(client: TestClient, body: Any, loc: list[str]) -> None:
    response = client.post("/v1/screen", json=body)
    assert response.status_code == 422, response.text
    (detail,) = response.json()["detail"]
    assert detail["loc"] == loc
    assert detail["msg"]


def test_a_body_that_is_not_json_is_422(client: TestClient) -> None:
    response = client.post("/v1/screen", content=b"name=Sugon", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_the_operation_is_in_the_openapi_document(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/v1/screen"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["name"]
    assert set(schema["properties"]) == {"name", "country", "identifiers", "lists"}
    assert "hits" in operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
