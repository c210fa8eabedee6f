"""The words a name is compared by, for the ``fuzzy-v1`` matcher and its precomputed index,
and the romanisation skeleton a word is also compared by.

Kept apart from the matcher so that reading a stored index needs neither numpy nor rapidfuzz.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from chipgate.parties._model import ListEntry
from chipgate.parties._names import matchable_names
from chipgate.parties._normalize import normalize_name
from chipgate.parties._scripts import latinize, name_variants

__all__ = ["FUZZY_NAME", "FUZZY_VERSION", "IndexedNames", "indexed_names", "skeleton", "words"]

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


# Spellings one sound gets in the romanisations listed names come in (Russian by BGN/PCGN,
# by German or French habit, or anglicised), each reduced to one spelling: first the
# letter groups (longest first), then single letters, then doubled letters. Here rather
# than in the matcher because the stored index holds the listed words' skeletons: a
# change to these rules makes it stale, as a change to this module does.
_SKELETON_GROUPS = {
    "shch": "sh", "sch": "sh", "dzh": "z", "cks": "x",
    "ch": "h", "kh": "h", "ck": "k", "gh": "g", "ph": "f", "dj": "z", "zh": "z",
    "ks": "x", "cs": "x",
    "yu": "u", "iu": "u", "ju": "u", "ya": "a", "ia": "a", "ja": "a",
    "ye": "e", "je": "e", "yo": "o", "jo": "o",
}  # fmt: skip
_SKELETON_GROUP = re.compile("|".join(sorted(_SKELETON_GROUPS, key=len, reverse=True)))
_SKELETON_LETTERS = str.maketrans({"c": "k", "w": "v", "y": "i", "j": "i"})
_DOUBLED = re.compile(r"(.)\1+")


def skeleton(word: str) -> str:
    """`word` with romanisation variants reduced: "elektroniks" and "electronics" agree."""
    word = _SKELETON_GROUP.sub(_group_spelling, word)
    # A function, not the template r"\1": re expands a template in Python for every match.
    return _DOUBLED.sub(_first_letter, word.translate(_SKELETON_LETTERS))


def _group_spelling(found: re.Match[str]) -> str:
    return _SKELETON_GROUPS[found[0]]


def _first_letter(found: re.Match[str]) -> str:
    return found[1]


class IndexedNames(NamedTuple):
    """The names the fuzzy matcher compares, as columns: name n is entry `entry[n]`'s name
    `raw[n]` (as written), read as the words `words[n]` (in order, joined by spaces); and
    each of their words' `skeleton`.

    Columns rather than one tuple per name: the stored index is read into these lists
    directly, and the matcher keeps them as they are.
    """

    entry: list[int]
    raw: list[str]
    words: list[str]
    skeletons: dict[str, str]


def indexed_names(entries: Sequence[ListEntry]) -> IndexedNames:
    """Each distinct name of each entry (its position), as written and as words; each word's skeleton."""
    names = IndexedNames([], [], [], {})
    for i, entry in enumerate(entries):
        seen: set[tuple[str, ...]] = set()
        for raw in matchable_names(entry):
            found = words(raw)
            if found and found not in seen:
                seen.add(found)
                names.entry.append(i)
                names.raw.append(raw)
                names.words.append(" ".join(found))
    for text in names.words:
        for word in text.split():
            if word not in names.skeletons:
                names.skeletons[word] = skeleton(word)
    return names
