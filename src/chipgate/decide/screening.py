"""Screen a shipment's parties against the restricted-party lists.

The matcher is a replaceable part of `chipgate.parties`; this module only asks it about
each party and turns the answers into `PartyHit`s and red-flag reasons.
"""

from __future__ import annotations

from chipgate.decide.context import Facts
from chipgate.model import PartyHit, Reason, Shipment
from chipgate.rulebook import Rulebook, RuleSet

RED_FLAG_LISTS = "us.entity_list.red_flag_lists"
LISTING_DATES = "us.entity_list.listing_dates"


def not_yet_listed(entry_name: str, rules: RuleSet) -> bool:
    """Whether an Entity List entry belongs to a family the rule data lists only after this epoch."""
    key = ("not_yet_listed", entry_name)
    found = rules.memo.get(key)
    if found is None:
        lowered = entry_name.casefold()
        listed_now = rules.value(LISTING_DATES, ())
        every_family = {name for value in rules.rulebook.history(LISTING_DATES) for name in value.value}
        known = any(name.casefold() in lowered for name in every_family)
        found = rules.memo[key] = known and not any(name.casefold() in lowered for name in listed_now)
    return bool(found)


def screen_parties(shipment: Shipment, book: Rulebook, rules: RuleSet) -> tuple[PartyHit, ...]:
    """Every list entry a party matches, less Entity List entries added after the decision date."""
    restricted = book.restricted_parties
    hits: list[PartyHit] = []
    seen: set[str] = set()
    parties = [("consignee", shipment.consignee)]
    if shipment.end_user != shipment.consignee:
        parties.append(("end_user", shipment.end_user))
    for role, party in parties:
        for match in restricted.screen(party.name):
            key = f"{role}:{match.entry.record_id}"
            if key in seen:
                continue
            if match.entry.list_code == "EL" and not_yet_listed(match.entry.name, rules):
                continue
            seen.add(key)
            hits.append(
                PartyHit(
                    role=role,
                    query=party.name,
                    list_code=match.entry.list_code,
                    list_name=match.entry.list_name,
                    entry_name=match.entry.name,
                    matched_name=match.matched_name,
                    record_id=match.entry.record_id,
                    matcher=match.matcher,
                    score=match.score,
                )
            )
    return tuple(hits)


def screening_reasons(facts: Facts) -> list[Reason]:
    """Hits on lists that do not by themselves require a licence, shown as red flags."""
    flags = facts.rules.get(RED_FLAG_LISTS)
    if flags is None:
        return []
    snapshot = facts.rules.rulebook.restricted_parties.snapshot_date
    return [
        Reason(
            rule=f"screening.{hit.list_code}",
            citation=flags.citation,
            effective_from=flags.effective_from,
            text=(
                f"Red flag: the {hit.role.replace('_', ' ')} {hit.query!r} matches the {hit.list_name} "
                f"entry {hit.entry_name!r} (list snapshot {snapshot})."
            ),
            facts={"record_id": hit.record_id, "list_code": hit.list_code},
        )
        for hit in facts.party_hits
        if hit.list_code in flags.value
    ]
