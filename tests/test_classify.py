"""ECCN 3A090 classification: the rule's own examples, every boundary, the catalogue, properties.

Thresholds and dates are read from the rule data, never copied here.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chipgate import classify
from chipgate.classify import PRONGS, total_processing_performance
from chipgate.model import BIT_LENGTH, ChipSpec
from chipgate.rulebook import Rulebook
from tests.conftest import first_date

FIXTURES = Path(__file__).parent / "fixtures"
RANK = {None: 0, "3A090.b": 1, "3A090.a": 2}


def rule_2023(rulebook: Rulebook) -> dt.date:
    return rulebook.history(PRONGS)[1].effective_from


def spec(tpp: float | Decimal, area: float | None = None, *, datacenter: bool = True, **extra: Any) -> ChipSpec:
    """A spec whose TPP is exactly `tpp`, quoted as 8-bit throughput."""
    return ChipSpec(
        dense_tops={"int8": float(Decimal(str(tpp)) / 8)}, die_area_mm2=area, datacenter=datacenter, **extra
    )


def test_bis_worked_examples_give_tpp_4800() -> None:
    assert total_processing_performance(ChipSpec(dense_tops={"int8": 600}))[0] == 4800
    assert total_processing_performance(ChipSpec(dense_tops={"fp16": 300}))[0] == 4800


def test_tpp_is_the_maximum_over_precisions() -> None:
    tpp, precisions = total_processing_performance(ChipSpec(dense_tops={"fp16": 100, "fp8": 300, "fp4": 500}))
    assert tpp == 2400 and precisions == ("fp8",)


def test_h200_as_the_issue_states(rulebook: Rulebook) -> None:
    result = classify("nvidia-h200-sxm", dt.date(2026, 3, 2))
    assert result.tpp == 15832
    assert round(result.performance_density or 0, 2) == 19.45
    assert result.eccn == "3A090.a"
    decisive = result.reasons[-1]
    assert decisive.citation.startswith("88 FR 73458")
    assert decisive.effective_from == rule_2023(rulebook)


def test_a800_before_and_after_the_2023_rule(rulebook: Rulebook) -> None:
    start_2022 = first_date(rulebook, PRONGS)
    start_2023 = rule_2023(rulebook)
    assert classify("nvidia-a800-sxm", start_2022).eccn is None, "400 GB/s escaped the 2022 interconnect test"
    assert classify("nvidia-a800-sxm", start_2023 - dt.timedelta(days=1)).eccn is None
    assert classify("nvidia-a800-sxm", start_2023).eccn == "3A090.a"
    assert classify("nvidia-a100-sxm", start_2022).eccn == "3A090.a", "600 GB/s met the 2022 test"


def test_no_3a090_before_it_existed(rulebook: Rulebook) -> None:
    before = first_date(rulebook, PRONGS) - dt.timedelta(days=1)
    result = classify("nvidia-h200-sxm", before)
    assert result.eccn is None
    assert "No ECCN 3A090" in result.reasons[-1].text


@pytest.mark.parametrize(
    ("chip", "eccn", "prong"),
    [
        ("nvidia-h20", None, None),
        ("nvidia-l20", None, None),
        ("nvidia-l40", "3A090.b", "3A090.b.1"),
        ("nvidia-l4", "3A090.a", "3A090.a.2"),
        ("nvidia-rtx-4090", "3A090.a", "3A090.a.1"),
        ("nvidia-rtx-4090d", None, None),
        ("nvidia-rtx-5090d", None, None),
        ("amd-mi325x", "3A090.a", "3A090.a.1"),
    ],
)
def test_reference_chips_under_the_2023_rule(
    rulebook: Rulebook, chip: str, eccn: str | None, prong: str | None
) -> None:
    result = classify(chip, rule_2023(rulebook))
    assert (result.eccn, result.prong) == (eccn, prong)


def test_note_2_takes_non_datacenter_chips_below_the_threshold_out(rulebook: Rulebook) -> None:
    result = classify("nvidia-rtx-4090d", rule_2023(rulebook))
    assert result.reasons[-1].rule == "us.eccn_3a090.datacenter_note"


def load_expected() -> list[tuple[str, str]]:
    with (FIXTURES / "catalogue_expected_2023.csv").open() as fh:
        return [(row["id"], row["expected_class_2023"]) for row in csv.DictReader(fh)]


@pytest.mark.parametrize(("chip_id", "expected"), load_expected())
def test_catalogue_chip_class_matches_the_research_table(rulebook: Rulebook, chip_id: str, expected: str) -> None:
    """The research table computed each class independently; chipgate must agree."""
    result = classify(chip_id, rule_2023(rulebook))
    if expected == "indeterminate":
        assert result.eccn is None and result.undetermined
    else:
        assert (result.eccn or "none") == expected


def prong_boundary_cases(rulebook: Rulebook) -> list[tuple[str, float, float | None, str | None]]:
    """For every criterion of every prong: a spec exactly on the bound and one just past it."""
    cases = []
    prongs = rulebook.history(PRONGS)[1].value
    for prong in prongs:
        tpp = Decimal(str(prong.get("tpp_min", 0)))
        pd_lo = Decimal(str(prong.get("pd_min", 0)))
        pd_hi = Decimal(str(prong.get("pd_below", 1000)))
        tpp_hi = Decimal(str(prong.get("tpp_below", 10**6)))
        # Inside the prong at its lower corners: TPP on tpp_min, PD on pd_min.
        area_on_pd = float(tpp / pd_lo) if pd_lo else 100.0
        cases.append((f"{prong['id']} at both minima", float(tpp), area_on_pd, prong["eccn"]))
        eps = Decimal("0.001")
        # Just below tpp_min the prong fails.
        below = tpp - eps
        cases.append(
            (f"{prong['id']} TPP just below min", float(below), float(below / pd_lo) if pd_lo else 100.0, "fail")
        )
        if "pd_min" in prong:
            cases.append((f"{prong['id']} PD just below min", float(tpp), float(tpp / (pd_lo - eps)), "fail"))
        if "pd_below" in prong:
            cases.append((f"{prong['id']} PD on pd_below", float(tpp), float(tpp / pd_hi), "fail"))
            cases.append(
                (f"{prong['id']} PD just under pd_below", float(tpp), float(tpp / (pd_hi - eps)), prong["eccn"])
            )
        if "tpp_below" in prong:
            cases.append((f"{prong['id']} TPP on tpp_below", float(tpp_hi), float(tpp_hi / pd_lo), "fail"))
    return cases


def test_every_boundary_of_every_prong(rulebook: Rulebook) -> None:
    on = rule_2023(rulebook)
    for label, tpp, area, expected in prong_boundary_cases(rulebook):
        result = classify(spec(tpp, area), on)
        prong_id = label.split()[0]
        if expected == "fail":
            assert result.prong != prong_id, label
        else:
            assert result.prong == prong_id or RANK[result.eccn] > RANK[expected], label


def test_2022_rule_needs_both_tpp_and_interconnect(rulebook: Rulebook) -> None:
    on = first_date(rulebook, PRONGS)
    (prong,) = rulebook.history(PRONGS)[0].value
    tpp, link = prong["tpp_min"], prong["interconnect_min_gbs"]
    assert classify(spec(tpp, 800, interconnect_gbs=link), on).eccn == "3A090.a"
    assert classify(spec(tpp - 0.01, 800, interconnect_gbs=link), on).eccn is None
    assert classify(spec(tpp, 800, interconnect_gbs=link - 0.01), on).eccn is None
    unknown = classify(spec(tpp, 800), on)
    assert unknown.eccn is None and unknown.undetermined == ("interconnect_gbs",)


def test_note_2_boundary(rulebook: Rulebook) -> None:
    on = rule_2023(rulebook)
    threshold = rulebook.history("us.eccn_3a090.datacenter_note")[0].value["tpp_below"]
    assert classify(spec(threshold, 600, datacenter=False), on).eccn == "3A090.a"
    assert classify(spec(threshold - 0.01, 600, datacenter=False), on).eccn is None
    assert classify(spec(threshold - 0.01, 600, datacenter=True), on).eccn is not None


def test_unknown_die_area_leaves_only_tpp_prongs(rulebook: Rulebook) -> None:
    on = rule_2023(rulebook)
    a1 = rulebook.history(PRONGS)[1].value[0]["tpp_min"]
    assert classify(spec(a1, None), on).eccn == "3A090.a"
    middling = classify(spec(a1 - 1, None), on)
    assert middling.eccn is None and "performance_density" in middling.undetermined
    assert "die area" in " ".join(r.text for r in middling.reasons)


throughputs = st.dictionaries(
    st.sampled_from(list(BIT_LENGTH)), st.floats(min_value=1, max_value=5000, allow_nan=False), min_size=1
)


@settings(max_examples=300, deadline=None)
@given(
    tops=throughputs,
    area=st.floats(min_value=50, max_value=3000),
    datacenter=st.booleans(),
    link=st.floats(min_value=0, max_value=2000),
    factor=st.floats(min_value=1, max_value=20),
    on=st.dates(min_value=dt.date(2022, 1, 1), max_value=dt.date(2027, 1, 1)),
)
def test_raising_throughput_never_lowers_the_class(
    tops: dict[str, float], area: float, datacenter: bool, link: float, factor: float, on: dt.date
) -> None:
    base = ChipSpec(dense_tops=tops, die_area_mm2=area, datacenter=datacenter, interconnect_gbs=link)
    faster = ChipSpec(
        dense_tops={p: v * factor for p, v in tops.items()},
        die_area_mm2=area,
        datacenter=datacenter,
        interconnect_gbs=link,
    )
    assert RANK[classify(faster, on).eccn] >= RANK[classify(base, on).eccn]


@settings(max_examples=300, deadline=None)
@given(
    tops=throughputs,
    area=st.floats(min_value=50, max_value=3000),
    shrink=st.floats(min_value=0.05, max_value=1),
    datacenter=st.booleans(),
    on=st.dates(min_value=dt.date(2022, 1, 1), max_value=dt.date(2027, 1, 1)),
)
def test_shrinking_the_die_never_lowers_the_class(
    tops: dict[str, float], area: float, shrink: float, datacenter: bool, on: dt.date
) -> None:
    big = ChipSpec(dense_tops=tops, die_area_mm2=area, datacenter=datacenter, interconnect_gbs=900)
    small = ChipSpec(dense_tops=tops, die_area_mm2=area * shrink, datacenter=datacenter, interconnect_gbs=900)
    assert RANK[classify(small, on).eccn] >= RANK[classify(big, on).eccn]
