"""Stored list snapshots: kept side by side, loaded as the shipped one is, chosen by `resolve_lists`."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chipgate.errors import InputError
from chipgate.inputs import country_codes
from chipgate.parties import ListEntry, RestrictedPartyList
from chipgate.parties._import import finish_entries, read_list_file, source_table
from chipgate.parties.store import (
    active_snapshot_id,
    import_snapshot,
    list_snapshots,
    lists_home,
    remove_snapshot,
    resolve_lists,
    snapshot_csv,
    use_snapshot,
)
from chipgate.rulebook import default_rulebook
from tests.parties.list_files import CSL_CSV, CSL_JSON, FTM

DATE = dt.date(2025, 6, 25)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHIPGATE_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "lists"


def shipped() -> RestrictedPartyList:
    return default_rulebook().restricted_parties


def test_lists_live_under_chipgate_home(home: Path) -> None:
    assert lists_home() == home


def test_an_imported_snapshot_loads_with_from_csv_and_screens(home: Path) -> None:
    snapshot, created = import_snapshot(CSL_CSV, snapshot_date=DATE)
    assert created
    csv_bytes = snapshot.csv_path.read_bytes()
    assert snapshot.id == f"2025-06-25-{hashlib.sha256(csv_bytes).hexdigest()[:8]}"
    assert snapshot.csv_path.parent == home / snapshot.id
    loaded = RestrictedPartyList.from_csv(snapshot.csv_path)
    assert loaded.snapshot_id == snapshot.id
    assert loaded.snapshot_date == DATE
    assert set(loaded.entries) == set(read_list_file(CSL_CSV).entries)
    assert loaded.list_codes == ("DPL", "DTC", "EL", "FSE", "ISN", "MEU", "PLC", "SDN", "SSI", "UVL")
    assert loaded.list_name("UVL") == "BIS Unverified List (15 CFR 744 Supp. 6)"
    hits = loaded.screen("Hebei Semiconductor Research Institute")
    assert [(hit.entry.list_code, hit.entry.name) for hit in hits] == [
        ("EL", "China Electronics Technology Group Corporation 13th Research Institute (CETC 13)")
    ]


def test_the_import_records_source_date_format_and_counts() -> None:
    snapshot, _ = import_snapshot(CSL_CSV, snapshot_date=DATE, source="trade.gov consolidated.csv, 2025-06-25")
    assert snapshot.source == "trade.gov consolidated.csv, 2025-06-25"
    assert snapshot.snapshot_date_basis == "given"
    assert snapshot.format == "csl-csv"
    assert snapshot.file == CSL_CSV.name
    assert snapshot.file_sha256 == hashlib.sha256(CSL_CSV.read_bytes()).hexdigest()
    assert snapshot.lists["SSI"] == 3 and snapshot.entries == 13
    assert RestrictedPartyList.from_csv(snapshot.csv_path).source == "trade.gov consolidated.csv, 2025-06-25"


def test_without_a_date_the_files_modification_date_is_the_snapshot_date(tmp_path: Path) -> None:
    copy = tmp_path / "consolidated.csv"
    shutil.copy(CSL_CSV, copy)
    moment = dt.datetime(2025, 3, 4, 12, 0, tzinfo=dt.UTC).timestamp()
    os.utime(copy, (moment, moment))
    snapshot, _ = import_snapshot(copy)
    assert snapshot.snapshot_date == dt.date(2025, 3, 4)
    assert snapshot.snapshot_date_basis == "file modified"
    assert snapshot.source.startswith("consolidated.csv (sha256 ")


def test_the_shipped_file_keeps_its_own_date_and_source() -> None:
    data_dir = Path(str(resources.files("chipgate") / "data"))
    snapshot, _ = import_snapshot(data_dir / "restricted_parties.csv")
    assert snapshot.snapshot_date == shipped().snapshot_date == dt.date(2026, 8, 18)
    assert snapshot.snapshot_date_basis == "meta file"
    assert snapshot.source == shipped().source
    assert set(resolve_lists(None).entries) == set(shipped().entries)


def test_importing_the_same_content_twice_changes_nothing(home: Path) -> None:
    first, created_first = import_snapshot(CSL_CSV, snapshot_date=DATE)
    # The JSON of the same records is the same content: the same snapshot.
    second, created_second = import_snapshot(CSL_JSON, snapshot_date=DATE)
    assert (created_first, created_second) == (True, False)
    assert second.id == first.id
    assert [snapshot.id for snapshot in list_snapshots()] == [first.id]
    assert {path.name for path in home.iterdir()} == {"active", first.id}


def test_snapshots_are_kept_side_by_side_and_use_switches_between_them() -> None:
    csl, _ = import_snapshot(CSL_CSV, snapshot_date=DATE)
    ftm, _ = import_snapshot(FTM, snapshot_date=dt.date(2025, 6, 24))
    assert {snapshot.id for snapshot in list_snapshots()} == {csl.id, ftm.id}
    assert resolve_lists(None).snapshot_id == ftm.id  # the latest import is in use
    assert resolve_lists(None).screen("Northwind Lattice")

    use_snapshot(csl.id)
    assert resolve_lists(None).snapshot_id == csl.id
    assert resolve_lists("active").snapshot_id == csl.id
    assert not resolve_lists(None).screen("Northwind Lattice")

    use_snapshot("shipped")
    assert active_snapshot_id() is None
    assert resolve_lists(None) is shipped()
    # Any snapshot can still be named explicitly, by id or a unique prefix.
    assert resolve_lists(ftm.id).snapshot_id == ftm.id
    assert resolve_lists(csl.id[:13]).snapshot_id == csl.id


def test_no_active_choice_means_the_shipped_snapshot() -> None:
    assert resolve_lists(None) is shipped()
    assert resolve_lists("active") is shipped()
    assert resolve_lists("shipped") is shipped()


def test_no_activate_stores_without_switching() -> None:
    snapshot, _ = import_snapshot(CSL_CSV, snapshot_date=DATE, activate=False)
    assert active_snapshot_id() is None
    assert resolve_lists(None) is shipped()
    assert resolve_lists(snapshot.id).snapshot_id == snapshot.id


def test_an_unknown_spec_names_the_choices() -> None:
    snapshot, _ = import_snapshot(CSL_CSV, snapshot_date=DATE)
    with pytest.raises(InputError) as caught:
        resolve_lists("2024-01-01-deadbeef")
    assert caught.value.field == "lists"
    assert "choose from shipped, active, " + snapshot.id in caught.value.message


def test_an_ambiguous_prefix_lists_the_candidates() -> None:
    first, _ = import_snapshot(CSL_CSV, snapshot_date=DATE)
    second, _ = import_snapshot(FTM, snapshot_date=DATE)
    with pytest.raises(InputError) as caught:
        resolve_lists("2025-06-25")
    assert first.id in caught.value.message and second.id in caught.value.message


def test_a_list_file_is_imported_in_memory_without_storing_it(home: Path) -> None:
    lists = resolve_lists(str(FTM))
    assert {entry.record_id for entry in lists.entries} >= {"trade-csl-0a1b2c3d", "ofac-99001@SDN"}
    assert lists.list_name("EL") == "BIS Entity List (15 CFR 744 Supp. 4)"
    assert [hit.entry.list_code for hit in lists.screen("Kestrel Aerodynamics Institute")] == ["MEU", "SDN"]
    assert not home.exists()
    # The id is the one an import of the file on its modification date would give.
    modified = dt.datetime.fromtimestamp(FTM.stat().st_mtime, dt.UTC).date()
    stored, _ = import_snapshot(FTM, snapshot_date=modified, activate=False)
    assert lists.snapshot_id == stored.id


def test_a_stored_snapshot_file_is_loaded_as_it_is() -> None:
    snapshot, _ = import_snapshot(CSL_CSV, snapshot_date=DATE, activate=False)
    assert resolve_lists(str(snapshot.csv_path)).snapshot_id == snapshot.id


def test_removing_the_active_snapshot_falls_back_to_the_shipped_one(home: Path) -> None:
    snapshot, _ = import_snapshot(CSL_CSV, snapshot_date=DATE)
    removed, was_active = remove_snapshot(snapshot.id[:12])
    assert removed.id == snapshot.id and was_active
    assert list_snapshots() == []
    assert sorted(path.name for path in home.iterdir()) == []
    assert resolve_lists(None) is shipped()
    with pytest.raises(InputError):
        remove_snapshot(snapshot.id)


def test_an_active_snapshot_deleted_behind_chipgates_back_is_an_error(home: Path) -> None:
    snapshot, _ = import_snapshot(CSL_CSV, snapshot_date=DATE)
    shutil.rmtree(home / snapshot.id)
    with pytest.raises(InputError) as caught:
        resolve_lists(None)
    assert caught.value.field == "lists"
    assert "chipgate lists use" in caught.value.message


def test_a_failed_import_leaves_nothing_behind(tmp_path: Path, home: Path) -> None:
    broken = tmp_path / "consolidated.csv"
    broken.write_text("_id,source,name\n1,Entity List (EL) - Bureau of Industry and Security,X\n")
    with pytest.raises(InputError):
        import_snapshot(broken, snapshot_date=DATE)
    assert not home.exists() or list(home.iterdir()) == []
    empty = tmp_path / "empty.csv"
    empty.write_text(CSL_CSV.read_text(encoding="utf-8").splitlines()[0] + "\n")
    with pytest.raises(InputError) as caught:
        import_snapshot(empty, snapshot_date=DATE)
    assert caught.value.field == "FILE"
    assert not home.exists() or list(home.iterdir()) == []


def test_unmapped_codes_are_described_in_the_meta_file_and_load() -> None:
    snapshot, _ = import_snapshot(FTM, snapshot_date=DATE)
    assert snapshot.unmapped == {"EU-FSF": {"source": "OpenSanctions dataset eu_fsf", "entries": 1}}
    loaded = RestrictedPartyList.from_csv(snapshot.csv_path)
    assert loaded.list_name("EU-FSF") == "OpenSanctions dataset eu_fsf"
    assert loaded.list_info("SDN").citation.startswith("31 CFR Chapter V")


# --- the stored form gives back exactly what was stored -----------------------------------

_CODES = sorted(country_codes())
_KNOWN = sorted(source_table().lists)
_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)
_entries = st.lists(
    st.builds(
        ListEntry,
        record_id=_text,
        list_code=st.one_of(st.sampled_from(_KNOWN), st.from_regex(r"[A-Z]{2,6}", fullmatch=True)),
        list_name=_text,
        name=_text.filter(str.strip),
        aliases=st.lists(_text, max_size=4).map(tuple),
        countries=st.lists(st.sampled_from(_CODES), max_size=3).map(tuple),
        identifiers=st.lists(_text.map(lambda value: f"REG:{value}"), max_size=2).map(tuple),
    ),
    min_size=1,
    max_size=8,
)


@given(_entries)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_entries_stored_and_loaded_are_the_entries(
    tmp_path_factory: pytest.TempPathFactory, raw: list[ListEntry]
) -> None:
    entries = [entry for entry in finish_entries(raw) if entry.record_id and entry.name]
    if not entries:
        return
    directory = tmp_path_factory.mktemp("roundtrip")
    source = directory / "parties.csv"
    source.write_bytes(snapshot_csv(entries))
    snapshot, _ = import_snapshot(source, snapshot_date=DATE, home=directory / "lists", activate=False)
    loaded = RestrictedPartyList.from_csv(snapshot.csv_path)
    assert sorted(loaded.entries, key=lambda e: (e.list_code, e.record_id)) == entries
