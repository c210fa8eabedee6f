"""`chipgate batch screen` as a user meets it: a table of parties in, one row per hit out.

The names are real entries of the shipped snapshot that any matcher finds exactly, and
invented names that no list holds, so the assertions hold for every matcher.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from table_files import write_table
from typer.testing import CliRunner

import chipgate
from chipgate.batch.cli import app
from chipgate.batch.screen import screen_table
from chipgate.rulebook import default_rulebook

runner = CliRunner()

SUGON = {"id": "C-1", "name": "Sugon", "country": "CN"}
DAWNING = {"id": "C-2", "name": "Dawning Information Industry Co., Ltd.", "country": "CN"}
CLEAR = {"id": "C-3", "name": "Quillfeather Lamp Works", "country": "US"}
NO_NAME = {"id": "C-4", "name": "", "country": "CN"}
SUGON_AGAIN = {"id": "C-5", "name": "Sugon", "country": "CN"}
PARTIES = [SUGON, DAWNING, CLEAR, NO_NAME, SUGON_AGAIN]
SNAPSHOT = default_rulebook().restricted_parties.snapshot_id
COLUMNS = [
    "row",
    "id",
    "query",
    "country",
    "rank",
    "record_id",
    "list",
    "name",
    "matched_name",
    "score",
    "strength",
    "entry_fingerprint",
    "snapshot",
    "error",
]


def read_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        return list(pq.read_table(path).to_pylist())
    if path.suffix == ".csv":
        frame = pl.read_csv(path, schema_overrides={"row": pl.Int64, "rank": pl.Int64, "score": pl.Float64})
        return [{k: (None if v == "" else v) for k, v in row.items()} for row in frame.to_dicts()]
    return [json.loads(line) for line in path.read_text().splitlines()]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["screen", *map(str, args)], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def summary_of(*args: str) -> dict[str, Any]:
    code, out, err = run(*args, "--json")
    assert code == 0, err
    body: dict[str, Any] = json.loads(out)
    return body


def hits_of(rows: list[dict[str, Any]], row: int) -> list[dict[str, Any]]:
    return [r for r in rows if r["row"] == row]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_one_row_per_hit_with_the_row_number_id_and_snapshot(tmp_path: Path, suffix: str) -> None:
    source = write_table(tmp_path / f"parties{suffix}", PARTIES)
    output = tmp_path / f"hits{suffix}"
    summary = summary_of(str(source), "-o", str(output))
    rows = read_rows(output)
    assert list(rows[0]) == COLUMNS

    sugon = hits_of(rows, 1)
    assert {"1260H", "EL", "NS-CMIC"} <= {r["list"] for r in sugon}
    assert [r["rank"] for r in sugon] == list(range(1, len(sugon) + 1))
    assert [r["score"] for r in sugon] == sorted((r["score"] for r in sugon), reverse=True)
    for hit in sugon:
        assert hit["id"] == "C-1" and hit["query"] == "Sugon" and hit["country"] == "CN"
        assert hit["snapshot"] == SNAPSHOT and hit["error"] is None
        assert hit["strength"] in ("match", "possible") and 0 <= hit["score"] <= 1
    (listed,) = [r for r in hits_of(rows, 2) if r["list"] == "EL" and r["name"] == "Sugon"]
    assert listed["matched_name"] == "Dawning Information Industry" and listed["strength"] == "match"

    assert hits_of(rows, 3) == []  # clear: counted, not written
    (error,) = hits_of(rows, 4)
    assert error["id"] == "C-4" and "name" in error["error"] and error["record_id"] is None
    # A repeated customer gets the same hits under its own row number and id.
    strip = ("row", "id")
    assert [{k: v for k, v in r.items() if k not in strip} for r in hits_of(rows, 5)] == [
        {k: v for k, v in r.items() if k not in strip} for r in sugon
    ]

    assert summary["rows"] == 5
    assert (summary["match"], summary["clear"], summary["errors"]) == (3, 1, 1)
    assert summary["possible"] == 0
    assert summary["distinct_parties"] == 4
    assert summary["hits_written"] == len(rows) - 1
    assert summary["snapshot"] == SNAPSHOT
    assert summary["first_errors"] == [f"row 4 (id C-4): {error['error']}"]


def test_human_summary_counts_rows_by_best_hit(tmp_path: Path) -> None:
    source = write_table(tmp_path / "parties.csv", PARTIES)
    code, out, _ = run(str(source), "-o", str(tmp_path / "hits.csv"))
    assert code == 0
    for shown in ("5 rows screened", "match", "possible", "clear", "error", SNAPSHOT, "row 4 (id C-4)"):
        assert shown in out


def test_min_strength_match_writes_only_matches(tmp_path: Path) -> None:
    source = write_table(tmp_path / "parties.csv", PARTIES)
    output = tmp_path / "hits.csv"
    summary_of(str(source), "-o", str(output), "--min-strength", "match", "--list", "EL")
    hits = [r for r in read_rows(output) if r["error"] is None]
    assert {r["row"] for r in hits} == {1, 2, 5}
    assert {(r["list"], r["name"], r["strength"]) for r in hits} == {("EL", "Sugon", "match")}


def test_named_columns(tmp_path: Path) -> None:
    rows = [{"customer": "K-9", "party": "Sugon", "land": "CN", "name": "not this one"}]
    source = write_table(tmp_path / "book.parquet", rows)
    output = tmp_path / "hits.parquet"
    summary_of(
        str(source), "-o", str(output), "--name-column", "party", "--country-column", "land", "--id-column", "customer"
    )
    hits = read_rows(output)
    assert list(hits[0])[:3] == ["row", "customer", "query"]
    assert {(h["customer"], h["query"], h["country"]) for h in hits} == {("K-9", "Sugon", "CN")}
    assert "EL" in {h["list"] for h in hits}


def test_strict_stops_with_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    source = write_table(tmp_path / "parties.csv", PARTIES)
    output = tmp_path / "hits.csv"
    output.write_text("earlier run\n")
    code, _, err = run(str(source), "-o", str(output), "--strict")
    assert code == 2
    assert "row 4 (id C-4)" in err and "name" in err
    assert output.read_text() == "earlier run\n"
    assert {p.name for p in tmp_path.iterdir()} == {"parties.csv", "hits.csv"}  # no partial file left


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--name-column", "party"), "--name-column"),
        (("--country-column", "nation"), "--country-column"),
        (("--id-column", "customer_no"), "--id-column"),
        (("--min-strength", "likely"), "--min-strength"),
        (("--list", "SDN"), "--list"),
        (("--lists", "no-such-snapshot"), "--lists"),
        (("--format", "xlsx"), "--format"),
    ],
)
def test_bad_options_exit_2_naming_the_option_and_write_nothing(
    tmp_path: Path, args: tuple[str, ...], field: str
) -> None:
    source = write_table(tmp_path / "parties.csv", PARTIES)
    output = tmp_path / "hits.csv"
    code, _, err = run(str(source), "-o", str(output), *args)
    assert code == 2
    assert field in err
    assert not output.exists()


def test_missing_input_exits_2(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path / "nope.csv"), "-o", str(tmp_path / "hits.csv"))
    assert code == 2 and "does not exist" in err
    assert not (tmp_path / "hits.csv").exists()


def test_a_table_without_rows_gives_a_header_only(tmp_path: Path) -> None:
    source = tmp_path / "parties.csv"
    source.write_text("id,name,country\n")
    output = tmp_path / "hits.csv"
    summary = summary_of(str(source), "-o", str(output))
    assert summary["rows"] == 0
    assert output.read_text().splitlines() == [",".join(f'"{c}"' for c in COLUMNS)]


# ---- the batch equals screening each row alone -----------------------------------------------

_LISTS = default_rulebook().restricted_parties
LISTED = sorted({e.name for e in _LISTS.entries if e.list_code in ("EL", "1260H")})[:200]
ALIASES = sorted({a for e in _LISTS.entries for a in e.aliases})[:200]
INVENTED = ["Quillfeather Lamp Works", "Example Cloud Co., Ltd.", "Huawei Cloud", "Sugon Information", "Co., Ltd."]
NAMES = st.one_of(
    st.sampled_from(LISTED),
    st.sampled_from(ALIASES),
    st.sampled_from(INVENTED),
    st.sampled_from(["", "   ", "Sugon", " SUGON "]),
    st.text(alphabet="abcdefgh ,.-&華为", max_size=20),
)
COUNTRIES = st.sampled_from([None, "CN", "cn", "US", "HK", "XX", "", "China"])
ROWS = st.lists(st.fixed_dictionaries({"name": st.one_of(st.none(), NAMES), "country": COUNTRIES}), max_size=8)


def screened_alone(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for number, row in enumerate(rows, 1):
        country = row["country"] or None
        try:
            result = chipgate.screen(row["name"] if row["name"] is not None else "", country)
        except chipgate.InputError as exc:
            out.append({"row": number, "query": row["name"], "country": row["country"], "error": str(exc)})
            continue
        for rank, hit in enumerate(result.hits, 1):
            out.append(
                {
                    "row": number,
                    "query": result.query,
                    "country": result.country,
                    "rank": rank,
                    "record_id": hit.record_id,
                    "list": hit.list,
                    "name": hit.name,
                    "matched_name": hit.matched_name,
                    "score": hit.score,
                    "strength": hit.strength,
                    "entry_fingerprint": hit.entry_fingerprint,
                    "snapshot": result.snapshot_id,
                    "error": None,
                }
            )
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ROWS)
def test_batch_screen_equals_screening_each_row_alone(rows: list[dict[str, Any]]) -> None:
    table = pa.Table.from_pylist(rows, schema=pa.schema([("name", pa.string()), ("country", pa.string())]))
    batch = screen_table(table).to_pylist()
    expected = screened_alone(rows)
    assert len(batch) == len(expected)
    for got, want in zip(batch, expected, strict=True):
        assert {k: got[k] for k in want} == want
        assert all(got[k] is None for k in got if k not in want)
