"""Every command screens against the list snapshot in use (`chipgate lists use`) unless `--lists`
says otherwise; the Python API screens against the rulebook it is given, else the shipped one.

Each test imports trade.gov's CSL sample into a temporary CHIPGATE_HOME and makes it the
snapshot in use, never touching the user's own. The sample lists "RIM, Ryong Nam" on the
SDN list, which blocks any transaction; the shipped snapshot has no SDN list, so there the
same shipment (an uncontrolled chip to Germany) is allowed.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import chipgate
from chipgate.batch import decide_batch
from chipgate.cli import app
from chipgate.ledger import Ledger
from chipgate.parties.store import active_snapshot_id, screening_rulebook
from chipgate.rulebook import Rulebook, default_rulebook
from chipgate.service.app import ENV_LEDGER, ENV_LISTS, app_from_env, create_app
from chipgate.service.auth import KeyStore
from chipgate.service.cli import worker_lists
from tests.service.server import Server, sqlite_target

CSL_SAMPLE = Path(__file__).parent / "fixtures" / "lists" / "csl_schema_sample_13rows.csv"
SDN_PARTY = "RIM, Ryong Nam"
SDN_RECORD = "52291"  # its record id in the sample
SHIPMENT: dict[str, Any] = {
    "date": "2026-03-02",
    "kind": "export",
    "from_country": "US",
    "to_country": "DE",
    "quantity": 4,
    "item": {"chip": "nvidia-l20"},
    "consignee": {"name": SDN_PARTY, "country": "CN"},
}
ROW = {
    "id": "PO-1",
    "date": "2026-03-02",
    "kind": "export",
    "from_country": "US",
    "to_country": "DE",
    "item_chip": "nvidia-l20",
    "quantity": "4",
    "consignee_name": SDN_PARTY,
    "consignee_country": "CN",
}

runner = CliRunner()


@pytest.fixture
def active(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CSL sample imported into a temporary CHIPGATE_HOME and in use; its snapshot id."""
    monkeypatch.setenv("CHIPGATE_HOME", str(tmp_path / "home"))
    imported = runner.invoke(app, ["lists", "import", str(CSL_SAMPLE), "--snapshot-date", "2026-03-01"])
    assert imported.exit_code == 0, imported.output
    chosen = active_snapshot_id()
    assert chosen is not None and chosen.startswith("2026-03-01-")
    return chosen


@pytest.fixture
def shipment_file(tmp_path: Path) -> Path:
    path = tmp_path / "shipment.json"
    path.write_text(json.dumps(SHIPMENT))
    return path


@pytest.fixture
def book_file(tmp_path: Path) -> Path:
    path = tmp_path / "book.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(ROW))
        writer.writeheader()
        writer.writerow(ROW)
    return path


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def assert_names_lists_option(result: Any) -> None:
    assert result.exit_code == 2, result.output
    assert "--lists" in result.output
    assert "no-such-snapshot" in result.output


# ---- screening_rulebook ----------------------------------------------------------------------


def test_screening_rulebook_is_the_shipped_one_itself_for_the_shipped_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rulebook: Rulebook
) -> None:
    monkeypatch.setenv("CHIPGATE_HOME", str(tmp_path / "empty-home"))
    assert screening_rulebook() is rulebook
    assert screening_rulebook("shipped") is rulebook
    assert screening_rulebook("active") is rulebook


def test_screening_rulebook_screens_against_the_snapshot_in_use(active: str, rulebook: Rulebook) -> None:
    book = screening_rulebook()
    assert book is not rulebook
    assert book.restricted_parties.snapshot_id == active
    assert book.version != rulebook.version
    assert book.parameters == rulebook.parameters
    assert screening_rulebook("shipped") is rulebook
    assert screening_rulebook(active[:12]).restricted_parties is book.restricted_parties


