"""The US export part of a decision: is a licence needed, and under which review policy.

Licence triggers (each a cited rule): a 3A090 item to a destination in scope (15 CFR
742.6(a)(6)); a 3A090 item to a party headquartered in D:5 or Macau wherever located
(744.23(a)(3), later 742.6(a)(6)(iii)(A)); a chip caught by an is-informed letter (2022, 2025);
a party on the Entity List (744.11). The review policy is the most restrictive that any
trigger carries; the January 2026 lane (91 FR 1684) turns presumption of denial into
case-by-case for China and Macau when all its criteria hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from chipgate.decide.context import Facts
from chipgate.decide.screening import license_hits
from chipgate.geography import describe_where, in_where
from chipgate.model import Reason, ReviewPolicy, UsExport
from chipgate.rulebook import DatedValue, RuleSet

DESTINATIONS = "us.license_requirement.destinations"
HEADQUARTERS = "us.license_requirement.headquarters"
DESTINATION_POLICY = "us.license_policy.destination_policy"
HEADQUARTERS_POLICY = "us.license_policy.headquarters_policy"
MILITARY_POLICY = "us.license_policy.military_end_use_policy"
H200_LANE = "us.license_policy.h200_lane"
IS_INFORMED = "us.is_informed."
ENTITY_LIST = "us.entity_list.license_requirement"
EMBARGO_ALL_ITEMS = "us.embargoes.all_items"
EMBARGO_CCL_ITEMS = "us.embargoes.ccl_items"
EMBARGO_POLICY = "us.embargoes.review_policy"

# Most restrictive first: a shipment's policy is the strictest any of its triggers carries.
_STRICTNESS: Mapping[str, int] = {
    "presumption_of_denial": 0,
    "case_by_case": 1,
    "presumption_of_approval": 2,
}
US_EXPORT_KINDS = ("export", "reexport", "in_country_transfer")
# The answer of every shipment that needs no US licence: a frozen value, so all share it.
_NOT_REQUIRED = UsExport(license_required=False, review_policy=None)


@dataclass(slots=True)
class _Trigger:
    rule: str
    policy: str | None


def _reason(rule: str, dated: DatedValue, text: str, **facts: Any) -> Reason:
    return Reason(rule=rule, citation=dated.citation, effective_from=dated.effective_from, text=text, facts=facts)


def us_export(facts: Facts) -> tuple[UsExport, list[Reason]]:
    s = facts.shipment
    rules = facts.rules
    reasons: list[Reason] = []
    if s.kind not in US_EXPORT_KINDS:
        return _NOT_REQUIRED, reasons

    triggers: list[_Trigger] = []
    conditions: list[str] = []
    eccn = facts.classification.eccn

    if eccn is not None:
        _three_a090_triggers(facts, triggers, conditions, reasons)
    else:
        _is_informed_triggers(facts, triggers, reasons)
    _embargo_trigger(facts, triggers, reasons)
    _entity_list_trigger(facts, triggers, reasons)

    if not triggers:
        reasons += _no_licence_reasons(rules, eccn, facts.classification.undetermined, s.to_country)
        return _NOT_REQUIRED, reasons

    military = rules.get(MILITARY_POLICY)
    if s.end_use == "military" and military is not None:
        triggers.append(_Trigger(MILITARY_POLICY, military.value))
        reasons.append(
            _reason(
                MILITARY_POLICY,
                military,
                f"Military end use: applications are reviewed under {_words(military.value)}.",
                end_use=s.end_use,
            )
        )
    policies = [t.policy for t in triggers if t.policy is not None]
    policy = min(policies, key=lambda p: _STRICTNESS[p]) if policies else None
    if policy != "case_by_case":
        conditions = []
    return (
        UsExport(
            license_required=True,
            # A string type: `ReviewPolicy | None` as an expression builds a typing union each call.
            review_policy=cast("ReviewPolicy | None", policy),
            conditions=tuple(conditions),
            rules=tuple(dict.fromkeys(t.rule for t in triggers)),
        ),
        reasons,
    )


def _no_licence_reasons(
    rules: RuleSet, eccn: str | None, undetermined: tuple[str, ...], destination: str
) -> tuple[Reason, ...]:
    """Why no licence is needed (and, for an item not settled as 3A090, the caution that goes with it).

    The text reads only these facts, so it is built once per epoch and shared: reasons are
    frozen values, as the cached classification's are.
    """
    key = ("no_licence_reasons", eccn, undetermined, destination)
    found: tuple[Reason, ...] | None = rules.memo.get(key)
    if found is not None:
        return found
    destinations = rules.get(DESTINATIONS)
    citation = _citation_or(destinations, "15 CFR 742.6(a)(6)")
    since = _date_or_none(destinations)
    reasons: list[Reason] = []
    if eccn is None and undetermined:
        reasons.append(
            Reason(
                rule="us.license_requirement",
                citation=citation,
                effective_from=since,
                text=(
                    "Caution: the 3A090 classification is undetermined (missing "
                    + ", ".join(f.replace("_", " ") for f in undetermined)
                    + "); no licence requirement was found, but one cannot be ruled out until those "
                    "figures are known."
                ),
                facts={"undetermined": list(undetermined)},
            )
        )
    what = f"{eccn} item" if eccn else "item not classified 3A090 and not caught by another rule"
    reasons.append(
        Reason(
            rule="us.license_requirement",
            citation=citation,
            effective_from=since,
            text=f"No US licence needed: {what} to {destination} with these parties.",
        )
    )
    found = rules.memo[key] = tuple(reasons)
    return found


def _three_a090_triggers(facts: Facts, triggers: list[_Trigger], conditions: list[str], reasons: list[Reason]) -> None:
    s = facts.shipment
    rules = facts.rules
    eccn = facts.classification.eccn
    destinations = rules.get(DESTINATIONS)
    destination_hit = destinations is not None and in_where(s.to_country, destinations.value, rules)
    if destinations is not None and destination_hit:
        policy, destination_reasons = _destination_rule(rules, eccn, s.to_country)
        triggers.append(_Trigger(DESTINATIONS, policy))
        reasons += destination_reasons
        lane_policy = _h200_lane(facts, conditions, reasons)
        if lane_policy is not None:
            triggers[-1].policy = lane_policy

    headquarters = rules.get(HEADQUARTERS)
    if headquarters is None:
        return
    hq_policy = rules.get(HEADQUARTERS_POLICY)
    for role, party in facts.parties:
        for hq in party.effective_headquarters:
            if not in_where(hq, headquarters.value, rules):
                continue
            located_in_scope = in_where(party.country, headquarters.value, rules)
            if destination_hit and located_in_scope:
                continue  # the destination rule already reaches this party
            whose = "its ultimate parent is" if hq != (party.headquarters_country or party.country) else "it is"
            triggers.append(_Trigger(HEADQUARTERS, hq_policy.value if hq_policy else None))
            reasons.append(
                _reason(
                    HEADQUARTERS,
                    headquarters,
                    f"US licence required: the {role.replace('_', ' ')} {party.name!r} is in "
                    f"{party.country} but {whose} headquartered in {hq} "
                    f"({describe_where(headquarters.value)}), which the rule reaches wherever located"
                    + (f"; reviewed under {_words(hq_policy.value)}." if hq_policy else "."),
                    role=role,
                    located=party.country,
                    headquarters=hq,
                )
            )
            break


def _destination_rule(rules: RuleSet, eccn: str | None, destination: str) -> tuple[str | None, tuple[Reason, ...]]:
    """The review policy for a destination the licence requirement reaches, and the reasons
    that say so; they read only the destination and the ECCN, so they are built once per epoch."""
    key = ("destination_rule", eccn, destination)
    found: tuple[str | None, tuple[Reason, ...]] | None = rules.memo.get(key)
    if found is not None:
        return found
    destinations = rules.get(DESTINATIONS)
    assert destinations is not None
    reasons = [
        _reason(
            DESTINATIONS,
            destinations,
            f"US licence required: {eccn} item to {destination}, a destination in "
            f"{describe_where(destinations.value)}.",
            destination=destination,
        )
    ]
    policy, policy_reason = _destination_policy(rules, destination)
    if policy_reason is not None:
        reasons.append(policy_reason)
    found = rules.memo[key] = (policy, tuple(reasons))
    return found


def _destination_policy(rules: RuleSet, destination: str) -> tuple[str | None, Reason | None]:
    table = rules.get(DESTINATION_POLICY)
    if table is None:
        return None, None
    for entry in table.value:
        if in_where(destination, entry["where"], rules):
            return entry["policy"], _reason(
                DESTINATION_POLICY,
                table,
                f"Review policy for {destination}: {_words(entry['policy'])} ({describe_where(entry['where'])}).",
                policy=entry["policy"],
            )
    return None, None


def _h200_lane(facts: Facts, conditions: list[str], reasons: list[Reason]) -> str | None:
    """Case-by-case when every criterion of the January 2026 lane holds, else None."""
    rules = facts.rules
    lane = rules.get(H200_LANE)
    s = facts.shipment
    if lane is None or not in_where(s.to_country, lane.value["destinations"], rules):
        return None
    cls = facts.classification
    # The lane reads these facts and no names, so shipments alike in them share its answer
    # (and the reason's text) for the whole epoch.
    key = (
        "h200_lane",
        s.to_country,
        s.kind,
        s.from_country,
        s.end_use,
        cls.tpp,
        cls.dram_bandwidth_gbs,
        tuple((role, party.country, party.effective_headquarters) for role, party in facts.parties),
    )
    found: tuple[str | None, Reason] | None = rules.memo.get(key)
    if found is None:
        found = rules.memo[key] = _assess_h200_lane(facts, lane)
    policy, reason = found
    reasons.append(reason)
    if policy is not None:
        conditions.extend(lane.value["conditions"])
    return policy


def _assess_h200_lane(facts: Facts, lane: DatedValue) -> tuple[str | None, Reason]:
    """(the lane's policy if every criterion holds, else None; the reason that says why)."""
    rules = facts.rules
    s = facts.shipment
    spec = lane.value
    cls = facts.classification
    failures: list[str] = []
    if not cls.tpp < spec["tpp_below"]:
        failures.append(f"TPP {cls.tpp:,.1f} is not below {spec['tpp_below']:,}")
    dram = cls.dram_bandwidth_gbs
    if dram is None:
        failures.append("total DRAM bandwidth is unknown, so the ceiling cannot be shown to be met")
    elif not dram < spec["dram_bandwidth_below_gbs"]:
        failures.append(f"total DRAM bandwidth {dram:,.0f} GB/s is not below {spec['dram_bandwidth_below_gbs']:,} GB/s")
    if s.kind not in spec["kinds"] or s.from_country not in spec["from_countries"]:
        failures.append(
            f"a {s.kind.replace('_', '-')} from {s.from_country} is not an export from "
            f"{', '.join(spec['from_countries'])}; reexports, exports from abroad and in-country "
            "transfers stay under presumption of denial"
        )
    if s.end_use in spec["excluded_end_uses"]:
        failures.append(f"the end use {s.end_use!r} is excluded")
    headquarters = rules.get(HEADQUARTERS)
    if headquarters is not None:
        for role, party in facts.parties:
            hq_in_scope = any(in_where(hq, headquarters.value, rules) for hq in party.effective_headquarters)
            if hq_in_scope and not in_where(party.country, headquarters.value, rules):
                failures.append(
                    f"the {role.replace('_', ' ')} is headquartered in D:5 or Macau but located in {party.country}"
                )
    if failures:
        return None, _reason(
            H200_LANE,
            lane,
            "The case-by-case lane for H200-class chips does not apply: " + "; ".join(failures) + ".",
            failures=failures,
        )
    return str(spec["policy"]), _reason(
        H200_LANE,
        lane,
        f"Case-by-case review instead of presumption of denial: TPP {cls.tpp:,.0f} < "
        f"{spec['tpp_below']:,}, total DRAM bandwidth {dram:,.0f} GB/s < "
        f"{spec['dram_bandwidth_below_gbs']:,} GB/s, export from {s.from_country}. Conditions of "
        "the licence: " + "; ".join(spec["conditions"]) + ".",
        tpp=cls.tpp,
        dram_bandwidth_gbs=dram,
    )


def is_informed_letters(rules: RuleSet) -> list[DatedValue]:
    """The letters in force: every parameter of the is-informed rule file, in id order."""
    key = ("is_informed_letters",)
    found: list[DatedValue] | None = rules.memo.get(key)
    if found is None:
        ids = sorted(pid for pid in rules.rulebook.parameters if pid.startswith(IS_INFORMED))
        found = rules.memo[key] = [v for pid in ids if (v := rules.get(pid)) is not None]
    return found


_LETTER_FACTS = {
    "tpp_min": ("tpp", "TPP", ""),
    "dram_bandwidth_min_gbs": ("dram_bandwidth_gbs", "memory bandwidth", " GB/s"),
    "interconnect_min_gbs": ("interconnect_gbs", "interconnect bandwidth", " GB/s"),
}


def _caught_by(letter: Mapping[str, Any], facts: Facts) -> str | None:
    if facts.chip_id in letter["chips"]:
        return f"{letter['name']} names {facts.chip_id}"
    cls = facts.classification
    for criteria in letter["caught_if_any"]:
        parts = []
        for key, threshold in criteria.items():
            attribute, label, unit = _LETTER_FACTS[key]
            value = getattr(cls, attribute)
            if value is None or value < threshold:
                break
            parts.append(f"its {label} {value:,.0f}{unit} reaches {threshold:,}{unit}")
        else:
            return " and ".join(parts) + f", the level {letter['name']} names"
    return None


def _is_informed_triggers(facts: Facts, triggers: list[_Trigger], reasons: list[Reason]) -> None:
    rules = facts.rules
    s = facts.shipment
    for dated in is_informed_letters(rules):
        letter = dated.value
        caught_by = _caught_by(letter, facts)
        if caught_by is None:
            continue
        reached = in_where(s.to_country, letter["destinations"], rules)
        who = f"destination {s.to_country}"
        if not reached:
            for role, party in facts.parties:
                if any(in_where(hq, letter["headquarters"], rules) for hq in party.effective_headquarters):
                    reached, who = True, f"the {role.replace('_', ' ')} headquartered in {party.headquarters_country}"
                    break
        if not reached:
            continue
        policy = letter.get("review_policy")
        triggers.append(_Trigger(dated.parameter, policy))
        reasons.append(
            _reason(
                dated.parameter,
                dated,
                f"US licence required although the item is not 3A090: {caught_by}, and the letter reaches {who}"
                + (f"; reviewed {_words(policy)} (the letter states no policy)." if policy else "."),
            )
        )


def _embargo_trigger(facts: Facts, triggers: list[_Trigger], reasons: list[Reason]) -> None:
    """Part 746: an embargoed destination needs a licence for any item; a sanctioned one for any
    item on the Commerce Control List, which every 3A090 item is."""
    rules = facts.rules
    destination = facts.shipment.to_country
    policy = rules.value(EMBARGO_POLICY)
    everything = rules.get(EMBARGO_ALL_ITEMS)
    listed = rules.get(EMBARGO_CCL_ITEMS)
    if everything is not None and destination in everything.value:
        rule, dated, what = EMBARGO_ALL_ITEMS, everything, "every item subject to the EAR"
    elif listed is not None and destination in listed.value and facts.classification.eccn is not None:
        rule, dated, what = (
            EMBARGO_CCL_ITEMS,
            listed,
            f"every item on the Commerce Control List, {facts.classification.eccn} included",
        )
    else:
        return
    triggers.append(_Trigger(rule, policy))
    reasons.append(
        _reason(
            rule,
            dated,
            f"US licence required: exports to {destination} need a licence for {what}"
            + (f"; reviewed under {_words(policy)}." if policy else "."),
            destination=destination,
        )
    )


def _entity_list_trigger(facts: Facts, triggers: list[_Trigger], reasons: list[Reason]) -> None:
    """A party that matches (not just possibly) an entry of a list that requires a licence."""
    rule = facts.rules.get(ENTITY_LIST)
    lists = rule.value["lists"] if rule is not None else ()
    for hit in facts.party_hits:
        if rule is None or hit.strength != "match" or hit.list_code not in lists:
            continue
        triggers.append(_Trigger(ENTITY_LIST, rule.value["review_policy"]))
        reasons.append(
            _reason(
                ENTITY_LIST,
                rule,
                f"US licence required whatever the destination: the {hit.role.replace('_', ' ')} "
                f"{hit.query!r} matches the {hit.list_name} entry {hit.entry_name!r} "
                f"(as {hit.matched_name!r}, score {hit.score:.2f}); reviewed under "
                f"{_words(rule.value['review_policy'])}.",
                record_id=hit.record_id,
                list_code=hit.list_code,
                matcher=hit.matcher,
                score=hit.score,
            )
        )
    for hit, parameter, dated in license_hits(facts):
        policy = dated.value.get("review_policy")
        triggers.append(_Trigger(parameter, policy))
        reasons.append(
            _reason(
                parameter,
                dated,
                f"US licence required: the {hit.role.replace('_', ' ')} {hit.query!r} matches the "
                f"{hit.list_name} entry {hit.entry_name!r} (as {hit.matched_name!r}, score {hit.score:.2f}), "
                f"and the item is one the list's rule covers"
                + (f"; reviewed under {_words(policy)}." if policy else "."),
                record_id=hit.record_id,
                list_code=hit.list_code,
                matcher=hit.matcher,
                score=hit.score,
            )
        )


def _words(policy: str) -> str:
    return policy.replace("_", " ")


def _citation_or(dated: DatedValue | None, fallback: str) -> str:
    return dated.citation if dated else fallback


def _date_or_none(dated: DatedValue | None) -> Any:
    return dated.effective_from if dated else None
