"""Analyst clearances of possible restricted-party matches: pure, no I/O and no clock.

Screening grades each list hit. A `match` carries the list's legal consequence; a
`possible` hit (a fuzzy near-match) holds the shipment at `needs_authorization` with a
`screening_clearance` requirement until an analyst has looked at it and found that the
party is not the listed entry. BIS expects exactly that of an exporter: a red flag is
resolved, and the resolution kept, before the transaction goes ahead (15 CFR Part 732,
Supplement No. 3, "Know Your Customer" Guidance and Red Flags).

A clearance applies to a possible hit when it is live (not withdrawn) and names

- the same party, compared as the ledger compares every party name (`same_party`),
- the same list entry (`record_id`),
- the entry as it read when it was cleared (`entry_fingerprint`).

A live clearance of the same party and entry whose fingerprint differs has *lapsed*: the
entry changed since (new aliases, countries or identifiers may now point at the party),
so it is not applied, and the decision says so. A `match` is never cleared.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from chipgate.inputs import is_text
from chipgate.ledger.coverage import same_party

# The clearance errors live in chipgate.ledger.errors; importing them from here still works.
from chipgate.ledger.errors import ClearanceExists as ClearanceExists
from chipgate.ledger.errors import ClearanceWithdrawn as ClearanceWithdrawn
from chipgate.ledger.errors import LedgerInputError
from chipgate.ledger.errors import UnknownClearance as UnknownClearance
from chipgate.ledger.model import Clearance
from chipgate.model import Decision, PartyHit, Reason
from chipgate.parties import ListEntry, RestrictedPartyList

REQUIREMENT = "screening_clearance"
CITATION = "15 CFR Part 732, Supplement No. 3 (BIS 'Know Your Customer' Guidance and Red Flags)"
# The rule id of the reasons this module adds to a decision.
RULE = "screening.clearance"
ID_PREFIX = "CLR-"
MAX_PARTY = 1000
MAX_REASON = 4000

Standing = Literal["live", "lapsed", "withdrawn"]


# ---- input -------------------------------------------------------------------------------


def required_text(value: object, field: str, limit: int = MAX_PARTY) -> str:
    """Non-empty text, stripped; the error names the field."""
    if not isinstance(value, str) or not value.strip():
        raise LedgerInputError(field, "is required: give non-empty text")
    if not is_text(value):
        raise LedgerInputError(field, "contains characters that are not valid text (unpaired surrogates or NUL)")
    text = value.strip()
    if len(text) > limit:
        raise LedgerInputError(field, f"is {len(text):,} characters; at most {limit:,}")
    return text


def clearance_id(raw: object, field: str = "id") -> str:
    """A clearance id as written by a user: `CLR-7`, `clr-7` or `7`."""
    text = required_text(raw, field)
    found = re.fullmatch(r"(?i:clr-)?0*(\d{1,18})", text)
    if found is None:
        raise LedgerInputError(field, f"{text!r} is not a clearance id; they read CLR-1, CLR-2, ...")
    return f"{ID_PREFIX}{int(found.group(1))}"


@dataclass(frozen=True, slots=True)
class ClearedEntry:
    """What a new clearance records of the list entry it clears."""

    entry_fingerprint: str
    list_code: str
    # The snapshot that holds the version cleared: the list in use's, or "" for another version.
    snapshot: str
    # The entry as the list in use reads, when that list holds it.
    in_use: ListEntry | None


def cleared_entry(
    in_use: RestrictedPartyList,
    record_id: str,
    fingerprint: str | None,
    list_code: str | None,
    *,
    elsewhere: str,
) -> ClearedEntry:
    """The version, list code and snapshot that a clearance of entry `record_id` records.

    Without `fingerprint`, the version is the one in the list in use, which must hold the
    entry; an entry it does not hold needs `fingerprint` and `list_code` (`elsewhere` says
    how to give them). Errors name the ledger's fields, `record_id` and `list_code`.
    """
    listed = next((e for e in in_use.entries if e.record_id == record_id), None)
    if listed is None and fingerprint is None:
        raise LedgerInputError(
            "record_id",
            f"{record_id!r} is not an entry of the list snapshot in use ({in_use.snapshot_id}); {elsewhere}",
        )
    if listed is None and not list_code:
        raise LedgerInputError("list_code", f"{record_id!r} is not in the list in use: name its list code")
    return ClearedEntry(
        entry_fingerprint=fingerprint or (listed.fingerprint if listed else ""),
        list_code=listed.list_code if listed else (list_code or ""),
        # The snapshot is named only when the version cleared is the one it holds.
        snapshot=in_use.snapshot_id if listed is not None and fingerprint in (None, listed.fingerprint) else "",
        in_use=listed,
    )


# ---- which hits a clearance covers -------------------------------------------------------


def possible_hits(decision: Decision) -> tuple[PartyHit, ...]:
    """The possible hits an analyst must clear: those that would bind if they were matches."""
    return tuple(hit for hit in decision.party_hits if hit.strength == "possible" and hit.binding)


def needs_clearance(decision: Decision) -> bool:
    """Whether anything in the decision could be cleared: its possible hits, or a
    clearance requirement (which is then unsatisfiable without one)."""
    return bool(possible_hits(decision)) or any(r.kind == REQUIREMENT for r in decision.requirements)


def record_ids(decision: Decision) -> tuple[str, ...]:
    """The list entries whose clearances matter to this decision."""
    return tuple(sorted({hit.record_id for hit in possible_hits(decision)}))


def _order(clearance: Clearance) -> tuple[Any, ...]:
    return (clearance.created_at, len(clearance.id), clearance.id)


def _same_entry(clearance: Clearance, hit: PartyHit) -> bool:
    return clearance.live and clearance.record_id == hit.record_id and same_party(clearance.party, hit.query)


@dataclass(frozen=True, slots=True)
class HitStanding:
    """One possible hit, the clearance that clears it (if any), and live clearances of the
    same party and entry that lapsed because the entry changed since."""

    hit: PartyHit
    clearance: Clearance | None
    lapsed: tuple[Clearance, ...]

    @property
    def cleared(self) -> bool:
        return self.clearance is not None


def standings(decision: Decision, clearances: Iterable[Clearance]) -> tuple[HitStanding, ...]:
    """Per possible hit of the decision, in the decision's order."""
    ordered = sorted(clearances, key=_order)
    out = []
    for hit in possible_hits(decision):
        same = [c for c in ordered if _same_entry(c, hit)]
        # An empty fingerprint names no version of the entry: nothing can be cleared for it.
        version = hit.entry_fingerprint
        applying = next((c for c in same if version and c.entry_fingerprint == version), None)
        lapsed = tuple(c for c in same if c.entry_fingerprint != hit.entry_fingerprint)
        out.append(HitStanding(hit, applying, lapsed if applying is None else ()))
    return tuple(out)


