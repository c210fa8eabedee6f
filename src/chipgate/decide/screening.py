"""Screen a shipment's parties against the restricted-party lists, and say what each hit means.

The matcher is a replaceable part of `chipgate.parties`; this module asks it about each
party (with the party's country and identifiers) under the thresholds in force on the
decision date, and turns the answers into `PartyHit`s. What a hit means is rule data,
one parameter per list in `rules/us/party_lists.yaml` (the Entity List's in
`rules/us/entity_list.yaml`, applied by `us_export`):

- a `match` on a list whose effect is `blocked` (OFAC SDN, BIS Denied Persons) blocks
  the shipment; `import_blocked` (UFLPA) blocks an import into the US of goods the
  exporter made; `license_required` (MEU) needs a licence for the ECCNs the rule names;
  `warning` lists are shown as red flags;
- a `possible` match changes nothing by itself but needs an analyst's clearance
  (`screening_clearance`) before the shipment can go ahead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from chipgate.decide.context import Facts
from chipgate.model import PartyHit, Reason, Requirement, Shipment
from chipgate.rulebook import DatedValue, Rulebook, RuleSet

PARTY_LISTS = "us.party_lists."
THRESHOLDS = "us.party_lists.match_thresholds"
LISTING_DATES = "us.entity_list.listing_dates"
ENTITY_LIST = "us.entity_list.license_requirement"
CLEARANCE_RULE = "screening.possible_match"


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


def _screened_parties(shipment: Shipment) -> Iterator[tuple[str, str, str | None, tuple[str, ...]]]:
    """(role, name, country, identifiers) of each party screened."""
    consignee, end_user = shipment.consignee, shipment.end_user
    yield "consignee", consignee.name, consignee.country, _identifiers(consignee.identifiers)
    # A shipment without its own end user names the consignee object itself: no field-by-field compare.
    if end_user is not consignee and end_user != consignee:
        yield "end_user", end_user.name, end_user.country, _identifiers(end_user.identifiers)
    if shipment.exporter:
        # The exporter matters to import rules (UFLPA: goods it made may not enter the US).
        yield "exporter", shipment.exporter, shipment.from_country, ()


def _identifiers(given: Mapping[str, str]) -> tuple[str, ...]:
    if not given:
        return ()
    return tuple(f"{scheme.upper()}:{value.strip().upper()}" for scheme, value in sorted(given.items()))


def screen_parties(shipment: Shipment, book: Rulebook, rules: RuleSet) -> tuple[PartyHit, ...]:
    """Every list entry a party matches or possibly matches, less Entity List entries not yet listed."""
    restricted = book.restricted_parties
    thresholds = rules.value(THRESHOLDS)
    hits: list[PartyHit] = []
    seen: set[str] = set()
    for role, name, country, identifiers in _screened_parties(shipment):
        for match in restricted.screen(name, country=country, identifiers=identifiers, thresholds=thresholds):
            entry = match.entry
            key = f"{role}:{entry.record_id}"
            if key in seen:
                continue
            if entry.list_code == "EL" and not_yet_listed(entry.name, rules):
                continue
            seen.add(key)
            hits.append(
                PartyHit(
                    role=role,
                    query=name,
                    list_code=entry.list_code,
                    list_name=entry.list_name,
                    entry_name=entry.name,
                    matched_name=match.matched_name,
                    record_id=entry.record_id,
                    matcher=match.matcher,
                    score=match.score,
                    strength=match.strength,
                    entry_fingerprint=entry.fingerprint,
                    snapshot=restricted.snapshot_id,
                )
            )
    return tuple(hits)


def list_consequences(rules: RuleSet) -> dict[str, tuple[str, DatedValue]]:
    """List code -> (parameter id, its value in force) for every list with a consequence."""
    found = rules.memo.get("list_consequences")
    if found is None:
        found = {}
        for parameter in sorted(rules.rulebook.parameters):
            if not parameter.startswith(PARTY_LISTS) or parameter == THRESHOLDS:
                continue
            dated = rules.get(parameter)
            if dated is not None:
                for code in dated.value["lists"]:
                    found.setdefault(str(code), (parameter, dated))
        rules.memo["list_consequences"] = found
    return found  # type: ignore[no-any-return]


def _who(hit: PartyHit) -> str:
    return f"the {hit.role.replace('_', ' ')} {hit.query!r}"


def _reason(rule: str, dated: DatedValue, text: str, hit: PartyHit, **facts: Any) -> Reason:
    return Reason(
        rule=rule,
        citation=dated.citation,
        effective_from=dated.effective_from,
        text=text,
        facts={"record_id": hit.record_id, "list_code": hit.list_code, "score": hit.score, **facts},
    )


def license_hits(facts: Facts) -> list[tuple[PartyHit, str, DatedValue]]:
    """Matches on lists other than the Entity List that need a US licence for this item."""
    found: list[tuple[PartyHit, str, DatedValue]] = []
    consequences = list_consequences(facts.rules)
    for hit in facts.party_hits:
        if hit.strength != "match" or hit.list_code not in consequences:
            continue
        parameter, dated = consequences[hit.list_code]
        if dated.value["effect"] == "license_required" and _item_in_scope(facts, dated.value):
            found.append((hit, parameter, dated))
    return found


def binds(hit: PartyHit, facts: Facts) -> bool:
    """Whether a match on `hit`'s entry changes what this shipment needs: a US licence
    (Entity List; MEU for the items its rule names), or a block."""
    exporting = facts.shipment.kind != "import"
    entity_list = facts.rules.get(ENTITY_LIST)
    if entity_list is not None and hit.list_code in entity_list.value["lists"]:
        return exporting
    found = list_consequences(facts.rules).get(hit.list_code)
    if found is None:
        return False
    _, dated = found
    effect = dated.value["effect"]
    if effect == "license_required":
        return exporting and _item_in_scope(facts, dated.value)
    return _blocks(effect, hit, facts.shipment)


def with_binding(facts: Facts) -> tuple[PartyHit, ...]:
    """The hits, each marked with whether it binds this shipment (see `binds`)."""
    marked = []
    for hit in facts.party_hits:
        binding = binds(hit, facts)
        # A hit already marked as it should be is kept as it is (hits are frozen values).
        marked.append(hit if hit.binding == binding else replace(hit, binding=binding))
    return tuple(marked)


def _blocks(effect: str, hit: PartyHit, s: Shipment) -> bool:
    if effect == "blocked":
        return True
    # UFLPA reaches goods the listed party made entering the US: the exporter of an import.
    return effect == "import_blocked" and s.kind == "import" and s.to_country == "US" and hit.role == "exporter"


def _item_in_scope(facts: Facts, value: Mapping[str, Any]) -> bool:
    eccns = value.get("eccns")
    return eccns is None or facts.classification.eccn in eccns


def blocking_reasons(facts: Facts) -> list[Reason]:
    """Matches that forbid the transaction: sanctioned or denied parties, UFLPA makers of US imports."""
    s = facts.shipment
    consequences = list_consequences(facts.rules)
    found: list[Reason] = []
    for hit in facts.party_hits:
        if hit.strength != "match" or hit.list_code not in consequences:
            continue
        parameter, dated = consequences[hit.list_code]
        effect = dated.value["effect"]
        if not _blocks(effect, hit, s):
            continue
        if effect == "blocked":
            text = (
                f"Blocked: {_who(hit)} matches the {hit.list_name} entry {hit.entry_name!r} "
                f"(as {hit.matched_name!r}, score {hit.score:.2f}); no transaction may go ahead."
            )
        else:
            text = (
                f"Blocked: {_who(hit)} matches the {hit.list_name} entry {hit.entry_name!r}; goods it made "
                "may not be imported into the US."
            )
        found.append(_reason(parameter, dated, text, hit))
    return found


def screening_reasons(facts: Facts) -> list[Reason]:
    """Possible matches waiting for an analyst, and hits shown as red flags only."""
    consequences = list_consequences(facts.rules)
    thresholds = facts.rules.get(THRESHOLDS)
    reasons: list[Reason] = []
    for hit in facts.party_hits:
        listed = f"the {hit.list_name} entry {hit.entry_name!r} (list snapshot {hit.snapshot})"
        if hit.strength == "possible" and hit.binding:
            if thresholds is None:
                continue
            reasons.append(
                _reason(
                    CLEARANCE_RULE,
                    thresholds,
                    f"Possible match: {_who(hit)} resembles {listed} as {hit.matched_name!r}, score "
                    f"{hit.score:.2f} (a match needs {thresholds.value['match']}); an analyst must clear it "
                    "or confirm it before the shipment goes ahead.",
                    hit,
                )
            )
            continue
        if hit.binding or hit.list_code not in consequences:
            continue
        _, dated = consequences[hit.list_code]
        what = "matches" if hit.strength == "match" else f"possibly matches (score {hit.score:.2f})"
        reasons.append(
            _reason(
                f"screening.{hit.list_code}",
                dated,
                f"Red flag: {_who(hit)} {what} {listed}" + _why_only_a_flag(dated.value["effect"], dated.value, facts),
                hit,
            )
        )
    return reasons


def _why_only_a_flag(effect: str, value: Mapping[str, Any], facts: Facts) -> str:
    if effect == "license_required":
        eccn = facts.classification.eccn or "not 3A090"
        return f"; its licence requirement covers {', '.join(value.get('eccns', ()))}, not this item ({eccn})."
    if effect == "import_blocked":
        return "; the list bars imports into the US of goods it made, not exports to it."
    return "; the list carries no licence requirement for this shipment."


def clearance_requirement(facts: Facts) -> Requirement | None:
    """An analyst's clearance, when any party possibly matches an entry that would bind the shipment."""
    possible = [hit for hit in facts.party_hits if hit.strength == "possible" and hit.binding]
    if not possible:
        return None
    names = ", ".join(sorted({f"{hit.query!r} ~ {hit.entry_name!r} ({hit.list_code})" for hit in possible}))
    return Requirement("screening_clearance", THRESHOLDS, f"Analyst clearance of possible list matches: {names}")
