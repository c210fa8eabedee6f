"""The batch path and the single-shipment path give the same decision, field by field.

Shipments are generated across every regime: dates on and just before each rule change,
chip specs on the thresholds the rule data holds, the headquarters rule with parties
located outside their headquarters country, reexports, in-country transfers and imports,
the Section 232 bands, restricted parties, and every end use; plus rows with bad fields.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chipgate.batch import decide_batch
from chipgate.batch._answers import format_party_hits, format_reasons
from chipgate.batch._columns import column_for_field
from chipgate.decide import decide
from chipgate.errors import InputError
from chipgate.inputs import parse_shipment
from chipgate.model import END_USES, SHIPMENT_KINDS
from chipgate.rulebook import default_rulebook

BOOK = default_rulebook()
CHIPS = sorted(chip.id for chip in BOOK.catalogue)


def _numbers(value: Any) -> set[float]:
    """Every number in the rule data: the thresholds, band bounds and limits to probe."""
    if isinstance(value, bool):
        return set()
    if isinstance(value, int | float):
        return {float(value)}
    if isinstance(value, dict):
        return set().union(*(_numbers(v) for v in value.values())) if value else set()
    if isinstance(value, list | tuple):
        return set().union(*(_numbers(v) for v in value)) if value else set()
    return set()


THRESHOLDS = sorted(
    n for p in BOOK.parameters.values() for v in p.values for n in _numbers(v.value) if 0 < n < 1_000_000
)
BOUNDARY_DATES = sorted({d for change in BOOK.change_dates for d in (change - dt.timedelta(days=1), change)})
NAMES = (
    "Huawei Technologies Co., Ltd.",
    "Sugon",
    "Inspur Group",
    "Zhipu AI",
    "Tencent Cloud",
    "Alibaba Cloud",
    "DeepSeek",
    "ByteDance Pte. Ltd.",
    "Acme Compute Pte Ltd",
    "G42",
    "Viettel IDC",
)
COUNTRIES = ("CN", "MO", "HK", "SG", "AE", "VN", "US", "DE", "IN", "RU", "SA", "MY", "TW", "KR", "NL")


def near(value: float) -> st.SearchStrategy[float]:
    """A threshold itself, or just either side of it."""
    return st.sampled_from([value, value * 0.999, value * 1.001, value - 1, value + 1]).map(lambda v: max(v, 0.0))


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    """A datasheet near the thresholds: TPP, density (via die area), DRAM and interconnect bandwidth."""
    tpp = draw(st.sampled_from(THRESHOLDS).flatmap(near) | st.floats(0, 40_000))
    precision = draw(st.sampled_from(["fp16", "fp8", "int8", "bf16", "fp4"]))
    bits = {"fp16": 16, "bf16": 16, "fp8": 8, "int8": 8, "fp4": 4}[precision]
    spec: dict[str, Any] = {"dense_tops": {precision: tpp / 2 / bits}}
    density = draw(st.none() | st.sampled_from(THRESHOLDS).flatmap(near))
    if density:
        spec["die_area_mm2"] = tpp / density if tpp else 1.0
    for name in ("dram_bandwidth_gbs", "interconnect_gbs"):
        value = draw(st.none() | st.sampled_from(THRESHOLDS).flatmap(near) | st.floats(0, 10_000))
        if value is not None:
            spec[name] = value
    spec["datacenter"] = draw(st.booleans())
    return spec


@st.composite
def parties(draw: st.DrawFn) -> dict[str, Any]:
    party: dict[str, Any] = {
        "name": draw(st.sampled_from(NAMES)),
        "country": draw(st.sampled_from(COUNTRIES)),
    }
    hq = draw(st.none() | st.sampled_from(("CN", "MO", "US", "SG", "HK", "RU")))
    if hq:
        party["headquarters_country"] = hq
    if draw(st.integers(0, 9)) == 0:
        party["parent_headquarters_country"] = draw(st.sampled_from(("CN", "MO", "US")))
    return party


@st.composite
def shipments(draw: st.DrawFn) -> dict[str, Any]:
    on = draw(st.sampled_from(BOUNDARY_DATES) | st.dates(dt.date(2019, 1, 1), dt.date(2027, 12, 31)))
    body: dict[str, Any] = {
        "date": on.isoformat(),
        "kind": draw(st.sampled_from(SHIPMENT_KINDS)),
        "to_country": draw(st.sampled_from(COUNTRIES)),
        "quantity": draw(st.integers(1, 5000)),
        "consignee": draw(parties()),
    }
    if draw(st.booleans()):
        body["from_country"] = draw(st.sampled_from(("US", "TW", "SG", "CN", "MO", "HK", "KR", "MY", "MX")))
    body["item"] = {"spec": draw(specs())} if draw(st.integers(0, 3)) == 0 else {"chip": draw(st.sampled_from(CHIPS))}
    if draw(st.booleans()):
        body["end_user"] = draw(parties())
    end_use = draw(st.none() | st.sampled_from(END_USES))
    if end_use is not None:
        body["end_use"] = end_use
    value = draw(st.none() | st.decimals(0, 60_000, places=2, allow_nan=False, allow_infinity=False))
    if value is not None:
        body["unit_value_usd"] = float(value)
    if draw(st.booleans()):
        body["exporter"] = "NVIDIA"
    # Now and then a field a user gets wrong.
    mistake = draw(st.integers(0, 14))
    if mistake == 1:
        body["item"] = {"chip": "nvidia-h999"}
    elif mistake == 2:
        body["to_country"] = "XX"
    elif mistake == 3:
        body["quantity"] = draw(st.sampled_from([0, -3]))
    elif mistake == 4:
        body["date"] = "2024-02-30"
    elif mistake == 5:
        body["kind"] = "smuggle"
    elif mistake == 6:
        body["end_use"] = "party"
    elif mistake == 7:
        body["consignee"]["country"] = "China"
    return body


SPEC_FIELDS = ("name", "die_area_mm2", "dram_bandwidth_gbs", "interconnect_gbs", "datacenter")
SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("date", pa.string()),
        ("kind", pa.string()),
        ("from_country", pa.string()),
        ("to_country", pa.string()),
        ("item_chip", pa.string()),
        *[(f"item_spec_dense_{p}", pa.float64()) for p in ("fp16", "bf16", "fp8", "int8", "fp4")],
        ("item_spec_name", pa.string()),
        ("item_spec_die_area_mm2", pa.float64()),
        ("item_spec_dram_bandwidth_gbs", pa.float64()),
        ("item_spec_interconnect_gbs", pa.float64()),
        ("item_spec_datacenter", pa.bool_()),
        ("quantity", pa.int64()),
        ("unit_value_usd", pa.float64()),
        *[
            (f"{role}_{f}", pa.string())
            for role in ("consignee", "end_user")
            for f in ("name", "country", "headquarters_country", "parent_headquarters_country")
        ],
        ("end_use", pa.string()),
        ("exporter", pa.string()),
    ]
)


def flatten(i: int, body: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"id": i}
    for name in ("date", "kind", "from_country", "to_country", "quantity", "unit_value_usd", "end_use", "exporter"):
        row[name] = body.get(name)
    item = body["item"]
    row["item_chip"] = item.get("chip")
    spec = item.get("spec", {})
    for precision, value in spec.get("dense_tops", {}).items():
        row[f"item_spec_dense_{precision}"] = value
    for name in SPEC_FIELDS:
        row[f"item_spec_{name}"] = spec.get(name)
    for role in ("consignee", "end_user"):
        for name, value in body.get(role, {}).items():
            row[f"{role}_{name}"] = value
    return row


def scalar(body: dict[str, Any], on: dt.date | None) -> dict[str, Any]:
    """The single path's answer in the batch's output form (or the column it refused)."""
    try:
        shipment = parse_shipment(body)
        decision = decide(shipment, on)
    except InputError as exc:
        return {"error": "item" if exc.field == "item" else column_for_field(exc.field)}
    duty = decision.duties[0] if decision.duties else None
    return {
        "error": None,
        "as_of": on or shipment.date,
        "outcome": decision.outcome,
        "eccn": decision.eccn,
        "tpp": decision.classification.tpp,
        "license_required": decision.us_export.license_required,
        "review_policy": decision.us_export.review_policy,
        "license_conditions": "; ".join(decision.us_export.conditions) or None,
        "china_approval_required": decision.china_import.approval_required,
        "duty_tariff": duty.tariff if duty else None,
        "duty_rate": duty.rate if duty else None,
        "duty_amount_usd": duty.amount_usd if duty else None,
        "restricted_party_hits": format_party_hits(decision),
        "reasons": format_reasons(decision),
        "rulebook_version": decision.rulebook_version,
    }


def check(bodies: list[dict[str, Any]], on: dt.date | None) -> None:
    table = pa.Table.from_pylist([flatten(i, b) for i, b in enumerate(bodies)], schema=SCHEMA)
    rows = decide_batch(table, on=on).to_pylist()
    assert [r["id"] for r in rows] == list(range(len(bodies)))
    for body, row in zip(bodies, rows, strict=True):
        expected = scalar(body, on)
        if expected["error"] is not None:
            assert row["error"] is not None, body
            assert expected["error"] + ":" in row["error"], (expected["error"], row["error"])
            assert row["outcome"] is None
            continue
        assert row["error"] is None, (body, row["error"])
        got = {name: row[name] for name in expected}
        for money in ("duty_rate", "duty_amount_usd"):
            if expected[money] is not None:
                assert got[money] is not None, (body, money)
                assert Decimal(got[money]) == Decimal(expected[money]), (body, money, got[money], expected[money])
                got[money] = expected[money]
        assert got == expected, body


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(shipments(), min_size=1, max_size=25))
def test_each_row_decides_as_the_single_path(bodies: list[dict[str, Any]]) -> None:
    # Repeat some shipments on other dates so that rows share decision keys within a batch.
    extra = [dict(b, date=d.isoformat()) for b, d in zip(bodies[:5], BOUNDARY_DATES[::3], strict=False)]
    check(bodies + extra, None)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(shipments(), min_size=1, max_size=15), st.sampled_from(BOUNDARY_DATES))
def test_rows_decided_as_of_another_date_match_the_single_path(bodies: list[dict[str, Any]], on: dt.date) -> None:
    check(bodies, on)


def test_the_generated_edges_reach_every_outcome_and_regime() -> None:
    """The generators are worth something only if they reach each part of the rules."""
    bodies = [
        {
            "date": "2026-03-02",
            "kind": "export",
            "to_country": "CN",
            "item": {"chip": "nvidia-h200-sxm"},
            "quantity": 8,
            "consignee": {"name": "Alibaba Cloud", "country": "CN"},
        },
        {
            "date": "2026-03-02",
            "kind": "import",
            "from_country": "TW",
            "to_country": "US",
            "item": {"chip": "nvidia-h200-sxm"},
            "quantity": 8,
            "unit_value_usd": 31999.99,
            "end_use": "testing",
            "consignee": {"name": "Acme Compute", "country": "US"},
        },
        {
            "date": "2024-06-03",
            "kind": "export",
            "to_country": "SG",
            "item": {"chip": "nvidia-h100-sxm"},
            "quantity": 8,
            "consignee": {"name": "Lion City Compute", "country": "SG", "headquarters_country": "CN"},
        },
        {
            "date": "2024-06-03",
            "kind": "export",
            "to_country": "DE",
            "item": {"chip": "nvidia-l4"},
            "quantity": 8,
            "consignee": {"name": "Sugon", "country": "DE"},
        },
    ]
    check(bodies, None)
    rows = decide_batch(pa.Table.from_pylist([flatten(i, b) for i, b in enumerate(bodies)], schema=SCHEMA))
    got = rows.to_pylist()
    assert got[0]["review_policy"] == "case_by_case" and got[0]["china_approval_required"] is True
    assert got[1]["duty_amount_usd"] > 0
    assert "us.license_requirement.headquarters" in got[2]["reasons"]
    assert "EL" in got[3]["restricted_party_hits"] and got[3]["license_required"] is True
