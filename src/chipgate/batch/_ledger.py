"""Check decided rows against the authorisations on file (read-only; reserving is the ledger's job)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chipgate.batch._arrow import flags, from_numpy, scalar, strings
from chipgate.batch._columns import KEY_COLUMNS, LIST_SEPARATOR
from chipgate.batch._engine import contract
from chipgate.errors import InputError
from chipgate.inputs import parse_shipment
from chipgate.rulebook import Rulebook

_NEEDS_AUTHORIZATION = scalar("needs_authorization", pa.string())


class LedgerCheck:
    """Fills `covered_by` and `missing` for rows that need an authorisation.

    Coverage depends on the row's own quantity, value and date and on balances, so each
    such row is checked on its own (rows do not draw on each other: nothing is reserved).
    A row whose requirements are all covered becomes `allowed`, as in `chipgate ledger check`.
    """

    def __init__(self, target: str, rulebook: Rulebook) -> None:
        from chipgate.ledger import Ledger

        if "://" not in target and not Path(target).expanduser().exists():
            raise InputError("--ledger", f"{target!r} does not exist; give the ledger file or a postgresql:// URL")
        self._ledger = Ledger(target, rulebook=rulebook)
        self.location = self._ledger.location

    def close(self) -> None:
        self._ledger.close()

    def __enter__(self) -> LedgerCheck:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def apply(self, table: pa.Table) -> pa.Table:
        n = table.num_rows
        outcome = table.column("outcome")
        needs = flags(pc.equal(outcome, _NEEDS_AUTHORIZATION))
        covered: list[str | None] = [None] * n
        missing: list[str | None] = [None] * n
        outcomes = pc.cast(outcome, pa.string()).to_pylist()
        rows = np.nonzero(needs)[0]
        if len(rows):
            wanted = [
                c
                for c in (*KEY_COLUMNS, "date", "as_of", "quantity", "unit_value_usd", "exporter")
                if c in table.schema.names
            ]
            sample = table.select(wanted).take(from_numpy(rows)).to_pylist()
            for row, values in zip(rows, sample, strict=True):
                decision = self._ledger.check(_shipment(values), values["as_of"])
                covered[row] = LIST_SEPARATOR.join(decision.covered_by) or None
                missing[row] = LIST_SEPARATOR.join(decision.missing) or None
                outcomes[row] = decision.outcome
        position = table.schema.get_field_index("outcome")
        table = table.set_column(position, "outcome", strings(outcomes))
        return table.append_column("covered_by", strings(covered)).append_column("missing", strings(missing))


def _shipment(values: dict[str, Any]) -> Any:
    day: dt.date = values["date"]
    body = contract(values, day, values.get("unit_value_usd") is not None)
    body["quantity"] = values["quantity"]
    if values.get("unit_value_usd") is not None:
        body["unit_value_usd"] = Decimal(values["unit_value_usd"])
    if values.get("exporter") is not None:
        body["exporter"] = values["exporter"]
    return parse_shipment(body)
