"""Decisions against an imported list snapshot: each list's consequence comes from the rule data."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chipgate import decide, parse_shipment
from chipgate.cli import app
from chipgate.decide.screening import list_consequences
from chipgate.model import Decision
from chipgate.parties.store import resolve_lists
from chipgate.rulebook import Rulebook

# Thirteen real rows of trade.gov's Consolidated Screening List, one or more per source list.
CSL_SAMPLE = Path(__file__).parent / "fixtures" / "lists" / "csl_schema_sample_13rows.csv"
DATE = "2026-03-02"
ON = dt.date.fromisoformat(DATE)


@pytest.fixture(scope="module")
def book(rulebook: Rulebook) -> Rulebook:
    return rulebook.with_restricted_parties(resolve_lists(str(CSL_SAMPLE)))


def _decide(book: Rulebook, consignee: str, country: str, to: str = "DE") -> Decision:
    shipment = parse_shipment(
        {
            "date": DATE,
            "kind": "export",
            "from_country": "US",
            "to_country": to,
            "quantity": 4,
            "item": {"chip": "nvidia-l20"},
            "consignee": {"name": consignee, "country": country},
        }
    )
    return decide(shipment, rulebook=book)


def _effect(book: Rulebook, code: str) -> str:
    _, dated = list_consequences(book.at(ON))[code]
    return str(dated.value["effect"])


@pytest.mark.parametrize(("name", "country", "code"), [("RIM, Ryong Nam", "CN", "SDN"), ("I. ASH", "US", "DPL")])
def test_a_party_on_a_blocking_list_blocks_the_shipment(book: Rulebook, name: str, country: str, code: str) -> None:
    assert _effect(book, code) == "blocked"
    decision = _decide(book, name, country)
    assert decision.outcome == "blocked"
    (hit,) = [h for h in decision.party_hits if h.list_code == code]
    assert hit.strength == "match"
    assert any(code in r.facts.get("list_code", "") and r.text.startswith("Blocked") for r in decision.reasons)


def test_the_decision_names_the_snapshot_it_screened_against(book: Rulebook, rulebook: Rulebook) -> None:
    decision = _decide(book, "RIM, Ryong Nam", "CN")
    assert {h.snapshot for h in decision.party_hits} == {book.restricted_parties.snapshot_id}
    assert decision.to_dict()["lists_snapshot"] == book.restricted_parties.snapshot_id
    assert decision.rulebook_version != rulebook.version
    # The shipped snapshot does not carry the SDN list: the same party is clear there, and
    # the decision still says which snapshot it was screened against.
    clear = _decide(rulebook, "RIM, Ryong Nam", "CN")
    assert clear.outcome == "allowed"
    assert clear.lists_snapshot == rulebook.restricted_parties.snapshot_id != book.restricted_parties.snapshot_id


def test_a_warning_list_is_a_red_flag_only(book: Rulebook) -> None:
    assert _effect(book, "UVL") == "warning"
    decision = _decide(book, "Atlas Sanatgaran", "AM", to="AM")
    assert decision.outcome == "allowed"
    assert "screening.UVL" in [r.rule for r in decision.reasons]


def test_a_list_without_a_consequence_in_the_rules_is_shown_but_changes_nothing(book: Rulebook) -> None:
    codes = list_consequences(book.at(ON))
    assert "SSI" not in codes
    decision = _decide(book, "ROSNEFT TRADE LIMITED", "CY", to="CY")
    assert [h.list_code for h in decision.party_hits] == ["SSI"]
    assert decision.outcome == "allowed"


def test_decide_on_the_command_line_screens_against_the_chosen_snapshot(tmp_path: Path) -> None:
    shipment = tmp_path / "shipment.json"
    shipment.write_text(
        json.dumps(
            {
                "date": DATE,
                "kind": "export",
                "from_country": "US",
                "to_country": "DE",
                "quantity": 4,
                "item": {"chip": "nvidia-l20"},
                "consignee": {"name": "Rim Ryong Nam", "country": "CN"},
            }
        )
    )
    runner = CliRunner()
    chosen = runner.invoke(app, ["decide", str(shipment), "--json", "--lists", str(CSL_SAMPLE)])
    assert chosen.exit_code == 0, chosen.output
    assert json.loads(chosen.output)["outcome"] == "blocked"
    shipped = runner.invoke(app, ["decide", str(shipment), "--json", "--lists", "shipped"])
    assert json.loads(shipped.output)["outcome"] == "allowed"
    unknown = runner.invoke(app, ["decide", str(shipment), "--lists", "no-such-snapshot"])
    assert unknown.exit_code == 2
    assert "lists" in unknown.output
