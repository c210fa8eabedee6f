"""Seed a ledger with the 2026 H200 scenario and run its small order book (the demo)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chipgate.errors import InputError, LedgerError
from chipgate.inputs import parse_shipment
from chipgate.ledger.ledger import Ledger
from chipgate.ledger.model import Authorization, Reservation
from chipgate.rulebook import package_path

SCENARIO_FILE = "scenario_h200_2026.yaml"


@dataclass(frozen=True, slots=True)
class OrderResult:
    """What happened to one order of the book: its reservation, or the refusal."""

    key: str
    quantity: int
    consignee: str
    then: str
    reservation: Reservation | None
    error: LedgerError | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "quantity": self.quantity,
            "consignee": self.consignee,
            "then": self.then,
            "status": self.reservation.status if self.reservation else "refused",
            "authorizations": list(self.reservation.authorizations) if self.reservation else [],
            "error": {"code": self.error.code, "message": str(self.error)} if self.error else None,
            "note": self.note,
        }


def load_scenario(path: Path | None = None) -> dict[str, Any]:
    source = path or package_path("data") / SCENARIO_FILE
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError("scenario", f"cannot read {source}: {exc}") from None
    if not isinstance(raw, Mapping) or "authorizations" not in raw:
        raise InputError("scenario", f"{source}: expected a mapping with 'authorizations'")
    return dict(raw)


def _at(on: Any) -> dt.datetime:
    day = on if isinstance(on, dt.date) else dt.date.fromisoformat(str(on))
    return dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=dt.UTC)


def _authorization(ledger: Ledger, raw: Mapping[str, Any], on: dt.date) -> Authorization:
    terms = dict(raw)
    parameter = terms.pop("quantity_from_rule", None)
    if parameter is not None:
        # The limit is a rule value (cited in the rule data), not a figure of this file.
        value = ledger.rulebook.at(on).value(parameter)
        if value is None:
            raise InputError(f"{raw.get('id')}.quantity_from_rule", f"{parameter} is not in force on {on}")
        terms["quantity"] = int(value)
    for key in ("valid_from", "valid_until", "plant_status_on"):
        if isinstance(terms.get(key), dt.date):
            terms[key] = terms[key].isoformat()
    return Authorization.from_dict(terms)


def seed(ledger: Ledger, scenario: Mapping[str, Any], *, actor: str = "demo") -> None:
    """Record the scenario's US shipments and authorisations (idempotent: safe to rerun)."""
    as_of = scenario.get("as_of", dt.date(2026, 3, 10))
    on = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
    for raw in scenario.get("authorizations", []):
        ledger.authorize(_authorization(ledger, raw, on), actor=actor, now=_at(on))
    for shipped in scenario.get("us_shipments", []):
        shipped_on = shipped["shipped_on"]
        ledger.record_us_shipment(
            str(shipped["key"]),
            exporter=str(shipped["exporter"]),
            product=str(shipped["product"]),
            quantity=int(shipped["quantity"]),
            shipped_on=shipped_on if isinstance(shipped_on, dt.date) else dt.date.fromisoformat(shipped_on),
            actor=actor,
            now=_at(on),
        )


def run_orders(ledger: Ledger, scenario: Mapping[str, Any], *, actor: str = "demo") -> list[OrderResult]:
    """Reserve each order under its key, then post it, void it or leave it pending."""
    results = []
    for order in scenario.get("orders", []):
        raw = dict(order["shipment"])
        if isinstance(raw.get("date"), dt.date):
            raw["date"] = raw["date"].isoformat()
        shipment = parse_shipment(raw)
        now = _at(shipment.date)
        then = str(order.get("then", "hold"))
        reservation: Reservation | None = None
        error: LedgerError | None = None
        try:
            reservation = ledger.reserve(str(order["key"]), shipment, actor=actor, now=now)
            if then == "post":
                reservation = ledger.post(reservation.key, actor=actor, now=now)
            elif then == "void":
                reservation = ledger.void(reservation.key, actor=actor, now=now)
        except LedgerError as exc:
            error = exc
        results.append(
            OrderResult(
                key=str(order["key"]),
                quantity=shipment.quantity,
                consignee=shipment.consignee.name,
                then=then,
                reservation=reservation,
                error=error,
                note=str(order.get("note", "")),
            )
        )
    return results
