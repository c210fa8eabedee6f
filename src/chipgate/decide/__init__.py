"""Decide a shipment: what the rules in force on a date require, and why.

    decide(shipment, on) -> Decision

Pure: `Shipment x RuleSet -> Decision`. The same shipment, date and rulebook always give
the same decision, which carries a hash of its inputs and the rulebook version so it
can be replayed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from chipgate.classify import classify
from chipgate.decide.china_import import china_import, prohibitions
from chipgate.decide.context import Facts
from chipgate.decide.duties import duties
from chipgate.decide.screening import (
    blocking_reasons,
    clearance_requirement,
    screen_parties,
    screening_reasons,
    with_binding,
)
from chipgate.decide.us_export import us_export
from chipgate.model import Chip, Decision, Outcome, Requirement, Shipment
from chipgate.rulebook import Rulebook, default_rulebook

__all__ = ["decide"]


def decide(shipment: Shipment, on: dt.date | None = None, *, rulebook: Rulebook | None = None) -> Decision:
    """The decision for `shipment` under the rules in force on `on` (default: its own date)."""
    book = rulebook or default_rulebook()
    as_of = on or shipment.date
    rules = book.at(as_of)
    chip: Chip | None = None
    if shipment.item.chip is not None:
        chip = book.catalogue.resolve(shipment.item.chip, field="item.chip")
        classification = classify(chip, as_of, rulebook=book)
    else:
        assert shipment.item.spec is not None
        classification = classify(shipment.item.spec, as_of, rulebook=book)

    hits = screen_parties(shipment, book, rules)
    facts = Facts(
        shipment=shipment,
        on=as_of,
        rules=rules,
        chip=chip,
        classification=classification,
        party_hits=hits,
    )
    if hits:
        # Whether a hit binds reads the facts just gathered; most shipments have no hits,
        # and they skip the second copy of the facts.
        facts = replace(facts, party_hits=with_binding(facts))
    reasons = list(classification.reasons)
    export, export_reasons = us_export(facts)
    reasons += export_reasons
    reasons += screening_reasons(facts)
    china, china_reasons = china_import(facts)
    reasons += china_reasons
    owed, duty_reasons = duties(facts)
    reasons += duty_reasons
    blocked = prohibitions(facts) + blocking_reasons(facts)
    reasons += blocked

    requirements: list[Requirement] = []
    if export.license_required:
        requirements.append(
            Requirement(
                "us_export_license",
                ",".join(export.rules),
                f"US export licence ({(export.review_policy or 'policy not stated').replace('_', ' ')})",
            )
        )
    if china.approval_required:
        requirements.append(Requirement("cn_import_approval", "cn.import_approval.products", "China import approval"))
    clearance = clearance_requirement(facts)
    if clearance is not None:
        requirements.append(clearance)

    outcome: Outcome
    if blocked:
        outcome = "blocked"
    elif requirements:
        outcome = "needs_authorization"
    else:
        outcome = "allowed"
    return Decision(
        as_of=as_of,
        outcome=outcome,
        eccn=classification.eccn,
        classification=classification,
        us_export=export,
        china_import=china,
        duties=tuple(owed),
        requirements=tuple(requirements),
        party_hits=facts.party_hits,
        reasons=tuple(reasons),
        rulebook_version=book.version,
        shipment=shipment,
        lists_snapshot=book.restricted_parties.snapshot_id,
    )
