"""`chipgate lists` as a user meets it: import, list, show, use, remove; exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chipgate.cli import app
from chipgate.parties.store import resolve_lists
from chipgate.rulebook import default_rulebook
from tests.parties.list_files import CSL_CSV, CSL_SAMPLE_LISTS, FTM

runner = CliRunner()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHIPGATE_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "lists"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def imported(path: Path = CSL_CSV, *extra: str) -> dict[str, object]:
    code, out, err = run("lists", "import", str(path), "--json", *extra)
    assert code == 0, err
    body: dict[str, object] = json.loads(out)
    return body


def test_import_prints_the_snapshot_and_its_lists() -> None:
    code, out, _ = run("lists", "import", str(CSL_CSV), "--snapshot-date", "2025-06-25")
    assert code == 0
    assert "Imported 2025-06-25-" in out and "13 entries" in out and "now in use" in out
    for shown in ("EL", "BIS Entity List (15 CFR 744 Supp. 4)", "SSI", "UVL"):
        assert shown in out


def test_import_json_and_then_the_same_file_again() -> None:
    first = imported(CSL_CSV, "--snapshot-date", "2025-06-25", "--source", "trade.gov, 25 June 2025")
    assert first["created"] is True and first["active"] is True
    assert first["format"] == "csl-csv" and first["source"] == "trade.gov, 25 June 2025"
    assert first["lists"] == CSL_SAMPLE_LISTS
    code, out, _ = run("lists", "import", str(CSL_CSV), "--snapshot-date", "2025-06-25")
    assert code == 0 and f"Already stored: {first['id']}" in out


def test_list_shows_the_shipped_and_stored_snapshots_and_which_is_in_use() -> None:
    snapshot = imported(CSL_CSV, "--snapshot-date", "2025-06-25")
    code, out, _ = run("lists", "list", "--json")
    assert code == 0
    rows = {row["id"]: row for row in json.loads(out)}
    shipped_id = default_rulebook().restricted_parties.snapshot_id
    assert rows[shipped_id]["shipped"] is True and rows[shipped_id]["active"] is False
    assert rows[snapshot["id"]]["active"] is True and rows[snapshot["id"]]["entries"] == 13
    code, out, _ = run("lists")
    assert code == 0
    assert f"* {snapshot['id']}" in out and shipped_id in out and "shipped" in out


def test_an_ftm_import_reports_unmapped_and_skipped_records() -> None:
    code, out, _ = run("lists", "import", str(FTM), "--format", "ftm", "--snapshot-date", "2025-06-24")
    assert code == 0
    assert "unmapped" in out and "EU-FSF" in out and "OpenSanctions dataset eu_fsf" in out
    assert "not kept: 1 Address entities (not a party)" in out


def test_use_switches_what_screening_resolves_to() -> None:
    csl = imported(CSL_CSV, "--snapshot-date", "2025-06-25")
    ftm = imported(FTM, "--snapshot-date", "2025-06-24", "--no-activate")
    assert ftm["active"] is False
    assert resolve_lists(None).snapshot_id == csl["id"]

    code, out, _ = run("lists", "use", str(ftm["id"]))
    assert code == 0 and str(ftm["id"]) in out
    assert resolve_lists(None).snapshot_id == ftm["id"]

    code, out, _ = run("lists", "use", "shipped")
    assert code == 0 and "shipped" in out
    assert resolve_lists(None) is default_rulebook().restricted_parties


def test_show_gives_the_provenance_of_one_snapshot() -> None:
    snapshot = imported(FTM, "--snapshot-date", "2025-06-24")
    code, out, _ = run("lists", "show", str(snapshot["id"])[:14], "--json")
    assert code == 0
    body = json.loads(out)
    assert body["id"] == snapshot["id"] and body["format"] == "ftm" and body["active"] is True
    assert body["unmapped"] == {"EU-FSF": {"source": "OpenSanctions dataset eu_fsf", "entries": 1}}
    assert Path(body["path"]).is_file()
    code, out, _ = run("lists", "show", str(snapshot["id"]))
    assert code == 0 and "2025-06-24 (given)" in out and FTM.name in out
    code, out, _ = run("lists", "show", "shipped")
    assert code == 0 and "(shipped)" in out and "EL" in out


def test_remove_deletes_and_falls_back_to_the_shipped_snapshot() -> None:
    snapshot = imported(CSL_CSV, "--snapshot-date", "2025-06-25")
    code, out, _ = run("lists", "remove", str(snapshot["id"]))
    assert code == 0 and "the shipped snapshot is used now" in out
    code, out, _ = run("lists", "list", "--json")
    assert [row["id"] for row in json.loads(out)] == [default_rulebook().restricted_parties.snapshot_id]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("import", str(CSL_CSV), "--snapshot-date", "2025-13-01"), "--snapshot-date"),
        (("import", str(CSL_CSV), "--format", "xml"), "--format"),
        (("import", str(CSL_CSV), "--format", "csl-json"), "--format"),
        (("import", "no-such-file.csv"), "FILE"),
        (("use", "2020-01-01-00000000"), "lists"),
        (("show", "nothing-like-this"), "lists"),
        (("remove", "shipped"), "ID"),
    ],
)
def test_bad_input_exits_2_naming_the_field(args: tuple[str, ...], field: str, home: Path) -> None:
    code, _, err = run("lists", *args)
    assert code == 2
    assert field in err
    assert not home.exists() or [path for path in home.iterdir() if path.name != "active"] == []


def test_a_missing_column_exits_2_naming_it_and_what_is_needed(tmp_path: Path) -> None:
    path = tmp_path / "consolidated.csv"
    path.write_text("_id,source,name,alt_names,ids\n1,Entity List (EL) - Bureau of Industry and Security,X,,\n")
    code, _, err = run("lists", "import", str(path))
    assert code == 2
    assert "column addresses" in err and "_id, source, name, alt_names, addresses, ids" in err


def test_an_unknown_snapshot_lists_the_choices() -> None:
    snapshot = imported(CSL_CSV, "--snapshot-date", "2025-06-25")
    code, _, err = run("lists", "use", "2099")
    assert code == 2
    assert "choose from" in err and "shipped" in err and str(snapshot["id"]) in err