def applied(decision: Decision, clearances: Iterable[Clearance]) -> tuple[str, ...]:
    """The ids of the clearances that clear the decision's possible hits."""
    ids = (s.clearance.id for s in standings(decision, clearances) if s.clearance is not None)
    return tuple(dict.fromkeys(ids))


def _describe(hit: PartyHit) -> str:
    return (
        f"the {hit.role.replace('_', ' ')} {hit.query!r} possibly matches {hit.list_code}"
        f" entry {hit.record_id} ({hit.entry_name!r})"
    )


def _missing_text(found: HitStanding) -> str:
    text = f"{REQUIREMENT}: {_describe(found.hit)}; not cleared"
    if found.lapsed:
        ids = ", ".join(c.id for c in found.lapsed)
        text += f" (clearance {ids} lapsed: the list entry changed since it was cleared)"
    return text


def missing(decision: Decision, clearances: Iterable[Clearance]) -> tuple[str, ...]:
    """What the clearances on file leave open: each uncleared possible hit, named by party,
    list and record id. Empty when the decision requires no clearance."""
    if not any(r.kind == REQUIREMENT for r in decision.requirements):
        return ()
    found = standings(decision, clearances)
    if not found:
        # Fail closed: a clearance requirement with no hit to clear cannot be satisfied here.
        return (f"{REQUIREMENT}: required, but the decision names no possible match to clear",)
    return tuple(_missing_text(s) for s in found if not s.cleared)


