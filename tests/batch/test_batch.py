"""The batch engine as a user meets it: files in and out, bad rows, --strict, --as-of, replay, Dask, the ledger."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from table_files import write_table
from typer.testing import CliRunner

from chipgate.batch import decide_batch, split_list, split_reasons
from chipgate.batch._run import decide_file
from chipgate.batch.cli import app
from chipgate.errors import InputError
from chipgate.inputs import parse_spec

runner = CliRunner()

H200_TO_CHINA = {
    "id": "A-1",
    "date": "2026-03-02",
    "kind": "export",
    "from_country": "US",
    "to_country": "CN",
    "item_chip": "nvidia-h200-sxm",
    "quantity": 8,
    "unit_value_usd": 30000.0,
    "consignee_name": "Alibaba Cloud",
    "consignee_country": "CN",
    "end_use": "datacenter",
}
H100_TO_GERMANY = {
    **H200_TO_CHINA,
    "id": "A-2",
    "to_country": "DE",
    "item_chip": "nvidia-h100-sxm",
    "consignee_name": "Schwarz Digits",
    "consignee_country": "DE",
}
IMPORT_FOR_TESTING = {
    **H200_TO_CHINA,
    "id": "A-3",
    "kind": "import",
    "from_country": "TW",
    "to_country": "US",
    "quantity": 10,
    "unit_value_usd": 31999.99,
    "consignee_name": "Acme Compute",
    "consignee_country": "US",
    "end_use": "testing",
}
UNKNOWN_CHIP = {**H200_TO_CHINA, "id": "A-4", "item_chip": "nvidia-h999"}
NEGATIVE_QUANTITY = {**H200_TO_CHINA, "id": "A-5", "quantity": -4}
ROWS = [H200_TO_CHINA, H100_TO_GERMANY, IMPORT_FOR_TESTING, UNKNOWN_CHIP, NEGATIVE_QUANTITY]


def read_book(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        return list(pq.read_table(path).to_pylist())
    if path.suffix == ".csv":
        return list(pl.read_csv(path, infer_schema_length=0).to_dicts())
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_decide_writes_each_row_with_its_decision(tmp_path: Path, suffix: str) -> None:
    source = write_table(tmp_path / f"orders{suffix}", ROWS)
    target = tmp_path / f"decisions{suffix}"
    result = runner.invoke(app, ["decide", str(source), "-o", str(target), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["rows"] == 5 and summary["errors"] == 2
    rows = {str(r["id"]): r for r in read_book(target)}
    assert list(rows) == ["A-1", "A-2", "A-3", "A-4", "A-5"]
    china = rows["A-1"]
    assert china["outcome"] == "needs_authorization"
    assert china["review_policy"] == "case_by_case"
    assert str(china["china_approval_required"]).lower() == "true"
    assert "us.license_policy.h200_lane|91 FR 1684|2026-01-15" in china["reasons"]
    assert rows["A-2"]["outcome"] == "allowed"
    # Section 232: 25% of 10 x 31,999.99 (testing is not an exempt end use).
    assert float(rows["A-3"]["duty_amount_usd"]) == pytest.approx(79999.975)
    assert rows["A-4"]["error"].startswith("item_chip: 'nvidia-h999' is not in the chip catalogue")
    assert rows["A-4"]["outcome"] in (None, "")
    assert rows["A-5"]["error"].startswith("quantity: expected a whole number of units >= 1")


def test_format_option_overrides_the_extension(tmp_path: Path) -> None:
    source = write_table(tmp_path / "orders.parquet", ROWS[:2])
    target = tmp_path / "decisions.out"
    result = runner.invoke(app, ["decide", str(source), "-o", str(target), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert target.read_text().splitlines()[0].startswith('"id","date"')


def test_strict_stops_with_exit_2_listing_the_bad_rows_and_writes_nothing(tmp_path: Path) -> None:
    source = write_table(tmp_path / "orders.csv", ROWS)
    target = tmp_path / "decisions.csv"
    result = runner.invoke(app, ["decide", str(source), "-o", str(target), "--strict"])
    assert result.exit_code == 2
    assert "row 4 (id A-4): item_chip: 'nvidia-h999'" in result.output
    assert "row 5 (id A-5): quantity" in result.output
    assert not target.exists()
    assert not list(tmp_path.glob(".decisions.csv.partial*"))


def test_as_of_decides_every_row_under_the_rules_of_that_date(tmp_path: Path) -> None:
    source = write_table(tmp_path / "orders.parquet", [H200_TO_CHINA])
    target = tmp_path / "decisions.parquet"
    result = runner.invoke(app, ["decide", str(source), "-o", str(target), "--as-of", "2024-06-01"])
    assert result.exit_code == 0, result.output
    (row,) = read_book(target)
    assert row["as_of"] == dt.date(2024, 6, 1)
    assert row["review_policy"] == "presumption_of_denial"
    assert row["china_approval_required"] is False


def test_bad_text_values_name_their_column_and_the_rest_go_on(tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    source.write_text(
        "id,date,kind,to_country,item_chip,quantity,unit_value_usd,consignee_name,consignee_country\n"
        "1,yesterday,export,CN,nvidia-h20,3,10,Alibaba Cloud,CN\n"
        "2,2025-05-01,export,CN,nvidia-h20,three,10,Alibaba Cloud,CN\n"
        "3,2025-05-01,export,CN,nvidia-h20,3,-10,Alibaba Cloud,CN\n"
        "4,2025-05-01,smuggle,CN,nvidia-h20,3,10,Alibaba Cloud,CN\n"
        "5,2025-05-01,export,Cathay,nvidia-h20,3,10,Alibaba Cloud,CN\n"
        "6,2025-05-01,export,CN,nvidia-h20,3,10,Alibaba Cloud,CN\n"
    )
    out = tmp_path / "decisions.csv"
    assert runner.invoke(app, ["decide", str(source), "-o", str(out)]).exit_code == 0
    errors = [r["error"] for r in read_book(out)]
    assert errors[0] == "date: expected a date as YYYY-MM-DD, found 'yesterday'"
    assert errors[1] == "quantity: expected a whole number of units >= 1, found 'three'"
    assert errors[2] == "unit_value_usd: expected an amount in USD >= 0, found '-10'"
    assert errors[3].startswith("kind: 'smuggle' is not allowed")
    assert errors[4].startswith("to_country: expected an ISO 3166 alpha-2 country code")
    assert errors[5] is None


def test_spec_columns_decide_a_chip_not_in_the_catalogue(tmp_path: Path) -> None:
    row = {k: v for k, v in H200_TO_CHINA.items() if k != "item_chip"}
    spec = {**row, "item_spec_name": "custom", "item_spec_dense_fp8": 2000.0, "item_spec_die_area_mm2": 800.0}
    small = {**spec, "id": "B-2", "item_spec_dense_fp8": 10.0}
    bad = {**spec, "id": "B-3", "item_spec_dense_fp8": -1.0}
    rows = decide_batch(pl.DataFrame([spec, small, bad])).to_dicts()
    assert rows[0]["eccn"] == "3A090.a" and rows[0]["license_required"] is True
    assert rows[1]["eccn"] is None
    # The same message as the single path gives, named by the column.
    with pytest.raises(InputError) as refused:
        parse_spec({"dense_tops": {"fp8": -1.0}}, "item.spec")
    assert rows[2]["error"] == f"item_spec_dense_fp8: {refused.value.message}"


def test_nested_json_lines_in_the_single_shipment_contract_are_read_too(tmp_path: Path) -> None:
    source = tmp_path / "orders.jsonl"
    shipment = {
        "date": "2026-03-02",
        "kind": "export",
        "to_country": "CN",
        "item": {"chip": "nvidia-h200-sxm"},
        "quantity": 8,
        "consignee": {"name": "Alibaba Cloud", "country": "CN"},
    }
    source.write_text(json.dumps(shipment) + "\n")
    out = tmp_path / "decisions.jsonl"
    assert runner.invoke(app, ["decide", str(source), "-o", str(out)]).exit_code == 0
    (row,) = read_book(out)
    assert row["outcome"] == "needs_authorization" and row["item_chip"] == "nvidia-h200-sxm"


def test_python_api_returns_the_kind_of_table_it_was_given() -> None:
    arrow = pa.Table.from_pylist(ROWS)
    assert isinstance(decide_batch(arrow), pa.Table)
    frame = decide_batch(pl.from_arrow(arrow))
    assert isinstance(frame, pl.DataFrame) and frame["outcome"].to_list()[:2] == ["needs_authorization", "allowed"]
    pandas_out = decide_batch(pd.DataFrame(ROWS))
    assert isinstance(pandas_out, pd.DataFrame) and list(pandas_out["id"]) == [r["id"] for r in ROWS]


def test_reason_and_list_cells_split_back_into_items() -> None:
    (row,) = decide_batch(pa.Table.from_pylist([{**H200_TO_CHINA, "consignee_name": "Sugon"}])).to_pylist()
    reasons = split_reasons(row["reasons"])
    assert (
        "us.entity_list.license_requirement",
        "15 CFR 744.11; Supplement No. 4 to Part 744",
        "2008-08-21",
    ) in reasons
    assert all(rule and since for rule, _, since in reasons)
    assert any(hit.startswith("consignee|EL|") for hit in split_list(row["restricted_party_hits"]))


def test_small_batches_stream_to_the_same_result_in_the_same_order(tmp_path: Path) -> None:
    book = [{**r, "id": f"{r['id']}-{i}"} for i in range(20) for r in ROWS]
    source = write_table(tmp_path / "orders.parquet", book)
    whole, streamed = tmp_path / "whole.parquet", tmp_path / "streamed.parquet"
    decide_file(source, whole)
    summary = decide_file(source, streamed, batch_rows=7)
    assert summary.rows == 100 and summary.errors == 40
    assert pq.read_table(whole).to_pylist() == pq.read_table(streamed).to_pylist()


def test_replay_counts_what_changed_between_dates(tmp_path: Path) -> None:
    source = write_table(tmp_path / "orders.parquet", [H200_TO_CHINA, H100_TO_GERMANY])
    comparison = tmp_path / "changes.csv"
    result = runner.invoke(
        app,
        ["replay", str(source), "--dates", "2022-01-01,2024-01-01,2026-03-01", "--json", "-o", str(comparison)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["by_date"]["2024-01-01"]["needs_authorization/presumption_of_denial"] == 1
    assert report["by_date"]["2026-03-01"]["needs_authorization/case_by_case"] == 1
    moves = {(m["from_date"], m["from"], m["to"]): m["rows"] for m in report["transitions"]}
    assert moves[("2024-01-01", "needs_authorization/presumption_of_denial", "needs_authorization/case_by_case")] == 1
    assert report["changed_rows"] == 1
    rows = read_book(comparison)
    assert rows[0]["state@2026-03-01"] == "needs_authorization/case_by_case" and rows[0]["changed"] == "true"
    assert rows[1]["changed"] == "false"


def test_replay_needs_two_dates(tmp_path: Path) -> None:
    source = write_table(tmp_path / "orders.parquet", [H200_TO_CHINA])
    result = runner.invoke(app, ["replay", str(source), "--dates", "2024-01-01"])
    assert result.exit_code == 2 and "--dates" in result.output


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def test_dask_decides_the_same_rows_as_the_local_engine(tmp_path: Path, dask_cluster: Any) -> None:
    book = [{**r, "id": f"{r['id']}-{i}"} for i in range(10) for r in ROWS]
    source = write_table(tmp_path / "orders.parquet", book)
    local, distributed = tmp_path / "local.parquet", tmp_path / "dask.parquet"
    decide_file(source, local)
    summary = decide_file(source, distributed, engine="dask", client=dask_cluster, batch_rows=9)
    assert summary.rows == 50
    assert pq.read_table(local).to_pylist() == pq.read_table(distributed).to_pylist()
    # The command line reaches the same cluster by its address.
    via_cli = tmp_path / "cli.parquet"
    address = dask_cluster.scheduler.address
    result = runner.invoke(
        app, ["decide", str(source), "-o", str(via_cli), "--engine", "dask", "--scheduler", address, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert pq.read_table(via_cli).to_pylist() == pq.read_table(local).to_pylist()


def test_ledger_check_marks_covered_rows_allowed_without_reserving(tmp_path: Path) -> None:
    from chipgate.ledger import Ledger

    ledger_file = tmp_path / "ledger.sqlite"
    with Ledger(ledger_file) as ledger:
        ledger.authorize(
            {
                "id": "lic-1",
                "kind": "us_export_license",
                "licensee": "NVIDIA",
                "consignees": ["Alibaba Cloud"],
                "products": ["nvidia-h100-sxm"],
                "quantity": 100,
                "valid_from": "2024-01-01",
                "valid_until": "2025-12-31",
                "reference": "D1",
            },
            actor="tester",
            now=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        )
    covered = {**H200_TO_CHINA, "id": "L-1", "date": "2024-06-03", "item_chip": "nvidia-h100-sxm", "exporter": "NVIDIA"}
    too_many = {**covered, "id": "L-2", "quantity": 500}
    source = write_table(tmp_path / "orders.parquet", [covered, too_many, H100_TO_GERMANY])
    out = tmp_path / "decisions.parquet"
    result = runner.invoke(app, ["decide", str(source), "-o", str(out), "--ledger", str(ledger_file)])
    assert result.exit_code == 0, result.output
    rows = read_book(out)
    assert (rows[0]["outcome"], rows[0]["covered_by"]) == ("allowed", "lic-1")
    assert rows[1]["outcome"] == "needs_authorization" and "500" in rows[1]["missing"]
    assert rows[2]["outcome"] == "allowed" and rows[2]["covered_by"] is None
    with Ledger(ledger_file) as ledger:
        assert ledger.balances()[0].available == 100


def test_a_missing_ledger_file_is_bad_input(tmp_path: Path) -> None:
    source = write_table(tmp_path / "orders.parquet", [H200_TO_CHINA])
    missing = tmp_path / "nowhere.sqlite"
    result = runner.invoke(app, ["decide", str(source), "-o", str(tmp_path / "o.parquet"), "--ledger", str(missing)])
    assert result.exit_code == 2 and "--ledger" in result.output
    assert not missing.exists()


def test_one_contract_across_rule_epochs_is_decided_as_the_single_path_decides_each_date() -> None:
    """Keys that differ only in their epoch share one parsed contract; each is still decided at its own date."""
    from chipgate.batch._engine import BatchEngine
    from chipgate.decide import decide
    from chipgate.inputs import parse_shipment

    dates = ["2022-06-01", "2023-11-20", "2025-01-20", "2026-03-02"]
    rows = [{**H200_TO_CHINA, "id": f"D-{d}", "date": d} for d in dates]
    rows += [{**UNKNOWN_CHIP, "id": f"E-{d}", "date": d} for d in dates]
    engine = BatchEngine()
    out = engine.decide(pa.Table.from_pylist(rows)).to_pylist()
    for day, row in zip(dates, out[: len(dates)], strict=True):
        body = {
            "date": day,
            "kind": "export",
            "to_country": "CN",
            "item": {"chip": "nvidia-h200-sxm"},
            "quantity": 8,
            "unit_value_usd": 30000.0,
            "consignee": {"name": "Alibaba Cloud", "country": "CN"},
        }
        decision = decide(parse_shipment(body))
        assert row["outcome"] == decision.outcome
        assert row["license_required"] == decision.us_export.license_required
        assert row["error"] is None
    errors = {row["error"] for row in out[len(dates) :]}
    assert len(errors) == 1 and None not in errors
    assert len(engine._parsed) < engine.keys_decided


def test_a_csv_cell_reading_na_is_namibia_not_a_missing_value(tmp_path: Path) -> None:
    to_namibia = {**H100_TO_GERMANY, "id": "NA-1", "to_country": "NA", "consignee_country": "NA"}
    source = write_table(tmp_path / "orders.csv", [to_namibia])
    target = tmp_path / "decisions.csv"
    result = runner.invoke(app, ["decide", str(source), "-o", str(target), "--json"])
    assert result.exit_code == 0, result.output
    (row,) = read_book(target)
    assert row["error"] in (None, "")
    assert row["outcome"] in ("allowed", "needs_authorization")


def test_a_possible_list_match_is_marked_as_such_in_the_output(tmp_path: Path) -> None:
    # "Huawei Cloud" resembles the listed "Huawei Cloud <city>" sister companies: possible matches.
    row = {**H100_TO_GERMANY, "id": "P-1", "item_chip": "nvidia-l20", "consignee_name": "Huawei Cloud"}
    source = write_table(tmp_path / "orders.csv", [row])
    target = tmp_path / "decisions.csv"
    result = runner.invoke(app, ["decide", str(source), "-o", str(target), "--json"])
    assert result.exit_code == 0, result.output
    (decided,) = read_book(target)
    assert decided["outcome"] == "needs_authorization"
    hits = [hit.split("|") for hit in split_list(decided["restricted_party_hits"])]
    assert hits and all(hit[0] == "consignee" and hit[3] == "possible" for hit in hits)
    assert all(hit[4].startswith("rpl-") for hit in hits)


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_deciding_a_book_does_not_load_pandas(tmp_path: Path, suffix: str) -> None:
    """pyarrow loads pandas, when it is installed, the first time it is handed Python values
    (about 0.2 s); the engine never hands it any, so a run does not pay for a library it does not use."""
    import subprocess
    import sys

    source = write_table(tmp_path / f"orders{suffix}", ROWS)
    script = (
        "import sys\n"
        "from chipgate.batch._run import decide_file\n"
        f"summary = decide_file({str(source)!r}, {str(tmp_path / 'out.parquet')!r})\n"
        "print(summary.rows, summary.errors, 'pandas' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [str(len(ROWS)), "2", "False"]
