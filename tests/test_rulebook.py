"""The rule data loads, and malformed rule data is refused naming the file and the key."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from chipgate.errors import RuleDataError
from chipgate.rulebook import Rulebook
from chipgate.rulebook.loader import load_rule_dir

GOOD_VALUE = "{from: 2023-11-17, value: 4800, citation: 88 FR 73458}"


def write_rules(tmp_path: Path, body: str) -> Path:
    root = tmp_path / "rules"
    (root / "us").mkdir(parents=True)
    (root / "us" / "demo.yaml").write_text(textwrap.dedent(body), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [
        (
            f"parameters:\n  tpp_min:\n    values:\n      - {GOOD_VALUE}\n    colour: red\n",
            "tpp_min.colour",
            "unknown key",
        ),
        (
            "parameters:\n  tpp_min:\n    values:\n      - {from: 2023-11-17, value: 4800, citation: x, cite: y}\n",
            "tpp_min.values[0].cite",
            "unknown key",
        ),
        ("title: t\nextra: 1\nparameters: {}\n", "extra", "unknown key"),
        (
            "parameters:\n  tpp_min:\n    values:\n      - {from: 2023-11-17, value: 4800}\n",
            "tpp_min.values[0].citation",
            "missing 'citation'",
        ),
        (
            "parameters:\n  tpp_min:\n    values:\n      - {from: 2023-11-17, value: 4800, citation: '  '}\n",
            "tpp_min.values[0].citation",
            "citation",
        ),
        (
            "parameters:\n  tpp_min:\n    values:\n      - {from: 2023-13-45, value: 4800, citation: x}\n",
            "tpp_min.values[0].from",
            "malformed date",
        ),
        (
            "parameters:\n  tpp_min:\n    values:\n"
            f"      - {GOOD_VALUE}\n      - {{from: 2022-10-07, value: 4800, citation: 87 FR 62186}}\n",
            "tpp_min.values[1].from",
            "increasing date order",
        ),
        (
            "parameters:\n  tpp_min:\n    values:\n"
            "      - {from: 2022-10-07, until: 2024-01-01, value: 1, citation: a}\n"
            f"      - {GOOD_VALUE}\n",
            "tpp_min.values[0].until",
            "overlaps",
        ),
        (
            "parameters:\n  tpp_min:\n    values:\n"
            "      - {from: 2023-11-17, until: 2023-01-01, value: 1, citation: a}\n",
            "tpp_min.values[0].until",
            "not after",
        ),
        (
            "parameters:\n  tpp_min:\n    values:\n      - {from: 2023-11-17, value: 1, citation: a, status: rumour}\n",
            "tpp_min.values[0].status",
            "allowed",
        ),
    ],
)
def test_malformed_rule_data_is_refused_naming_file_and_key(tmp_path: Path, body: str, key: str, message: str) -> None:
    root = write_rules(tmp_path, body)
    with pytest.raises(RuleDataError) as info:
        load_rule_dir(root)
    assert str(root / "us" / "demo.yaml") in str(info.value)
    assert info.value.key.endswith(key), info.value.key
    assert message in str(info.value)


def test_values_apply_from_their_date_until_the_next(tmp_path: Path) -> None:
    root = write_rules(
        tmp_path,
        """
        parameters:
          interconnect_min:
            values:
              - {from: 2022-10-07, value: 600, citation: 87 FR 62186}
              - {from: 2023-11-17, value: null, citation: 88 FR 73458}
          lane:
            values:
              - {from: 2026-01-15, until: 2027-01-01, value: on, citation: 91 FR 1684}
        """,
    )
    book = Rulebook(load_rule_dir(root))
    assert book.at(dt.date(2022, 10, 6)).get("us.demo.interconnect_min") is None
    in_force = book.at(dt.date(2022, 10, 7)).get("us.demo.interconnect_min")
    assert in_force is not None and in_force.value == 600 and in_force.citation == "87 FR 62186"
    assert book.at(dt.date(2023, 11, 17)).get("us.demo.interconnect_min") is None, "null ends a value"
    assert book.at(dt.date(2026, 12, 31)).value("us.demo.lane") is True
    assert book.at(dt.date(2027, 1, 1)).get("us.demo.lane") is None, "until is exclusive"
    assert book.at(dt.date(2024, 5, 5)) is book.at(dt.date(2025, 5, 5)), "one snapshot per epoch"


def test_every_bundled_value_is_cited_and_dated(rulebook: Rulebook) -> None:
    assert rulebook.parameters, "the package ships rule data"
    for parameter in rulebook.parameters.values():
        for value in parameter.values:
            assert value.citation.strip(), f"{parameter.id} value of {value.effective_from} has no citation"
            assert isinstance(value.effective_from, dt.date)


def test_rulebook_version_changes_with_the_data(tmp_path: Path) -> None:
    root = write_rules(tmp_path, f"parameters:\n  tpp_min:\n    values:\n      - {GOOD_VALUE}\n")
    before = Rulebook.from_directory(root).version
    (root / "us" / "demo.yaml").write_text(
        "parameters:\n  tpp_min:\n    values:\n      - {from: 2023-11-17, value: 4801, citation: 88 FR 73458}\n"
    )
    assert Rulebook.from_directory(root).version != before
