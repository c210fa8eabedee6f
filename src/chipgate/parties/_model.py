"""The values screening deals in: a list entry, one match, and what a list is."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class ListInfo:
    """What a list code stands for and where its legal effect is written."""

    code: str
    name: str
    citation: str = ""
    licence_requirement: str = ""
