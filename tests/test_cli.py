"""The command line as a user meets it: tables, JSON contracts, exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chipgate.cli import app

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin, env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_classify_prints_the_figures_and_cited_reasons() -> None:
    code, out, _ = run("classify", "nvidia-h200-sxm", "--as-of", "2026-03-02")
    assert code == 0
    for shown in ("15,832", "19.45", "4,800 GB/s", "3A090.a", "88 FR 73458", "2023-11-17"):
        assert shown in out


def test_classify_spec_on_stdin_follows_the_contract() -> None:
    spec = (EXAMPLES / "h200-nvl-spec.json").read_text()
    code, out, _ = run("classify", "--json", "--as-of", "2026-03-02", "-", stdin=spec)
    assert code == 0
    body = json.loads(out)
    assert body["eccn"] == "3A090.a" and body["as_of"] == "2026-03-02"
    assert body["tpp"] == pytest.approx(13368)
    assert {"rule", "citation", "effective_from", "text"} <= set(body["reasons"][0])


@pytest.mark.parametrize(
    ("stdin", "field"),
    [
        ('{"dense_tops": {"fp9": 1}}', "dense_tops.fp9"),
        ('{"dense_tops": {"fp8": -1}}', "dense_tops.fp8"),
        ('{"die_area_mm2": 800}', "dense_tops"),
        ("not json", "spec"),
    ],
)
def test_bad_spec_exits_2_naming_the_field(stdin: str, field: str) -> None:
    code, _, err = run("classify", "--json", "-", stdin=stdin)
    assert code == 2
    assert field in err


def test_bad_date_exits_2() -> None:
    code, _, err = run("classify", "h200", "--as-of", "2026-02-30")
    assert code == 2 and "--as-of" in err


def test_unknown_chip_lists_closest_ids() -> None:
    code, _, err = run("classify", "H2000")
    assert code == 2 and "nvidia-h200-sxm" in err


def test_chips_filter_by_vendor_and_show() -> None:
    code, out, _ = run("chips", "--vendor", "amd", "--json")
    assert code == 0
    chips = json.loads(out)
    assert chips and {c["vendor"] for c in chips} == {"AMD"}
    assert all(c["sources"] for c in chips if c["spec"]["dense_tops"])
    code, out, _ = run("chips", "show", "MI325X")
    assert code == 0 and "amd-mi325x" in out


def test_timeline_shows_one_row_per_change() -> None:
    code, out, _ = run("timeline", "nvidia-a800-sxm", "--json")
    assert code == 0
    periods = json.loads(out)["periods"]
    assert [p["eccn"] for p in periods] == [None, None, "3A090.a"]
    assert periods[-1]["from"] == "2023-11-17"
    assert periods[-1]["reasons"][-1]["citation"].startswith("88 FR 73458")


def test_decision_timeline_for_h200_to_china() -> None:
    code, out, _ = run("timeline", "nvidia-h200-sxm", "--to", "CN", "--json")
    assert code == 0
    policies = [(p["from"], p["review_policy"], p["china_approval_required"]) for p in json.loads(out)["periods"]]
    assert policies[0][1] is None, "no licence before 3A090"
    assert ("presumption_of_denial", False) in [(p, c) for _, p, c in policies]
    assert policies[-1][1:] == ("case_by_case", True)


def test_decide_json_contract() -> None:
    code, out, _ = run("decide", str(EXAMPLES / "h200-to-china.json"), "--json")
    assert code == 0
    body = json.loads(out)
    assert body["outcome"] == "needs_authorization"
    assert body["us_export"]["review_policy"] == "case_by_case"
    assert body["china_import"]["approval_required"] is True
    assert body["rulebook_version"] and body["input_hash"]


def test_decide_fail_on_license_exits_1() -> None:
    code, _, _ = run("decide", str(EXAMPLES / "h200-to-china.json"), "--fail-on-license")
    assert code == 1


def test_decide_bad_shipment_exits_2() -> None:
    bad = json.loads((EXAMPLES / "h200-to-china.json").read_text())
    bad["to_country"] = "XX"
    code, _, err = run("decide", "-", stdin=json.dumps(bad))
    assert code == 2 and "to_country" in err


def test_decide_with_the_demo_ledger_names_the_covering_authorisations(tmp_path: Path) -> None:
    ledger = str(tmp_path / "demo.sqlite")
    code, out, _ = run("demo", "--ledger", ledger)
    assert code == 0, out
    code, out, _ = run("decide", str(EXAMPLES / "h200-to-china.json"), "--ledger", ledger, "--json")
    assert code == 0
    body = json.loads(out)
    assert body["outcome"] == "allowed"
    assert "cn-h200-2026-01-28" in body["covered_by"]
    assert not body["missing"]


def test_rules_shows_a_parameter_history() -> None:
    code, out, _ = run("rules", "us.eccn_3a090.prongs", "--json")
    assert code == 0
    history = json.loads(out)
    assert [h["citation"] for h in history] == ["87 FR 62186", "88 FR 73458"]


def test_overlay_changes_the_answer_without_touching_the_bundled_rules() -> None:
    overlay = str(EXAMPLES / "overlay-lane-ceiling-30000.yaml")
    shipment = json.loads((EXAMPLES / "h200-to-china.json").read_text())
    shipment["item"] = {"chip": "intel-gaudi3"}
    args = ("decide", "-", "--json")
    code, out, _ = run(*args, stdin=json.dumps(shipment))
    assert code == 0 and json.loads(out)["us_export"]["review_policy"] == "presumption_of_denial"
    code, out, _ = run(*args, "--overlay", overlay, stdin=json.dumps(shipment))
    assert code == 0
    body = json.loads(out)
    assert body["us_export"]["review_policy"] == "case_by_case"
    assert body["rulebook_version"] != json.loads(run(*args, stdin=json.dumps(shipment))[1])["rulebook_version"]


def test_overlay_naming_an_unknown_parameter_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "typo.yaml"
    bad.write_text(
        "parameters:\n  us.license_policy.h200_lanes:\n    values:\n      - {from: 2026-01-15, value: 1, citation: x}\n"
    )
    code, _, err = run("classify", "h200", "--overlay", str(bad))
    assert code == 2 and "h200_lanes" in err
