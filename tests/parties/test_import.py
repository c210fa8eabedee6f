"""Reading list files as their publishers ship them: what a user finds in the entries."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pytest
import yaml

from chipgate.errors import InputError
from chipgate.parties import ListEntry, RestrictedPartyList
from chipgate.parties._import import (
    CSL_CSV_COLUMNS,
    FORMATS,
    detect_format,
    read_csl_csv,
    read_list_file,
    source_table,
)
from tests.parties.list_files import CSL_CSV, CSL_JSON, CSL_SAMPLE_LISTS, FTM

DATA_DIR = Path(str(resources.files("chipgate") / "data"))
SHIPPED_CSV = DATA_DIR / "restricted_parties.csv"

CETC13 = "99ed1b052fdb09695fae1ba87516d8a0882b0df04652e07aeb5ce7be"
CANONICAL_CODES = {
    "EL",
    "MEU",
    "UVL",
    "DPL",
    "SDN",
    "NS-CMIC",
    "SSI",
    "FSE",
    "PLC",
    "CAP",
    "MBS",
    "ISN",
    "DTC",
    "UFLPA",
    "1260H",
    "1286",
}


def by_id(entries: tuple[ListEntry, ...] | list[ListEntry]) -> dict[str, ListEntry]:
    return {entry.record_id: entry for entry in entries}


def write_csl(path: Path, rows: list[dict[str, str]]) -> Path:
    """A consolidated.csv with the published header and the given cells filled in."""
    header = [
        "_id",
        "source",
        "entity_number",
        "type",
        "programs",
        "name",
        "title",
        "addresses",
        "federal_register_notice",
        "start_date",
        "end_date",
        "standard_order",
        "license_requirement",
        "license_policy",
        "call_sign",
        "vessel_type",
        "gross_tonnage",
        "gross_registered_tonnage",
        "vessel_flag",
        "vessel_owner",
        "remarks",
        "source_list_url",
        "alt_names",
        "citizenships",
        "dates_of_birth",
        "nationalities",
        "places_of_birth",
        "source_information_url",
        "ids",
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path


# --- trade.gov CSL, CSV as published ----------------------------------------------------


def test_the_real_csl_sample_gives_one_entry_per_row_under_chipgates_list_codes() -> None:
    result = read_list_file(CSL_CSV)
    assert result.format == "csl-csv"
    assert len(result.entries) == 13
    assert result.counts() == CSL_SAMPLE_LISTS
    assert result.unmapped() == {}


def test_an_entity_list_row_keeps_its_name_aliases_and_country() -> None:
    entry = by_id(read_csl_csv(CSL_CSV))[CETC13]
    assert entry.list_code == "EL"
    assert entry.list_name == "BIS Entity List (15 CFR 744 Supp. 4)"
    assert entry.name == "China Electronics Technology Group Corporation 13th Research Institute (CETC 13)"
    # The CSL ends its alias enumeration with "; and ...": the "and" is not part of the name.
    assert entry.aliases == (
        "Hebei Semiconductor Research Institute",
        "HSRI",
        "Hebei Institute of Semiconductors",
        "Hebei Semiconductor Institute",
        "Hebei Semiconductor",
        "CETC Research Institute 13",
    )
    # The address joins three with "; and" and ends with the country code.
    assert entry.countries == ("CN",)


def test_countries_come_from_every_address_and_the_nationality() -> None:
    entries = by_id(read_csl_csv(CSL_CSV))
    assert entries["52291"].countries == ("CN", "KP")  # Shenyang, CN; Pyongyang, KP
    assert entries["26182"].countries == ("TR",)
    assert entries["34d6611355974b0ba70eba9a096971f8"].countries == ()  # DTC row without an address


def test_ids_become_scheme_value_identifiers_and_notes_are_dropped() -> None:
    entries = by_id(read_csl_csv(CSL_CSV))
    assert entries["52291"].identifiers == ("PASSPORT:836238033",)
    assert entries["28603"].identifiers == ("VAT:CHE-267.936.404", "REG:CH-660.0.559.011-2")
    sme_bank = entries["18283"]
    assert sme_bank.name == "SME BANK"
    assert "JSC SME BANK" in sme_bank.aliases
    # The website, directive determination and secondary-sanctions notes are not identifiers.
    assert sme_bank.identifiers == ("REG:1027739108649", "BIC:RUDVRUMM")


def test_a_uscc_is_recognised_whatever_the_id_type_says(tmp_path: Path) -> None:
    path = write_csl(
        tmp_path / "consolidated.csv",
        [
            {
                "_id": "a1",
                "source": "Entity List (EL) - Bureau of Industry and Security",
                "name": "Example Photonics Co., Ltd.",
                "addresses": "1 Example Road, Wuhan, CN",
                "ids": "Registration Number, 91420100MA4KX1234Y, CN; "
                "Unified Social Credit Code (USCC), 91420100MA4KX5678Q",
            },
            {
                "_id": "a2",
                "source": "Entity List (EL) - Bureau of Industry and Security",
                "name": "Example Optics GmbH",
                "addresses": "Hauptstrasse 1, Berlin, DE",
                # 18 characters of the same shape, issued in Germany: not a Chinese USCC.
                "ids": "Registration Number, 91420100MA4KX1234Y, DE",
            },
        ],
    )
    entries = by_id(read_csl_csv(path))
    assert entries["a1"].identifiers == ("USCC:91420100MA4KX1234Y", "USCC:91420100MA4KX5678Q")
    assert entries["a2"].identifiers == ("REG:91420100MA4KX1234Y",)


def test_csl_spellings_map_by_the_code_in_brackets_and_unknown_sources_are_kept(tmp_path: Path) -> None:
    path = write_csl(
        tmp_path / "consolidated.csv",
        [
            {
                "_id": "m1",
                "source": "Non-SDN Menu-Based Sanctions List (NS-MBS) - Treasury Department",
                "name": "Example Bank",
            },
            {
                "_id": "c1",
                "source": "Non-SDN Chinese Military-Industrial Complex Companies List (NS-CMIC List) - Treasury",
                "name": "Example Holdings",
            },
            {"_id": "f1", "source": "Foreign End User List (FEUL) - Example Ministry", "name": "Example Trading"},
            {"_id": "f2", "source": "Foreign End User List (FEUL) - Example Ministry", "name": "Example Trading 2"},
        ],
    )
    result = read_list_file(path)
    entries = by_id(result.entries)
    assert entries["m1"].list_code == "MBS"
    assert entries["c1"].list_code == "NS-CMIC"
    assert entries["f1"].list_code == "FEUL"
    assert entries["f1"].list_name == "Foreign End User List (FEUL) - Example Ministry"
    assert result.unmapped() == {
        "FEUL": {"source": "Foreign End User List (FEUL) - Example Ministry", "entries": 2},
    }


# --- trade.gov CSL, JSON as the API gives it --------------------------------------------


def test_csl_json_gives_the_same_entries_as_the_csv_of_the_same_records() -> None:
    result = read_list_file(CSL_JSON)
    assert result.format == "csl-json"
    assert result.entries == read_list_file(CSL_CSV).entries


def test_csl_json_without_results_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "csl.json"
    path.write_text('{"total": 0, "items": []}')
    with pytest.raises(InputError) as caught:
        read_list_file(path, "csl-json")
    assert caught.value.field == "results"


# --- OpenSanctions FollowTheMoney ------------------------------------------------------


def test_ftm_entities_are_filed_under_their_lists() -> None:
    result = read_list_file(FTM)
    assert result.format == "ftm"
    assert result.counts() == {"1260H": 1, "1286": 1, "EL": 1, "EU-FSF": 1, "MEU": 1, "NS-CMIC": 1, "SDN": 3}
    entries = by_id(result.entries)
    # us_trade_csl holds several lists: its Sanction's program id says the Entity List.
    assert entries["trade-csl-0a1b2c3d"].list_code == "EL"
    # A nested Sanction (targets.nested.json) names the CMIC list inside us_ofac_cons.
    assert entries["ofac-99006"].list_code == "NS-CMIC"
    # A program id on the entity itself, inside us_special_leg.
    assert entries["us-1286-example-institute"].list_code == "1286"


def test_an_entity_on_two_lists_becomes_two_entries() -> None:
    entries = by_id(read_list_file(FTM).entries)
    sdn, meu = entries["ofac-99001@SDN"], entries["ofac-99001@MEU"]
    assert (sdn.list_code, meu.list_code) == ("SDN", "MEU")
    assert sdn.name == meu.name == "Kestrel Aerodynamics Institute"
    assert sdn.identifiers == ("INN:7701234567", "OGRN:1027700123456")


def test_ftm_names_countries_and_identifiers() -> None:
    entry = by_id(read_list_file(FTM).entries)["trade-csl-0a1b2c3d"]
    assert entry.name == "Northwind Lattice Semiconductor Co., Ltd."
    # weakAlias is marked in FollowTheMoney as not for matching, so "NLS" is not kept.
    assert entry.aliases == ("Northwind Lattice", "Northwind Microelectronics Co., Ltd.")
    assert entry.countries == ("CN",)
    assert entry.identifiers == ("USCC:91310115MA1K4ABC1X",)
    harbin = by_id(read_list_file(FTM).entries)["usmilcorp-harbin-example"]
    assert harbin.identifiers == ("LEI:5493001EXAMPLE000042",)


def test_ftm_keeps_listed_parties_and_reports_what_it_skipped() -> None:
    result = read_list_file(FTM)
    names = {entry.name for entry in result.entries}
    assert "GREY PETREL" in names  # a vessel that is itself a listed target
    assert "SILVER TERN" not in names  # a vessel that is not
    assert "Grey Petrel Shipping Ltd" not in names  # its owner, related but not listed
    assert result.skipped == {
        "Address entities (not a party)": 1,
        "Company entities that are not listed themselves (not a target)": 1,
        "Vessel entities that are not listed themselves (not a target)": 1,
    }


def test_an_unknown_dataset_is_kept_under_a_derived_code_and_reported() -> None:
    result = read_list_file(FTM)
    assert result.unmapped() == {"EU-FSF": {"source": "OpenSanctions dataset eu_fsf", "entries": 1}}
    assert by_id(result.entries)["eu-fsf-example-7"].name == "Example Dual-Use Trading FZE"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("record_id,list_code\n", "--format"),  # not JSON at all
        ('{"id": "x", "schema": "Company", "properties": {"name": ["A"]}}\n{not json\n', "line 2"),
        ('{"id": "x", "schema": "Company", "properties": {"name": ["A"]}}\n[1, 2]\n', "line 2"),
    ],
)
def test_a_broken_ftm_file_names_the_line_or_the_format(tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "entities.ftm.json"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_list_file(path, "ftm")
    assert caught.value.field == field
    assert "is not ftm" in caught.value.message


# --- chipgate's own layout ------------------------------------------------------------


def test_the_shipped_file_read_as_chipgate_csv_gives_the_shipped_entries() -> None:
    result = read_list_file(SHIPPED_CSV)
    assert result.format == "chipgate-csv"
    assert set(result.entries) == set(RestrictedPartyList.from_csv(SHIPPED_CSV).entries)
    assert result.unmapped() == {}


def test_an_empty_cell_in_a_chipgate_csv_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "parties.csv"
    path.write_text("record_id,list_code,list_name,name,aliases,country_codes\nr1,EL,Entity List,,,CN\n")
    with pytest.raises(InputError) as caught:
        read_list_file(path)
    assert caught.value.field == "line 2: name"


# --- formats ---------------------------------------------------------------------------


def test_the_format_is_told_from_the_file() -> None:
    assert detect_format(CSL_CSV) == "csl-csv"
    assert detect_format(CSL_JSON) == "csl-json"
    assert detect_format(FTM) == "ftm"
    assert detect_format(SHIPPED_CSV) == "chipgate-csv"


def test_a_file_of_no_known_format_asks_for_one(tmp_path: Path) -> None:
    path = tmp_path / "parties.csv"
    path.write_text("company,country\nExample,CN\n")
    with pytest.raises(InputError) as caught:
        read_list_file(path)
    assert caught.value.field == "--format"
    assert all(fmt in caught.value.message for fmt in FORMATS)


def test_an_unknown_format_lists_the_formats() -> None:
    with pytest.raises(InputError) as caught:
        read_list_file(CSL_CSV, "xml")
    assert caught.value.field == "--format"
    assert "csl-csv, csl-json, ftm, chipgate-csv" in caught.value.message


def test_a_file_that_is_not_what_format_claims_says_so() -> None:
    with pytest.raises(InputError) as caught:
        read_list_file(CSL_CSV, "csl-json")
    assert caught.value.field == "--format"
    assert "is not csl-json" in caught.value.message
    with pytest.raises(InputError) as caught:
        read_list_file(CSL_JSON, "csl-csv")
    assert caught.value.field == "column _id"


def test_a_missing_csl_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "consolidated.csv"
    path.write_text("_id,source,name,alt_names,addresses\n1,Entity List (EL) - Bureau of Industry and Security,X,,\n")
    with pytest.raises(InputError) as caught:
        read_list_file(path)
    assert caught.value.field == "column ids"
    assert ", ".join(CSL_CSV_COLUMNS) in caught.value.message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_list_file(tmp_path / "absent.csv")
    assert caught.value.field == "FILE"


# --- the source table ------------------------------------------------------------------


def test_every_code_the_decision_rules_key_on_is_in_the_table() -> None:
    table = source_table()
    assert set(table.lists) == CANONICAL_CODES
    assert all(info.name and info.authority and info.citation for info in table.lists.values())


def test_the_table_names_the_shipped_lists_as_the_shipped_snapshot_does() -> None:
    meta = yaml.safe_load((DATA_DIR / "restricted_parties.meta.yaml").read_text(encoding="utf-8"))
    table = source_table()
    for code, details in meta["lists"].items():
        assert table.lists[str(code)].name == details["name"]
