"""The ledger's command line and the demo, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from helpers import drop_pg_target, licence, pg_available, pg_target
from typer.testing import CliRunner

from chipgate.ledger import Ledger
from chipgate.ledger.cli import app, demo

runner = CliRunner()
demo_app = typer.Typer()
demo_app.command()(demo)

SHIPMENT = {
    "date": "2026-03-02",
    "kind": "export",
    "from_country": "US",
    "to_country": "CN",
    "item": {"chip": "nvidia-h200-sxm"},
    "quantity": 100,
    "unit_value_usd": "27000",
    "exporter": "NVIDIA",
    "consignee": {"name": "Alibaba Cloud", "country": "CN"},
    "end_user": {"name": "Alibaba Cloud", "country": "CN"},
}
APPROVAL = {
    "id": "CN-POOL",
    "kind": "cn_import_approval",
    "holders": ["Alibaba Cloud", "ByteDance"],
    "products": ["nvidia-h200-sxm"],
    "quantity": 1000,
    "status": "final",
}


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


def test_authorize_reserve_post_balances_verify(tmp_path: Path) -> None:
    db = str(tmp_path / "l.sqlite")
    auths = tmp_path / "auths.json"
    auths.write_text(json.dumps([licence("LIC", "Alibaba Cloud", 500), APPROVAL]))
    assert run("authorize", str(auths), "--ledger", db, "--actor", "alice")[0] == 0
    code, out = run("reserve", "po-1", "-", "--ledger", db, "--json", stdin=json.dumps(SHIPMENT))
    assert code == 0, out
    assert json.loads(out)["status"] == "pending"
    assert run("post", "po-1", "--ledger", db)[0] == 0
    code, out = run("balances", "--ledger", db, "--json")
    used = {b["authorization"]: b["used"] for b in json.loads(out)}
    assert used == {"LIC": 100, "CN-POOL": 100}
    code, out = run("journal", "--ledger", db, "--json")
    assert [e["op"] for e in json.loads(out)] == ["authorize", "authorize", "reserve", "post"]
    assert json.loads(out)[0]["actor"] == "alice"
    assert run("verify", "--ledger", db)[0] == 0


def test_refusals_and_bad_input_exit_2_naming_the_problem(tmp_path: Path) -> None:
    db = str(tmp_path / "l.sqlite")
    code, out = run("authorize", "-", "--ledger", db, stdin=json.dumps(licence("L", "X", -1)))
    assert code == 2 and "quantity" in out
    big = {**SHIPMENT, "quantity": 5000}
    run("authorize", "-", "--ledger", db, stdin=json.dumps(licence("L", "Alibaba Cloud", 10)))
    run("authorize", "-", "--ledger", db, stdin=json.dumps(APPROVAL))
    code, out = run("reserve", "k", "-", "--ledger", db, stdin=json.dumps(big))
    assert code == 2 and "needs 5,000" in out
    code, out = run("reserve", "k", "-", "--ledger", db, stdin=json.dumps({**SHIPMENT, "quantity": -4}))
    assert code == 2 and "quantity" in out
    code, out = run("post", "nope", "--ledger", db)
    assert code == 2 and "nope" in out


def test_verify_exits_1_on_a_tampered_journal(tmp_path: Path) -> None:
    db = str(tmp_path / "l.sqlite")
    run("authorize", "-", "--ledger", db, stdin=json.dumps(APPROVAL))
    with Ledger(db) as ledger, ledger.store.transaction() as tx:
        tx.execute("UPDATE journal SET actor = 'mallory' WHERE seq = 1")
    code, out = run("verify", "--ledger", db)
    assert code == 1 and "journal entry 1" in out


def test_derived_cap_and_plant_status_commands(tmp_path: Path) -> None:
    db = str(tmp_path / "l.sqlite")
    cap = {
        "id": "CAP",
        "kind": "derived_volume_cap",
        "exporter": "NVIDIA",
        "products": ["nvidia-h200-sxm"],
        "valid_from": "2026-01-15",
    }
    quota = {
        "id": "Q",
        "kind": "duty_free_quota",
        "company": "TSMC Arizona",
        "planned_capacity": 100,
        "plant_status": "construction",
        "plant_status_on": "2026-01-15",
    }
    run("authorize", "-", "--ledger", db, stdin=json.dumps([cap, quota]))
    code, out = run(
        "record-us-shipment",
        "us-1",
        "--exporter",
        "NVIDIA",
        "--product",
        "nvidia-h200-sxm",
        "--quantity",
        "1000",
        "--date",
        "2026-02-01",
        "--ledger",
        db,
    )
    assert code == 0 and "CAP" in out
    code, out = run("plant-status", "Q", "completed", "--date", "2026-06-01", "--ledger", db)
    assert code == 0, out
    limits = {b["authorization"]: b["limit"] for b in json.loads(run("balances", "--ledger", db, "--json")[1])}
    assert limits["CAP"] > 0 and limits["Q"] > 0
    assert run("plant-status", "Q", "demolished", "--date", "2026-06-01", "--ledger", db)[0] == 2


def test_demo_seeds_runs_the_order_book_and_verifies(tmp_path: Path) -> None:
    result = runner.invoke(demo_app, ["--json", "--ledger", str(tmp_path / "demo.sqlite")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    statuses = {o["key"]: o["status"] for o in report["orders"]}
    assert statuses["demo-po-0001"] == "posted"
    assert statuses["demo-po-0002"] == "pending"
    assert statuses["demo-po-0004"] == "refused"
    assert statuses["demo-po-0005"] == "refused"
    assert report["verify"]["ok"]
    balances = {b["authorization"]: b for b in report["balances"]}
    pool = balances["cn-h200-2026-01-28"]
    assert pool["limit"] == 400000 and pool["basis"] == "reported"
    assert balances["cn-h200-2026-01-30-deepseek"]["limit"] is None
    assert balances["US-DEMO-NVDA-ALIBABA"]["basis"] == "assumption"
    for b in report["balances"]:
        if b["limit"] is not None:
            assert b["held"] + b["used"] <= b["limit"]


def test_demo_prints_tables() -> None:
    result = runner.invoke(demo_app, [])
    assert result.exit_code == 0, result.output
    assert "Authorisation balances" in result.output and "verify ok" in result.output


@pytest.mark.postgres
@pytest.mark.skipif(not pg_available(), reason="PostgreSQL is not reachable")
def test_demo_on_postgres() -> None:
    target = pg_target()
    try:
        result = runner.invoke(demo_app, ["--json", "--ledger", target])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["verify"]["ok"]
    finally:
        drop_pg_target(target)
