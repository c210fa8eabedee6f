"""Domain types: the values that flow through classify, decide and the ledger.

Every type here is a frozen value. Quantities are integers, money and rates are
`Decimal`, dates are `datetime.date`. `to_dict()` gives the JSON contract form.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

# Bit length of each precision a datasheet quotes; TPP multiplies the dense
# throughput by it (Technical Note to 3A090: 'TPP' = 2 x MacTOPS x bit length).
# These are properties of the number formats, not of the law.
BIT_LENGTH: Mapping[str, int] = {
    "fp64": 64,
    "tf32": 32,
    "fp16": 16,
    "bf16": 16,
    "fp8": 8,
    "int8": 8,
    "fp6": 6,
    "fp4": 4,
    "int4": 4,
}

Eccn = Literal["3A090.a", "3A090.b"]
Outcome = Literal["allowed", "needs_authorization", "blocked"]
ReviewPolicy = Literal["presumption_of_denial", "case_by_case", "presumption_of_approval"]
ShipmentKind = Literal["export", "reexport", "in_country_transfer", "import"]

SHIPMENT_KINDS: tuple[str, ...] = ("export", "reexport", "in_country_transfer", "import")
# End uses the decision rules know by name; each is documented in docs/contracts.md.
END_USES: tuple[str, ...] = (
    "datacenter",
    "research",
    "military",
    "consumer",
    "testing",
    "us_datacenter",
    "us_repair",
    "us_research",
    "startup",
    "civil_industrial",
    "us_public_sector",
    "critical_infrastructure",
    "state_owned_enterprise",
    "state_funded_datacenter",
    "other",
)


@dataclass(frozen=True, slots=True)
class ChipSpec:
    """The datasheet facts export rules read: dense throughput per precision and the rest."""

    dense_tops: Mapping[str, float]
    die_area_mm2: float | None = None
    dram_bandwidth_gbs: float | None = None
    interconnect_gbs: float | None = None
    datacenter: bool = True
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dense_tops": dict(self.dense_tops),
            "die_area_mm2": self.die_area_mm2,
            "dram_bandwidth_gbs": self.dram_bandwidth_gbs,
            "interconnect_gbs": self.interconnect_gbs,
            "datacenter": self.datacenter,
        }


@dataclass(frozen=True, slots=True)
class Chip:
    """A catalogue entry: a stable id, who makes it, its spec and where the figures come from."""

    id: str
    vendor: str
    model: str
    variant: str
    spec: ChipSpec
    sources: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    release_year: int | None = None
    memory_gb: float | None = None
    confidence: str = ""
    reported_classification: str = ""
    notes: str = ""

    @property
    def display_name(self) -> str:
        return f"{self.vendor} {self.model} {self.variant}".strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "vendor": self.vendor,
            "model": self.model,
            "variant": self.variant,
            "release_year": self.release_year,
            "memory_gb": self.memory_gb,
            "spec": self.spec.to_dict(),
            "aliases": list(self.aliases),
            "confidence": self.confidence,
            "reported_classification": self.reported_classification,
            "notes": self.notes,
            "sources": list(self.sources),
        }


@dataclass(frozen=True, slots=True)
class Reason:
    """One step of an answer: the rule that decided it, its citation and date, and why."""

    rule: str
    citation: str
    effective_from: date | None
    text: str
    facts: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "citation": self.citation,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "text": self.text,
            "facts": _jsonable(self.facts),
        }


@dataclass(frozen=True, slots=True)
class Classification:
    """What a chip is under the export rules in force on `as_of`."""

    as_of: date
    tpp: float
    tpp_precision: str | None
    performance_density: float | None
    dram_bandwidth_gbs: float | None
    interconnect_gbs: float | None
    datacenter: bool
    eccn: Eccn | None
    prong: str | None
    reasons: tuple[Reason, ...]
    # Facts that would be needed to settle the class but are unknown.
    undetermined: tuple[str, ...] = ()
    chip_id: str | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "chip": self.chip_id,
            "name": self.name,
            "as_of": self.as_of.isoformat(),
            "tpp": self.tpp,
            "tpp_precision": self.tpp_precision,
            "performance_density": self.performance_density,
            "dram_bandwidth_gbs": self.dram_bandwidth_gbs,
            "interconnect_gbs": self.interconnect_gbs,
            "datacenter": self.datacenter,
            "eccn": self.eccn,
            "prong": self.prong,
            "undetermined": list(self.undetermined),
            "reasons": [r.to_dict() for r in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class Party:
    """A consignee, end user or exporter: who, where, and where it (or its parent) is headquartered."""

    name: str
    country: str
    headquarters_country: str | None = None
    parent_headquarters_country: str | None = None
    identifiers: Mapping[str, str] = field(default_factory=dict)

    @property
    def effective_headquarters(self) -> tuple[str, ...]:
        """Countries whose headquarters rules reach this party: its own HQ and its ultimate parent's."""
        hq = self.headquarters_country or self.country
        if self.parent_headquarters_country and self.parent_headquarters_country != hq:
            return (hq, self.parent_headquarters_country)
        return (hq,)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "country": self.country,
            "headquarters_country": self.headquarters_country,
        }
        if self.parent_headquarters_country:
            out["parent_headquarters_country"] = self.parent_headquarters_country
        if self.identifiers:
            out["identifiers"] = dict(self.identifiers)
        return out