def _reason(text: str, facts: dict[str, Any]) -> Reason:
    return Reason(rule=RULE, citation=CITATION, effective_from=None, text=text, facts=facts)


def _reasons(found: Sequence[HitStanding]) -> list[Reason]:
    reasons = []
    for s in found:
        hit = s.hit
        facts: dict[str, Any] = {
            "role": hit.role,
            "party": hit.query,
            "list_code": hit.list_code,
            "record_id": hit.record_id,
            "entry_fingerprint": hit.entry_fingerprint,
        }
        if s.clearance is not None:
            c = s.clearance
            reasons.append(
                _reason(
                    f"Possible match cleared by {c.id} ({c.actor}, {c.created_at.date().isoformat()}):"
                    f" the {hit.role.replace('_', ' ')} {hit.query!r} is not {hit.list_code} entry"
                    f" {hit.record_id} ({hit.entry_name!r}): {c.reason}",
                    {**facts, "clearance": c.id, "cleared_by": c.actor, "cleared_at": c.created_at.isoformat()},
                )
            )
        for c in s.lapsed:
            reasons.append(
                _reason(
                    f"Clearance {c.id} lapsed: {_describe(hit)}, and the entry has changed since"
                    f" {c.actor} cleared it on {c.created_at.date().isoformat()}; clear it again",
                    {**facts, "clearance": c.id, "cleared_fingerprint": c.entry_fingerprint},
                )
            )
    return reasons


def apply_clearances(decision: Decision, clearances: Iterable[Clearance]) -> Decision:
    """The decision with the clearances on file applied.

    `decision.missing` is taken as what the authorisations on file lack (the ledger's
    coverage, which also fills `covered_by`); the uncleared possible hits are added to it,
    a reason is added per cleared or lapsed hit, and a `needs_authorization` outcome becomes
    `allowed` when nothing is missing. A decision that requires more than clearances but
    names nothing covering it has not been checked against the authorisations: it keeps
    its outcome. A `match` hit is left as it is: its consequence is in the decision already.
    """
    given = tuple(clearances)
    found = standings(decision, given)
    still = missing(decision, given)
    lacking = decision.missing + still
    unchecked = not decision.covered_by and any(r.kind != REQUIREMENT for r in decision.requirements)
    outcome = decision.outcome
    if outcome == "needs_authorization" and not lacking and not unchecked:
        outcome = "allowed"
    if not found and not still:
        return decision if outcome == decision.outcome else replace(decision, outcome=outcome)
    return replace(
        decision,
        missing=lacking,
        reasons=(*decision.reasons, *_reasons(found)),
        outcome=outcome,
    )


# ---- listing -----------------------------------------------------------------------------


def fingerprints(entries: Iterable[ListEntry], wanted: Collection[str]) -> dict[str, str]:
    """record id -> fingerprint in a list snapshot, for the wanted record ids only."""
    return {e.record_id: e.fingerprint for e in entries if e.record_id in wanted}


def standing(clearance: Clearance, current: Mapping[str, str]) -> Standing:
    """`withdrawn`; `lapsed` when the entry's fingerprint in the list in use (`current`:
    record id -> fingerprint) differs from the cleared one, or the entry is gone; else `live`."""
    if not clearance.live:
        return "withdrawn"
    if current.get(clearance.record_id) != clearance.entry_fingerprint:
        return "lapsed"
    return "live"


def listing(clearances: Iterable[Clearance], current: Mapping[str, str]) -> list[dict[str, Any]]:
    """Each clearance's JSON form with its standing against the list in use."""
    return [{**c.to_dict(), "status": standing(c, current)} for c in clearances]
