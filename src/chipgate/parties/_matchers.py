"""Name matchers, chosen by name from a registry so that results say how they were found.

A matcher is built once from the list entries and then answers many queries. Each
registered name is a stable promise about behaviour: a change in what a matcher
matches gets a new name (or a new `version`), never a silent change under the old one.

Registered now:

``normalized-exact``
    The query and every matchable name of every entry (see `matchable_names`) are
    normalised with `normalize_name`; a match is equality of the normalised forms.
    Score 1.0. One dict lookup per query, whatever the size of the lists.

``fuzzy-v1``
    Typos, word order, legal forms, Han and Cyrillic script, known other spellings;
    scored 0..1 with the features behind the score (see `chipgate.parties._fuzzy`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Protocol, Self

from chipgate.parties._model import ListEntry, NameMatch
from chipgate.parties._names import matchable_names
from chipgate.parties._normalize import normalize_name
from chipgate.parties._words import FUZZY_NAME, IndexedNames

__all__ = ["MATCHERS", "Matcher", "NormalizedExactMatcher"]


class Matcher(Protocol):
    """Finds the list entries a name matches, best first, each with a score in 0..1."""

    name: str

    def match(
        self,
        query: str,
        *,
        country: str | None = None,
        identifiers: Collection[str] = (),
        floor: float = 0.0,
    ) -> tuple[NameMatch, ...]: ...

    def warm(self) -> None:
        """Build now whatever the first query would build, so a caller can do it while it waits."""


# Normalised name -> (entry, the entry's name as written) pairs, in match order.
_Hits = dict[str, tuple[tuple[ListEntry, str], ...]]


def _entry_order(entry: ListEntry) -> tuple[str, str]:
    return entry.list_code, entry.record_id


class NormalizedExactMatcher:
    """Equality of normalised names: no false hits from similar spellings, no near misses found."""

    name: str = "normalized-exact"
    version: str = "1"

    def __init__(self, entries: Sequence[ListEntry]) -> None:
        # normalised name -> (entry, the entry's name as written) for each entry that has it;
        # one pair per entry, the entry's first name with that normal form.
        index: dict[str, dict[tuple[str, str], tuple[ListEntry, str]]] = {}
        for entry in entries:
            for raw in matchable_names(entry):
                hits = index.setdefault(normalize_name(raw), {})
                hits.setdefault(_entry_order(entry), (entry, raw))
        self._hits: _Hits | None = {
            normalized: tuple(hits[key] for key in sorted(hits)) for normalized, hits in index.items()
        }
        self._read_stored: Callable[[], _Hits] | None = None

    @classmethod
    def from_stored(cls, read: Callable[[], _Hits]) -> Self:
        """The matcher over an index computed earlier (see `hits`), which `read` makes from its
        stored form on first use: loading a list for the fuzzy matcher (a batch run) then
        spends no time on this one."""
        matcher = cls.__new__(cls)
        matcher._hits = None
        matcher._read_stored = read
        return matcher

    @property
    def _index(self) -> _Hits:
        hits = self._hits
        if hits is None:
            # Read on first use; two threads may both read it (the same index, one kept).
            hits = self._hits = self._read_stored() if self._read_stored is not None else {}
        return hits

    def warm(self) -> None:
        """Read the stored index now, if there is one not read yet."""
        self._index  # noqa: B018 - read on first access

    def hits(self) -> _Hits:
        """Normalised name -> (entry, the entry's name as written) pairs, in match order."""
        return dict(self._index)

    def match(
        self,
        query: str,
        *,
        country: str | None = None,
        identifiers: Collection[str] = (),
        floor: float = 0.0,
    ) -> tuple[NameMatch, ...]:
        # Names only: every hit scores 1.0, so country, identifiers and floor change nothing.
        hits = self._index.get(normalize_name(query), ())
        return tuple(
            NameMatch(entry=entry, query=query, matched_name=raw, matcher=self.name, score=1.0) for entry, raw in hits
        )


def fuzzy_matcher(entries: Sequence[ListEntry], names: IndexedNames | None = None) -> Matcher:
    """The ``fuzzy-v1`` matcher; numpy and rapidfuzz are imported only when one is built."""
    from chipgate.parties._fuzzy import FuzzyMatcher

    return FuzzyMatcher(entries, names)


MATCHERS: dict[str, Callable[[Sequence[ListEntry]], Matcher]] = {
    NormalizedExactMatcher.name: NormalizedExactMatcher,
    FUZZY_NAME: fuzzy_matcher,
}
