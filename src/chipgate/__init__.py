"""chipgate: export-control gates and quotas for advanced AI chips, as code.

import chipgate
chipgate.classify("nvidia-h200-sxm", on=date(2026, 3, 2))      # -> Classification
chipgate.decide(shipment, on=date(2026, 3, 2))                  # -> Decision
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chipgate.catalogue import Catalogue
from chipgate.classify import classify as _classify
from chipgate.decide import decide as _decide
from chipgate.errors import ChipgateError, InputError, LedgerError, RuleDataError, UnknownChipError
from chipgate.inputs import parse_shipment, parse_spec
from chipgate.model import (
    Chip,
    ChipSpec,
    Classification,
    Decision,
    Party,
    Reason,
    Shipment,
)
from chipgate.rulebook import Rulebook, RuleSet, default_rulebook

if TYPE_CHECKING:
    from chipgate.batch import decide_batch
    from chipgate.ledger import Ledger
    from chipgate.screening import screen

__all__ = [
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
]


def classify(
    chip: Chip | ChipSpec | str | Mapping[str, Any],
    on: dt.date | None = None,
    *,
    rulebook: Rulebook | None = None,
) -> Classification:
    """Classify a catalogue chip (id, common name or entry) or a spec (ChipSpec or its JSON mapping).

    `on` defaults to today: this public entry point is a shell, the only place the clock is read.
    """
    if isinstance(chip, Mapping):
        chip = parse_spec(chip)
    return _classify(chip, on or dt.date.today(), rulebook=rulebook)


def decide(
    shipment: Shipment | Mapping[str, Any], on: dt.date | None = None, *, rulebook: Rulebook | None = None
) -> Decision:
    """Decide a shipment (a Shipment or its JSON mapping) under the rules in force on `on`."""
    if isinstance(shipment, Mapping):
        shipment = parse_shipment(shipment)
    return _decide(shipment, on, rulebook=rulebook)


def __getattr__(name: str) -> Any:
    # The ledger (database drivers) and the batch engine (Arrow, Polars) load on first use,
    # so that classifying or deciding one shipment does not pay for them.
    if name == "Ledger":
        from chipgate.ledger import Ledger

        return Ledger
    if name == "decide_batch":
        from chipgate.batch import decide_batch

        return decide_batch
    if name == "screen":
        from chipgate.screening import screen

        return screen
    raise AttributeError(f"module 'chipgate' has no attribute {name!r}")
