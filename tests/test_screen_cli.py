"""`chipgate screen` and `chipgate.screen` as a user meets them: the JSON contract, ranking, exit statuses.

The names are real entries of the shipped snapshot that any matcher finds exactly, and an
invented name that no list holds, so the assertions hold for every matcher.
"""

from __future__ import annotations

import doctest
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import chipgate
from chipgate.cli import app
from chipgate.rulebook import default_rulebook

runner = CliRunner()
USAGE = Path(__file__).resolve().parents[1] / "docs" / "screening-usage.md"

DAWNING = "Dawning Information Industry Co., Ltd."
CLEAR = "Quillfeather Lamp Works Co., Ltd."
CONTRACT_KEYS = {"query", "country", "snapshot", "matcher", "thresholds", "hits"}
HIT_KEYS = {
    "record_id",
    "list",
    "name",
    "matched_name",
    "score",
    "strength",
    "countries",
    "features",
    "entry_fingerprint",
}


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def screen_json(*args: str) -> dict[str, Any]:
    code, out, err = run("screen", *args, "--json")
    assert code == 0, err
    body: dict[str, Any] = json.loads(out)
    return body


def by_list(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for hit in body["hits"]:
        found.setdefault(hit["list"], []).append(hit)
    return found


def test_json_follows_the_contract_and_names_the_entity_list_entry() -> None:
    body = screen_json(DAWNING, "--country", "CN")
    lists = default_rulebook().restricted_parties
    assert set(body) == CONTRACT_KEYS
    assert body["query"] == DAWNING and body["country"] == "CN"
    assert body["snapshot"] == {"id": lists.snapshot_id, "date": lists.snapshot_date.isoformat()}
    assert body["matcher"] and set(body["thresholds"]) == {"match", "possible"}
    for hit in body["hits"]:
        assert set(hit) >= HIT_KEYS
        assert 0.0 <= hit["score"] <= 1.0
        assert hit["strength"] in ("match", "possible")
        assert hit["score"] >= body["thresholds"]["possible"]
    entity_list = [hit for hit in by_list(body).get("EL", []) if hit["name"] == "Sugon"]
    assert len(entity_list) == 1
    (sugon,) = entity_list
    assert sugon["strength"] == "match" and sugon["score"] >= body["thresholds"]["match"]
    assert sugon["matched_name"] == "Dawning Information Industry"
    assert sugon["countries"] == ["CN"]
    assert sugon["entry_fingerprint"]


def test_hits_are_ranked_best_first() -> None:
    for name in ("Sugon", DAWNING, "Huawei Technologies Co., Ltd."):
        scores = [hit["score"] for hit in screen_json(name)["hits"]]
        assert scores, name
        assert scores == sorted(scores, reverse=True), name


def test_sugon_is_on_three_lists() -> None:
    assert {"1260H", "EL", "NS-CMIC"} <= set(by_list(screen_json("Sugon")))


def test_list_option_limits_the_lists_searched() -> None:
    body = screen_json("Sugon", "--list", "EL", "--list", "1260H")
    assert {hit["list"] for hit in body["hits"]} == {"EL", "1260H"}


def test_lists_option_picks_the_snapshot() -> None:
    shipped = default_rulebook().restricted_parties
    assert screen_json("Sugon", "--lists", "shipped")["snapshot"]["id"] == shipped.snapshot_id
    data = Path(chipgate.__file__).parent / "data" / "restricted_parties.csv"
    from_file = screen_json("Sugon", "--lists", str(data), "--list", "EL")
    assert from_file["snapshot"]["id"] == shipped.snapshot_id
    assert [hit["name"] for hit in from_file["hits"]] == ["Sugon"]


def test_a_clear_name_exits_0_with_no_hits() -> None:
    body = screen_json(CLEAR, "--country", "CN", "--id", "USCC:91110000100000000X")
    assert body["hits"] == []
    code, out, _ = run("screen", CLEAR)
    assert code == 0
    assert "no hits" in out and default_rulebook().restricted_parties.snapshot_id in out


def test_the_table_shows_ranked_hits_with_the_listed_and_matched_names() -> None:
    code, out, _ = run("screen", DAWNING)
    assert code == 0
    ranked = [line for line in out.splitlines() if line[:4].strip().endswith(".")]
    assert ranked[0].startswith(" 1. 1.00 match")
    assert any(line.endswith("EL: Sugon") for line in ranked)
    for shown in ("matched as 'Dawning Information Industry' · CN", "record ", "words 1.00"):
        assert shown in out
    assert default_rulebook().restricted_parties.snapshot_id in out


def test_help_says_how_a_script_tells_hits_from_clear() -> None:
    code, out, _ = run("screen", "--help")
    assert code == 0
    assert "Exit 0 whether or not there are hits" in out and "hits" in out and "--json" in out


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("   ",), "NAME"),
        (("Sugon", "--country", "XX"), "--country"),
        (("Sugon", "--country", "China"), "--country"),
        (("Sugon", "--list", "SDN"), "--list"),
        (("Sugon", "--id", "no-scheme"), "--id"),
        (("Sugon", "--lists", "1999-01-01-deadbeef"), "--lists"),
    ],
)
def test_bad_input_exits_2_naming_the_field(args: tuple[str, ...], field: str) -> None:
    code, out, err = run("screen", *args, "--json")
    assert code == 2
    assert field in err
    assert out == ""


def test_python_screen_matches_the_cli() -> None:
    result = chipgate.screen(DAWNING, "cn")
    assert result.country == "CN"
    assert result.to_dict() == screen_json(DAWNING, "--country", "CN")
    assert not result.clear and result.strength == "match"
    clear = chipgate.screen(CLEAR)
    assert clear.clear and clear.strength is None and clear.hits == ()


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: chipgate.screen(""), "name"),
        (lambda: chipgate.screen(42), "name"),  # type: ignore[arg-type]
        (lambda: chipgate.screen("Sugon", "ZZ"), "country"),
        (lambda: chipgate.screen("Sugon", identifiers="USCC:1"), "identifiers"),
        (lambda: chipgate.screen("Sugon", identifiers=["USCC:1", ":2"]), "identifiers.1"),
        (lambda: chipgate.screen("Sugon", list_codes="EL"), "list_codes"),
        (lambda: chipgate.screen("Sugon", list_codes=["XX"]), "list_codes"),
        (lambda: chipgate.screen("Sugon", lists="no-such-snapshot"), "lists"),
    ],
)
def test_python_bad_input_names_the_argument(call: Any, field: str) -> None:
    with pytest.raises(chipgate.InputError) as raised:
        call()
    assert raised.value.field == field


def test_the_python_examples_of_the_usage_guide_hold() -> None:
    result = doctest.testfile(str(USAGE), module_relative=False)
    assert result.attempted >= 8
    assert result.failed == 0
