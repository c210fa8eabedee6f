"""A Taiwan duty-free quota on file waives the Section 232 duty it covers, and only that."""

from __future__ import annotations

import dataclasses
import datetime as dt

from helpers import shipment

from chipgate.ledger import Ledger
from chipgate.model import Shipment

QUOTA = {
    "id": "Q-FAB",
    "kind": "duty_free_quota",
    "company": "Example Fab Arizona",
    "planned_capacity": 1000,
    "plant_status": "construction",
    "plant_status_on": "2026-01-15",
}


def imported(quantity: int, chip: str = "nvidia-h200-sxm", importer: str = "Example Fab Arizona") -> Shipment:
    """An import into the US for third-party testing, which the Section 232 duty does not exempt."""
    base = shipment(quantity, importer, chip=chip, kind="import", from_country="TW", to_country="US")
    return dataclasses.replace(base, end_use="testing", date=dt.date(2026, 3, 2))


def test_quota_waives_the_duty_it_covers(ledger: Ledger) -> None:
    ledger.authorize(QUOTA, actor="test")
    plain = ledger.check(
        dataclasses.replace(
            imported(100), consignee=dataclasses.replace(imported(100).consignee, name="Someone Else Inc")
        )
    )
    assert [float(d.rate) for d in plain.duties] == [0.25], "without a quota of its own the importer pays"
    covered = ledger.check(imported(100))
    assert covered.covered_by == ("Q-FAB",)
    assert [(float(d.rate), float(d.amount_usd or 0)) for d in covered.duties] == [(0.0, 0.0)]
    assert covered.reasons[-1].rule == "tariffs.taiwan_232_quota.multiplier"


def test_an_import_that_owes_no_duty_does_not_draw_on_the_quota(ledger: Ledger) -> None:
    ledger.authorize(QUOTA, actor="test")
    h100 = ledger.check(imported(100, chip="nvidia-h100-sxm"))
    assert "Q-FAB" not in h100.covered_by
    assert [float(d.rate) for d in h100.duties] == [0.0]
