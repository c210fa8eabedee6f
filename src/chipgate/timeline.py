"""How a chip's classification, or a shipment's decision, changed across rule versions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from chipgate.classify import classify
from chipgate.decide import decide
from chipgate.model import Chip, Classification, Decision, Item, Party, Reason, Shipment
from chipgate.rulebook import Rulebook, default_rulebook

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Period:
    """A span of dates over which the answer stayed the same; `until` is exclusive."""

    start: dt.date
    until: dt.date | None
    summary: dict[str, Any]
    reasons: tuple[Reason, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            **self.summary,
            "reasons": [r.to_dict() for r in self.reasons],
        }


def _periods(
    book: Rulebook,
    start: dt.date,
    end: dt.date | None,
    evaluate: Callable[[dt.date], T],
    key: Callable[[T], Hashable],
    summarise: Callable[[T], dict[str, Any]],
    reasons: Callable[[T], tuple[Reason, ...]],
) -> list[Period]:
    dates = [start] + [d for d in book.change_dates if d > start and (end is None or d <= end)]
    periods: list[Period] = []
    last_key: Hashable = object()
    for on in dates:
        result = evaluate(on)
        k = key(result)
        if k == last_key:
            continue
        if periods:
            periods[-1] = Period(periods[-1].start, on, periods[-1].summary, periods[-1].reasons)
        periods.append(Period(on, None, summarise(result), reasons(result)))
        last_key = k
    return periods


def classification_timeline(
    chip: Chip,
    *,
    start: dt.date = dt.date(2022, 1, 1),
    end: dt.date | None = None,
    rulebook: Rulebook | None = None,
) -> list[Period]:
    """One period per change of the chip's 3A090 class."""
    book = rulebook or default_rulebook()

    def key(c: Classification) -> Hashable:
        # The rules consulted and the deciding citation separate "no 3A090 yet" from
        # "not controlled by it", and one rule version from the next.
        return (c.eccn, c.prong, c.undetermined, tuple(r.rule for r in c.reasons), c.reasons[-1].citation)

    def summarise(c: Classification) -> dict[str, Any]:
        return {
            "eccn": c.eccn,
            "prong": c.prong,
            "tpp": c.tpp,
            "performance_density": c.performance_density,
            "undetermined": list(c.undetermined),
        }

    return _periods(
        book,
        start,
        end,
        lambda on: classify(chip, on, rulebook=book),
        key,
        summarise,
        lambda c: tuple(r for r in c.reasons if not r.rule.startswith("us.eccn_3a090.technical_note")),
    )


def template_shipment(chip: Chip, to_country: str, on: dt.date, **overrides: Any) -> Shipment:
    """A plain datacenter export from the US of one unit to a party located and headquartered there."""
    party = Party(name=f"Datacenter operator in {to_country}", country=to_country, headquarters_country=to_country)
    values: dict[str, Any] = {
        "date": on,
        "kind": "export",
        "from_country": "US",
        "to_country": to_country,
        "item": Item(chip=chip.id),
        "quantity": 1,
        "consignee": party,
        "end_user": party,
        "end_use": "datacenter",
    }
    values.update(overrides)
    return Shipment(**values)


def decision_timeline(
    chip: Chip,
    to_country: str,
    *,
    start: dt.date = dt.date(2022, 1, 1),
    end: dt.date | None = None,
    rulebook: Rulebook | None = None,
    **overrides: Any,
) -> list[Period]:
    """One period per change of the decision for a template shipment of the chip to `to_country`."""
    book = rulebook or default_rulebook()

    def evaluate(on: dt.date) -> Decision:
        return decide(template_shipment(chip, to_country, on, **overrides), on, rulebook=book)

    def key(d: Decision) -> Hashable:
        # A change of legal basis (a new rule or citation) is a change even when the answer is not.
        basis = tuple(sorted({(r.rule, r.citation) for r in reasons(d)}))
        return (
            basis,
            d.outcome,
            d.eccn,
            d.us_export.license_required,
            d.us_export.review_policy,
            d.us_export.rules,
            d.china_import.approval_required,
            d.china_import.approvals_on_record,
            tuple((x.tariff, x.rate) for x in d.duties),
        )

    def summarise(d: Decision) -> dict[str, Any]:
        return {
            "outcome": d.outcome,
            "eccn": d.eccn,
            "license_required": d.us_export.license_required,
            "review_policy": d.us_export.review_policy,
            "china_approval_required": d.china_import.approval_required,
            "approvals_on_record": list(d.china_import.approvals_on_record),
            "duty_rate": float(sum((x.rate for x in d.duties), start=0)),
        }

    def reasons(d: Decision) -> tuple[Reason, ...]:
        return tuple(r for r in d.reasons if not r.rule.startswith("us.eccn_3a090.technical_note"))

    return _periods(book, start, end, evaluate, key, summarise, reasons)
