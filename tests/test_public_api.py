"""The deliberate public API of `import chipgate`."""

from __future__ import annotations

import datetime as dt

import pytest

import chipgate


def test_public_names() -> None:
    assert set(chipgate.__all__) == {
        "Catalogue",
        "Chip",
        "ChipSpec",
        "ChipgateError",
        "Classification",
        "Decision",
        "InputError",
        "Ledger",
        "LedgerError",
        "Party",
        "Reason",
        "RuleDataError",
        "RuleSet",
        "Rulebook",
        "Shipment",
        "UnknownChipError",
        "classify",
        "decide",
        "decide_batch",
        "default_rulebook",
        "parse_shipment",
        "parse_spec",
        "screen",
    }
    for name in chipgate.__all__:
        assert hasattr(chipgate, name), name


def test_classify_takes_an_id_a_name_or_a_spec_mapping() -> None:
    on = dt.date(2026, 3, 2)
    by_id = chipgate.classify("nvidia-h200-sxm", on=on)
    by_name = chipgate.classify("H200 SXM", on=on)
    by_spec = chipgate.classify({"dense_tops": {"fp8": 1979}, "die_area_mm2": 814, "dram_bandwidth_gbs": 4800}, on=on)
    assert isinstance(by_id, chipgate.Classification)
    assert by_id.eccn == by_name.eccn == by_spec.eccn == "3A090.a"
    assert by_spec.tpp == by_id.tpp


def test_decide_is_replayable() -> None:
    shipment = {
        "date": "2026-03-02",
        "kind": "export",
        "from_country": "US",
        "to_country": "CN",
        "item": {"chip": "nvidia-h200-sxm"},
        "quantity": 1000,
        "consignee": {"name": "Example Cloud Co., Ltd.", "country": "CN", "headquarters_country": "CN"},
    }
    first = chipgate.decide(shipment)
    again = chipgate.decide(chipgate.parse_shipment(shipment))
    assert isinstance(first, chipgate.Decision)
    assert first.to_dict() == again.to_dict()
    assert first.input_hash == again.input_hash and first.rulebook_version == again.rulebook_version
    other_day = chipgate.decide(shipment, on=dt.date(2025, 12, 20))
    assert other_day.input_hash != first.input_hash
    assert other_day.us_export.review_policy == "presumption_of_denial"


def test_bad_input_names_the_field() -> None:
    with pytest.raises(chipgate.InputError) as info:
        chipgate.decide(
            {
                "date": "2026-03-02",
                "kind": "teleport",
                "to_country": "CN",
                "item": {"chip": "h200"},
                "quantity": 1,
                "consignee": {"name": "x", "country": "CN"},
            }
        )
    assert info.value.field == "kind"


def test_decide_batch_equals_decide_on_a_small_book() -> None:
    import pyarrow as pa

    rows = {
        "date": ["2025-12-20", "2026-03-02"],
        "kind": ["export", "export"],
        "from_country": ["US", "US"],
        "to_country": ["CN", "CN"],
        "item_chip": ["nvidia-h200-sxm", "nvidia-h200-sxm"],
        "quantity": [10, 10],
        "consignee_name": ["Example Cloud Co., Ltd."] * 2,
        "consignee_country": ["CN", "CN"],
    }
    out = chipgate.decide_batch(pa.table(rows)).to_pylist()
    assert [r["review_policy"] for r in out] == ["presumption_of_denial", "case_by_case"]
