"""Run the readable decision cases in tests/decisions/*.yaml.

A case gives a shipment in the JSON contract and what a compliance officer expects. Dates
and numbers that come from the law are written as references into the rule data, so a
case reads the rule instead of copying it:

    "@us.license_policy.h200_lane"        the date that parameter first took effect
    "@us.license_policy.h200_lane-1"      the day before (and +N for days after)
    "@us.license_requirement.destinations#2"   the date of its third value
In `expect`, a value "@param" is the value of that parameter in force on the decision date.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from chipgate import decide, parse_shipment
from chipgate.model import Decision
from chipgate.rulebook import Rulebook, default_rulebook

CASES_DIR = Path(__file__).parent / "decisions"
REF = re.compile(r"^@(?P<param>[\w.:]+?)(?:#(?P<index>\d+))?(?P<offset>[+-]\d+)?$")


def resolve_date(value: Any, book: Rulebook) -> Any:
    if not (isinstance(value, str) and value.startswith("@")):
        return value
    match = REF.match(value)
    assert match, f"bad date reference {value!r}"
    history = book.history(match["param"])
    start = history[int(match["index"] or 0)].effective_from
    return (start + dt.timedelta(days=int(match["offset"] or 0))).isoformat()


def load_cases() -> list[Any]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            cases.append(pytest.param(doc.get("defaults", {}), case, id=f"{path.stem}: {case['name']}"))
    return cases


def merged(defaults: dict[str, Any], shipment: dict[str, Any]) -> dict[str, Any]:
    out = dict(defaults)
    out.update(shipment)
    return out


def expected_value(value: Any, decision: Decision, book: Rulebook) -> Any:
    if isinstance(value, str) and value.startswith("@"):
        return book.at(decision.as_of).value(value[1:])
    return value


def check(decision: Decision, expect: dict[str, Any], book: Rulebook) -> None:
    body = decision.to_dict()
    rules_cited = [r["rule"] for r in body["reasons"]]
    for key, raw in expect.items():
        want = expected_value(raw, decision, book)
        if key == "outcome":
            assert body["outcome"] == want
        elif key == "eccn":
            assert body["eccn"] == want
        elif key == "license_required":
            assert body["us_export"]["license_required"] is want
        elif key == "review_policy":
            assert body["us_export"]["review_policy"] == want
        elif key == "conditions_include":
            text = " ".join(body["us_export"]["conditions"])
            for fragment in want:
                assert fragment in text, f"condition mentioning {fragment!r}"
        elif key == "approval_required":
            assert body["china_import"]["approval_required"] is want
        elif key == "approvals_on_record":
            assert body["china_import"]["approvals_on_record"] == want
        elif key == "duty_rate":
            rates = [d["rate"] for d in body["duties"] if d["tariff"] == "section-232-semiconductors"]
            assert rates == ([] if want is None else [float(want)])
        elif key == "duty_amount_usd":
            amounts = [d["amount_usd"] for d in body["duties"]]
            assert amounts == [pytest.approx(float(want))]
        elif key == "restricted_lists":
            assert sorted({h["list_code"] for h in body["restricted_parties"]}) == sorted(want)
        elif key == "hits":
            # [role, list code, strength] of every hit, in any order.
            got = sorted([h["role"], h["list_code"], h["strength"]] for h in body["restricted_parties"])
            assert got == sorted(want)
        elif key == "requirements":
            assert sorted(r["kind"] for r in body["requirements"]) == sorted(want)
        elif key == "reasons_include":
            for rule in want:
                assert rule in rules_cited, f"a reason from {rule}; got {rules_cited}"
        elif key == "reasons_exclude":
            for rule in want:
                assert rule not in rules_cited, f"no reason from {rule}"
        elif key == "reason_text_includes":
            text = " ".join(r["text"] for r in body["reasons"])
            for fragment in want:
                assert fragment in text, fragment
        else:
            raise AssertionError(f"unknown expectation {key!r}")


@pytest.mark.parametrize(("defaults", "case"), load_cases())
def test_decision_case(defaults: dict[str, Any], case: dict[str, Any]) -> None:
    book = default_rulebook()
    raw = merged(defaults, case["shipment"])
    raw["date"] = resolve_date(raw["date"], book)
    decision = decide(parse_shipment(raw), rulebook=book)
    check(decision, case["expect"], book)
    # Each reason names its rule, citation and date, and says why in a sentence.
    for reason in decision.reasons:
        assert reason.rule and reason.citation and reason.text.endswith((".", ")"))


def test_every_regime_has_cases() -> None:
    stems = {p.stem for p in CASES_DIR.glob("*.yaml")}
    regimes = {
        "us_licence_requirement",
        "h200_lane",
        "is_informed_letters",
        "entity_list",
        "china_import",
        "section_232",
    }
    assert regimes <= stems