def test_screening_rulebook_names_the_field_it_is_given(active: str) -> None:
    with pytest.raises(chipgate.InputError) as default_field:
        screening_rulebook("no-such-snapshot")
    assert default_field.value.field == "lists"
    with pytest.raises(chipgate.InputError) as named:
        screening_rulebook("no-such-snapshot", field="--lists")
    assert named.value.field == "--lists"
    assert active in named.value.message


# ---- the Python API does not read the user's choice ---------------------------------------------


def test_the_python_api_screens_against_the_shipped_snapshot_unless_given_another(active: str, tmp_path: Path) -> None:
    shipment = chipgate.parse_shipment(SHIPMENT)
    assert chipgate.decide(shipment).outcome == "allowed"
    assert chipgate.decide(shipment, rulebook=screening_rulebook()).outcome == "blocked"
    table = pa.Table.from_pylist([{**ROW, "quantity": 4}])
    assert decide_batch(table).column("outcome").to_pylist() == ["allowed"]
    assert decide_batch(table, rulebook=screening_rulebook()).column("outcome").to_pylist() == ["blocked"]
    with Ledger(str(tmp_path / "api.sqlite")) as ledger:
        assert ledger.rulebook is default_rulebook()
        assert ledger.check(shipment).outcome == "allowed"
    with Ledger(str(tmp_path / "api.sqlite"), rulebook=screening_rulebook()) as ledger:
        assert ledger.check(shipment).outcome == "blocked"