@dataclass(frozen=True, slots=True)
class Item:
    """What is shipped: a catalogue chip by id, or a datasheet spec."""

    chip: str | None = None
    spec: ChipSpec | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.chip is not None:
            return {"chip": self.chip}
        assert self.spec is not None
        return {"spec": self.spec.to_dict()}


@dataclass(frozen=True, slots=True)
class Shipment:
    """One transaction on a date: what moves, from where to where, to whom, for what use."""

    date: date
    kind: ShipmentKind
    from_country: str
    to_country: str
    item: Item
    quantity: int
    consignee: Party
    end_user: Party
    end_use: str = "datacenter"
    unit_value_usd: Decimal | None = None
    exporter: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "kind": self.kind,
            "from_country": self.from_country,
            "to_country": self.to_country,
            "item": self.item.to_dict(),
            "quantity": self.quantity,
            "unit_value_usd": str(self.unit_value_usd) if self.unit_value_usd is not None else None,
            "consignee": self.consignee.to_dict(),
            "end_user": self.end_user.to_dict(),
            "end_use": self.end_use,
            "exporter": self.exporter,
        }


@dataclass(frozen=True, slots=True)
class PartyHit:
    """A shipment party found on a restricted-party list."""

    role: str
    query: str
    list_code: str
    list_name: str
    entry_name: str
    matched_name: str
    record_id: str
    matcher: str
    score: float
    # `match`: the list's consequence applies; `possible`: an analyst must clear it first.
    strength: Literal["match", "possible"] = "match"
    # Hash of the list entry as screened: a clearance given for it lapses when it changes.
    entry_fingerprint: str = ""
    # The list snapshot the party was screened against.
    snapshot: str = ""
    # Whether a match on this entry changes what the shipment needs (a licence, or a block);
    # a hit on a list that is only a warning is not. Only binding possible hits need clearing.
    binding: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "query": self.query,
            "list_code": self.list_code,
            "list_name": self.list_name,
            "entry_name": self.entry_name,
            "matched_name": self.matched_name,
            "record_id": self.record_id,
            "matcher": self.matcher,
            "score": self.score,
            "strength": self.strength,
            "entry_fingerprint": self.entry_fingerprint,
            "snapshot": self.snapshot,
            "binding": self.binding,
        }


@dataclass(frozen=True, slots=True)
class UsExport:
    license_required: bool
    review_policy: ReviewPolicy | None
    conditions: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "license_required": self.license_required,
            "review_policy": self.review_policy,
            "conditions": list(self.conditions),
            "rules": list(self.rules),
        }


@dataclass(frozen=True, slots=True)
class ChinaImport:
    approval_required: bool
    approvals_on_record: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "approval_required": self.approval_required,
            "approvals_on_record": list(self.approvals_on_record),
            "conditions": list(self.conditions),
        }


@dataclass(frozen=True, slots=True)
class Duty:
    tariff: str
    rate: Decimal
    amount_usd: Decimal | None
    heading: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tariff": self.tariff,
            "rate": float(self.rate),
            "amount_usd": float(self.amount_usd) if self.amount_usd is not None else None,
            "heading": self.heading,
        }


@dataclass(frozen=True, slots=True)
class Requirement:
    """Something a shipment needs on file: a US licence, a China import approval, or an
    analyst's clearance of a possible restricted-party match."""

    kind: Literal["us_export_license", "cn_import_approval", "screening_clearance"]
    rule: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rule": self.rule, "text": self.text}


@dataclass(frozen=True, slots=True)
class Decision:
    """What the rules in force on `as_of` require of a shipment, and why."""

    as_of: date
    outcome: Outcome
    eccn: Eccn | None
    classification: Classification
    us_export: UsExport
    china_import: ChinaImport
    duties: tuple[Duty, ...]
    requirements: tuple[Requirement, ...]
    party_hits: tuple[PartyHit, ...]
    reasons: tuple[Reason, ...]
    rulebook_version: str
    shipment: Shipment
    covered_by: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    # The restricted-party list snapshot the parties were screened against (its id).
    lists_snapshot: str = ""

    _input_hash: str | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def input_hash(self) -> str:
        """A stable hash of what was decided (the shipment and the as-of date): with
        `rulebook_version` it identifies the decision for replay. Computed once, on first use."""
        if self._input_hash is None:
            canonical = json.dumps(
                [self.shipment.to_dict(), self.as_of.isoformat()], sort_keys=True, separators=(",", ":")
            )
            object.__setattr__(self, "_input_hash", hashlib.sha256(canonical.encode()).hexdigest()[:16])
        assert self._input_hash is not None
        return self._input_hash

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "outcome": self.outcome,
            "eccn": self.eccn,
            "tpp": self.classification.tpp,
            "performance_density": self.classification.performance_density,
            "us_export": self.us_export.to_dict(),
            "china_import": self.china_import.to_dict(),
            "duties": [d.to_dict() for d in self.duties],
            "requirements": [r.to_dict() for r in self.requirements],
            "restricted_parties": [h.to_dict() for h in self.party_hits],
            "covered_by": list(self.covered_by),
            "missing": list(self.missing),
            "reasons": [r.to_dict() for r in self.reasons],
            "rulebook_version": self.rulebook_version,
            "lists_snapshot": self.lists_snapshot,
            "input_hash": self.input_hash,
        }


def _jsonable(value: Any) -> Any:
    """JSON-ready form of a reason's facts; exact type checks first, as they are most values."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is dict:
        return {str(k): _jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        # Sets have no order that survives a process restart; sort so every worker agrees.
        return sorted((_jsonable(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value
