"""The words a name is compared by, for the ``fuzzy-v1`` matcher and its precomputed index.

Kept apart from the matcher so that reading a stored index needs neither numpy nor rapidfuzz.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from chipgate.parties._model import ListEntry
from chipgate.parties._names import matchable_names
from chipgate.parties._normalize import normalize_name
from chipgate.parties._scripts import latinize, name_variants

__all__ = ["FUZZY_NAME", "FUZZY_VERSION", "IndexedName", "indexed_names", "words"]

FUZZY_NAME = "fuzzy-v1"
FUZZY_VERSION = "1"


@lru_cache(maxsize=65_536)
def words(name: str) -> tuple[str, ...]:
    """The words `name` is compared by: Latin script, normalised, synonyms applied."""
    tokens = normalize_name(latinize(name)).split()
    synonyms = name_variants().synonyms
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for size in (3, 2, 1):
            replacement = synonyms.get(tuple(tokens[i : i + size]))
            if replacement is not None:
                out += replacement
                i += size
                break
        else:
            out.append(tokens[i])
            i += 1
    return tuple(out)


IndexedName = tuple[int, str, tuple[str, ...]]


def indexed_names(entries: Sequence[ListEntry]) -> list[IndexedName]:
    """(entry position, name as written, its words) for each distinct name of each entry."""
    names: list[IndexedName] = []
    for i, entry in enumerate(entries):
        seen: set[tuple[str, ...]] = set()
        for raw in matchable_names(entry):
            found = words(raw)
            if found and found not in seen:
                seen.add(found)
                names.append((i, raw, found))
    return names