# ---- chipgate batch -------------------------------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_batch_decide_screens_against_the_snapshot_in_use(active: str, book_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "decided.csv"
    result = invoke("batch", "decide", str(book_file), "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    (row,) = _rows(out)
    assert row["id"] == "PO-1"
    assert row["outcome"] == "blocked"
    assert row["restricted_party_hits"].startswith(f"consignee|SDN|{SDN_PARTY}|match|")
    assert row["rulebook_version"] == screening_rulebook().version != default_rulebook().version


def test_batch_decide_lists_shipped_and_a_list_file(active: str, book_file: Path, tmp_path: Path) -> None:
    shipped = tmp_path / "shipped.csv"
    result = invoke("batch", "decide", str(book_file), "-o", str(shipped), "--lists", "shipped")
    assert result.exit_code == 0, result.output
    (row,) = _rows(shipped)
    assert row["outcome"] == "allowed"
    assert row["restricted_party_hits"] == ""
    assert row["rulebook_version"] == default_rulebook().version
    invoke("lists", "use", "shipped")
    from_file = tmp_path / "from_file.csv"
    result = invoke("batch", "decide", str(book_file), "-o", str(from_file), "--lists", str(CSL_SAMPLE))
    assert result.exit_code == 0, result.output
    assert _rows(from_file)[0]["outcome"] == "blocked"


def test_batch_decide_refuses_an_unknown_snapshot(active: str, book_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "never.csv"
    assert_names_lists_option(invoke("batch", "decide", str(book_file), "-o", str(out), "--lists", "no-such-snapshot"))
    assert not out.exists()


def test_batch_replay_screens_against_the_snapshot_in_use(active: str, book_file: Path) -> None:
    dates = "2026-01-01,2026-03-02"
    result = invoke("batch", "replay", str(book_file), "--dates", dates, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["by_date"] == {"2026-01-01": {"blocked": 1}, "2026-03-02": {"blocked": 1}}
    shipped = invoke("batch", "replay", str(book_file), "--dates", dates, "--json", "--lists", "shipped")
    assert shipped.exit_code == 0, shipped.output
    assert json.loads(shipped.output)["by_date"] == {"2026-01-01": {"allowed": 1}, "2026-03-02": {"allowed": 1}}
    unknown = invoke("batch", "replay", str(book_file), "--dates", dates, "--lists", "no-such-snapshot")
    assert_names_lists_option(unknown)


# ---- chipgate ledger and demo --------------------------------------------------------------------


def test_ledger_check_screens_against_the_snapshot_in_use(active: str, shipment_file: Path, tmp_path: Path) -> None:
    ledger = str(tmp_path / "ledger.sqlite")
    result = invoke("ledger", "check", str(shipment_file), "--ledger", ledger, "--json")
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["outcome"] == "blocked"
    assert decision["lists_snapshot"] == active
    shipped = invoke("ledger", "check", str(shipment_file), "--ledger", ledger, "--json", "--lists", "shipped")
    assert shipped.exit_code == 0, shipped.output
    assert json.loads(shipped.output)["outcome"] == "allowed"


def test_ledger_commands_refuse_an_unknown_snapshot_before_opening_the_ledger(
    active: str, shipment_file: Path, tmp_path: Path
) -> None:
    ledger = tmp_path / "never.sqlite"
    assert_names_lists_option(
        invoke("ledger", "check", str(shipment_file), "--ledger", str(ledger), "--lists", "no-such-snapshot")
    )
    assert_names_lists_option(
        invoke("ledger", "reserve", "PO-1", str(shipment_file), "--ledger", str(ledger), "--lists", "no-such-snapshot")
    )
    assert_names_lists_option(invoke("ledger", "clearances", "--ledger", str(ledger), "--lists", "no-such-snapshot"))
    assert not ledger.exists()
    assert_names_lists_option(invoke("demo", "--lists", "no-such-snapshot"))


def test_ledger_reserve_refuses_a_shipment_the_snapshot_in_use_blocks(
    active: str, shipment_file: Path, tmp_path: Path
) -> None:
    ledger = str(tmp_path / "ledger.sqlite")
    blocked = invoke("ledger", "reserve", "PO-1", str(shipment_file), "--ledger", ledger, "--now", "2026-03-02T09:00Z")
    assert blocked.exit_code == 2
    assert "blocked" in blocked.output and "OFAC" in blocked.output


def test_ledger_clear_looks_the_entry_up_in_the_snapshot_in_use(active: str, tmp_path: Path) -> None:
    ledger = str(tmp_path / "ledger.sqlite")
    common = ["--party", "Rim Ryong-nam Trading", "--reason", "another company", "--by", "ana", "--ledger", ledger]
    shipped = invoke("ledger", "clear", "--entry", SDN_RECORD, *common, "--lists", "shipped")
    assert shipped.exit_code == 2
    assert "--entry" in shipped.output
    cleared = invoke("ledger", "clear", "--entry", SDN_RECORD, *common, "--json")
    assert cleared.exit_code == 0, cleared.output
    clearance = json.loads(cleared.output)
    assert clearance["list_code"] == "SDN" and clearance["snapshot"] == active
    listed = invoke("ledger", "clearances", "--ledger", ledger, "--json")
    assert [row["status"] for row in json.loads(listed.output)] == ["live"]
    # Against the shipped snapshot the entry is not there: the clearance has lapsed.
    against_shipped = invoke("ledger", "clearances", "--ledger", ledger, "--json", "--lists", "shipped")
    assert [row["status"] for row in json.loads(against_shipped.output)] == ["lapsed"]


def test_demo_runs_against_the_snapshot_in_use(active: str) -> None:
    result = invoke("demo", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["verify"]["ok"] is True


# ---- chipgate serve --------------------------------------------------------------------------------


def test_serve_fixes_the_snapshot_for_its_workers(active: str) -> None:
    assert worker_lists(None)[0] == active
    assert worker_lists(active[:12])[0] == active
    chosen, book = worker_lists("shipped")
    assert chosen == "shipped" and book is default_rulebook()
    from_file, book = worker_lists(str(CSL_SAMPLE))
    assert Path(from_file) == CSL_SAMPLE.resolve()
    assert screening_rulebook(from_file).restricted_parties.snapshot_id == book.restricted_parties.snapshot_id


def test_serve_refuses_an_unknown_snapshot(active: str, tmp_path: Path) -> None:
    target = str(tmp_path / "never.sqlite")
    assert_names_lists_option(invoke("serve", "--ledger", target, "--lists", "no-such-snapshot"))
    assert not (tmp_path / "never.sqlite").exists()


@pytest.fixture
def analyst_ledger(tmp_path: Path) -> tuple[str, str]:
    target = str(tmp_path / "service.sqlite")
    with Ledger(target) as ledger:
        keys = KeyStore(ledger.store)
        keys.ensure_table()
        token = keys.create("lists-analyst", "analyst")
    return target, token


@pytest.fixture
def service(active: str, analyst_ledger: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The application as `chipgate serve` builds it in each worker, with the snapshot in use."""
    target, token = analyst_ledger
    chosen, _ = worker_lists(None)
    monkeypatch.setenv(ENV_LEDGER, target)
    monkeypatch.setenv(ENV_LISTS, chosen)
    with TestClient(app_from_env(), headers={"X-API-Key": token}) as client:
        yield client


def test_the_service_decides_screens_and_checks_against_its_snapshot(service: TestClient, active: str) -> None:
    health = service.get("/v1/health").json()
    assert health["lists_snapshot"] == active
    assert health["rulebook_version"] == screening_rulebook().version
    for path in ("/v1/decide", "/v1/decide?check=true"):
        # Twice: the second call of a known key may take another way through the service.
        for _ in range(2):
            response = service.post(path, json=SHIPMENT)
            assert response.status_code == 200, response.text
            assert response.json()["outcome"] == "blocked", path
            assert response.json()["lists_snapshot"] == active
    screened = service.post("/v1/screen", json={"name": SDN_PARTY, "country": "CN"}).json()
    assert screened["snapshot"]["id"] == active
    assert [hit["list"] for hit in screened["hits"]][:1] == ["SDN"]


def test_the_service_screens_against_the_snapshot_it_started_with(
    service: TestClient, active: str, rulebook: Rulebook
) -> None:
    invoke("lists", "use", "shipped")
    response = service.post("/v1/decide", json=SHIPMENT)
    assert response.json()["outcome"] == "blocked"
    assert service.post("/v1/screen", json={"name": SDN_PARTY}).json()["snapshot"]["id"] == active


def test_create_app_uses_the_rulebook_it_is_given_else_the_shipped_one(
    active: str, analyst_ledger: tuple[str, str]
) -> None:
    target, token = analyst_ledger
    with TestClient(create_app(target), headers={"X-API-Key": token}) as client:
        for _ in range(2):
            assert client.post("/v1/decide", json=SHIPMENT).json()["outcome"] == "allowed"
        assert client.get("/v1/health").json()["lists_snapshot"] == default_rulebook().restricted_parties.snapshot_id
    with TestClient(create_app(target, rulebook=screening_rulebook()), headers={"X-API-Key": token}) as client:
        assert client.post("/v1/decide?check=true", json=SHIPMENT).json()["outcome"] == "blocked"


def test_chipgate_serve_passes_the_snapshot_in_use_to_its_workers(active: str, tmp_path: Path) -> None:
    server = Server(sqlite_target(tmp_path), seed=False)
    try:
        assert any(line.startswith(f"lists: {active} ") for line in server.output), server.output
        with server.client(server.admin) as client:
            assert client.get("/v1/health").json()["lists_snapshot"] == active
            for _ in range(2):
                assert client.post("/v1/decide", json=SHIPMENT).json()["outcome"] == "blocked"
    finally:
        server.stop()
    shipped = Server(sqlite_target(tmp_path), seed=False, extra=("--lists", "shipped"))
    try:
        with shipped.client() as client:
            health = client.get("/v1/health").json()
        assert health["lists_snapshot"] == default_rulebook().restricted_parties.snapshot_id
    finally:
        shipped.stop()
