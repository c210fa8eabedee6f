"""The China import part of a decision: is a government approval needed, and is any on record.

China has published no text for these measures; the rule data marks every value as
reported. An approval "on record" is one the reports name for this buyer; whether it is
on file for this shipment is the ledger's question.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from chipgate.decide.context import Facts
from chipgate.model import ChinaImport, Reason
from chipgate.rulebook import DatedValue

PRODUCTS = "cn.import_approval.products"
DESTINATIONS = "cn.import_approval.destinations"
APPROVALS = "cn.import_approval.approvals"
CONDITIONS = "cn.import_approval.conditions"
EXCLUDED_END_USES = "cn.import_approval.excluded_end_uses"
PROHIBITIONS = "cn.import_approval.prohibitions"

_WORD = re.compile(r"[a-z0-9]+")
# The answer of every shipment that needs no approval: a frozen value, so all share it.
_NOT_REQUIRED = ChinaImport(approval_required=False)


@lru_cache(maxsize=65536)
def _words(name: str) -> frozenset[str]:
    return frozenset(_WORD.findall(name.casefold()))


def _reason(rule: str, dated: DatedValue, text: str, **facts: Any) -> Reason:
    return Reason(rule=rule, citation=dated.citation, effective_from=dated.effective_from, text=text, facts=facts)


def enters_china(facts: Facts) -> bool:
    s = facts.shipment
    destinations = facts.rules.value(DESTINATIONS, ())
    return s.to_country in destinations and s.from_country != s.to_country and s.kind != "in_country_transfer"


def china_import(facts: Facts) -> tuple[ChinaImport, list[Reason]]:
    rules = facts.rules
    reasons: list[Reason] = []
    products = rules.get(PRODUCTS)
    if products is None or not enters_china(facts) or facts.chip_id not in products.value:
        return _NOT_REQUIRED, reasons
    s = facts.shipment
    reasons.append(
        _reason(
            PRODUCTS,
            products,
            f"China import approval required: {facts.chip_id} may enter mainland China only "
            "with a government approval (MIIT and MOFCOM; reported).",
            chip=facts.chip_id,
        )
    )
    buyers = [p for _, p in facts.parties]
    on_record: list[str] = []
    approvals = rules.get(APPROVALS)
    for approval in approvals.value if approvals else ():
        if facts.chip_id not in approval["products"]:
            continue
        holders = [h for h in approval["holders"] if any(_words(h) <= _words(b.name) for b in buyers)]
        if not holders:
            continue
        on_record.append(approval["id"])
        assert approvals is not None
        quantity = approval.get("quantity_at_least")
        size = f"at least {quantity:,} units" if quantity else "quantity not published"
        pool = " pooled among " + ", ".join(approval["holders"]) if approval.get("pooled") else ""
        reasons.append(
            _reason(
                APPROVALS,
                approvals,
                f"A {approval['status']} approval {approval['id']} ({size}{pool}) is reported for "
                f"{', '.join(holders)}; it must be on file for this shipment.",
                approval=approval["id"],
            )
        )
    conditions = tuple(rules.value(CONDITIONS, ()))
    excluded = rules.get(EXCLUDED_END_USES)
    if excluded is not None and s.end_use in excluded.value:
        reasons.append(
            _reason(
                EXCLUDED_END_USES,
                excluded,
                f"The reported conditions of approval exclude the end use {s.end_use!r}.",
                end_use=s.end_use,
            )
        )
    return ChinaImport(approval_required=True, approvals_on_record=tuple(on_record), conditions=conditions), reasons


def prohibitions(facts: Facts) -> list[Reason]:
    """Measures that forbid the transaction outright, with no approval path."""
    rules = facts.rules
    dated = rules.get(PROHIBITIONS)
    if dated is None:
        return []
    s = facts.shipment
    found: list[Reason] = []
    for rule in dated.value:
        if s.to_country not in rule["destinations"] or s.end_use not in rule["end_uses"]:
            continue
        domestic = facts.chip is not None and facts.chip.vendor in rule.get("domestic_vendors", ())
        if rule.get("foreign_origin_only") and domestic:
            continue
        found.append(
            _reason(
                f"{PROHIBITIONS}.{rule['id']}",
                dated,
                f"Blocked: {rule['text']}",
                end_use=s.end_use,
            )
        )
    return found
