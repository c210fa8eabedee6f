"""Values no database can store faithfully are refused as bad input, with nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from chipgate.inputs import MAX_UNITS
from chipgate.ledger import Ledger, LedgerError

CAP: dict[str, Any] = {
    "id": "CAP-1",
    "kind": "per_customer_cap",
    "consignees": ["Example Cloud"],
    "products": ["nvidia-h200-sxm"],
    "quantity": 10,
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": MAX_UNITS + 1}, "quantity"),
        ({"quantity": 355898720451541860352}, "quantity"),
        ({"consignees": ["\ud964\udc36"]}, "consignees"),
        ({"id": "CAP-\ud800"}, "id"),
        ({"note": "nul\x00byte"}, "note"),
    ],
)
def test_unstorable_authorisation_is_refused_naming_the_field(
    ledger: Ledger, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(LedgerError) as info:
        ledger.authorize({**CAP, **change}, actor="test")
    assert field in str(info.value)
    assert ledger.balances() == []
    assert ledger.journal() == []


def test_unstorable_licence_value_is_refused(ledger: Ledger) -> None:
    licence = {
        "id": "LIC-1",
        "kind": "us_export_license",
        "licensee": "NVIDIA",
        "consignees": ["X"],
        "products": ["nvidia-h200-sxm"],
        "quantity": 5,
        "value_usd": 1.7976e308,
    }
    with pytest.raises(LedgerError) as info:
        ledger.authorize(licence, actor="test")
    assert "value_usd" in str(info.value)
    assert ledger.journal() == []
