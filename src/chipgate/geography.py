"""Destinations and country groups as the rule data defines them on a date."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chipgate.rulebook import RuleSet

GROUPS = "us.country_groups"
TREATED_AS = "us.country_groups.treated_as"


def treated_as(country: str, rules: RuleSet) -> str:
    """The destination the EAR reads a country as (Hong Kong as China since 85 FR 83765)."""
    mapping: Mapping[str, str] = rules.value(TREATED_AS, {})
    return mapping.get(country, country)


def in_group(country: str, group: str, rules: RuleSet) -> bool:
    members = rules.value(f"{GROUPS}.{group}", ())
    return treated_as(country, rules) in members


def in_where(country: str, where: Mapping[str, Any], rules: RuleSet) -> bool:
    """Whether a country is one of `countries`, or in one of `groups` and none of `excluding_groups`.

    Hong Kong is read as China for group membership, and also matches where listed by name.
    The answer holds for the whole epoch, so it is remembered on the rule set.
    """
    key = ("in_where", country, id(where))
    found = rules.memo.get(key)
    if found is None:
        found = rules.memo[key] = _in_where(country, where, rules)
    return bool(found)


def _in_where(country: str, where: Mapping[str, Any], rules: RuleSet) -> bool:
    read_as = treated_as(country, rules)
    countries = where.get("countries", ())
    if country in countries or read_as in countries:
        return True
    groups = where.get("groups", ())
    if not any(in_group(read_as, g, rules) for g in groups):
        return False
    return not any(in_group(read_as, g, rules) for g in where.get("excluding_groups", ()))


def describe_where(where: Mapping[str, Any]) -> str:
    key = id(where)
    text = _DESCRIBED.get(key)
    if text is None:
        text = _DESCRIBED[key] = _describe(where)
    return text


# Rule values live as long as the rulebook that holds them, so their identity is a safe key.
_DESCRIBED: dict[int, str] = {}


def _describe(where: Mapping[str, Any]) -> str:
    parts = []
    if where.get("groups"):
        groups = ", ".join(where["groups"])
        excluded = where.get("excluding_groups")
        parts.append(f"Country Groups {groups}" + (f" not also in {', '.join(excluded)}" if excluded else ""))
    if where.get("countries"):
        parts.append(", ".join(where["countries"]))
    return " or ".join(parts) or "nowhere"
