"""The values screening deals in: a list entry, one match, and what a list is."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ListEntry", "ListInfo", "NameMatch"]


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One listed party as published: its raw name, its aliases and the countries it is listed under.

    `name` and `aliases` are the text of the list, untouched; the names a matcher compares
    against are derived from them by `matchable_names`.
    """

    record_id: str
    list_code: str
    list_name: str
    name: str
    aliases: tuple[str, ...]
    countries: tuple[str, ...]
    # Identifiers as "SCHEME:VALUE" (e.g. "USCC:91110108…", "OFAC:1234"): the same
    # identifier on both sides decides a match whatever the names say.
    identifiers: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str:
        """A hash of what the entry says: changes when its list, names, countries or identifiers do."""
        text = "\x1f".join(
            (self.list_code, self.record_id, self.name, *self.aliases, "|", *self.countries, "|", *self.identifiers)
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class NameMatch:
    """A screened name that matched a list entry, and through which of its names.

    `matched_name` is the entry's name or alias (as written in the list) that the query
    matched; `score` is 1.0 for an exact match and lower for looser matchers.
    """

    entry: ListEntry
    query: str
    matched_name: str
    matcher: str
    score: float
    # `match` at or above the rule data's match threshold, `possible` between the two.
    strength: Literal["match", "possible"] = "match"
    # The scorer's features behind `score` (e.g. token overlap, character similarity,
    # country agreement), so a hit can be explained.
    features: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ListInfo:
    """What a list code stands for and where its legal effect is written."""

    code: str
    name: str
    citation: str = ""
    licence_requirement: str = ""
