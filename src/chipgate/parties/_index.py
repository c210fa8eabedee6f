"""A precomputed index shipped beside the list, so screening starts in milliseconds.

Reading the list file into entries, then every entry's names out of the list's wording
and normalising each of them, takes a few tenths of a second, paid by every fresh process
that screens a name (a batch run, a command-line call). The result depends only on the
list file and on the code that reads and normalises names, so `tools/build_party_index.py`
computes it once and stores it as ``<list stem>.index.json`` next to the list: the entries
as read, the fuzzy matcher's names and their words, and the ``normalized-exact`` index.

The stored index records the SHA-256 of the list file it was built from and of the
source of the modules that decide what it holds. When either differs from what is
loaded now, or the file is missing or unreadable, it is ignored and the list is read and
the matchers built as before: a stale index can slow a run down but never change an
answer. The tests compare the shipped index with a fresh build, so it is regenerated,
not trusted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from chipgate.parties import _lists, _matchers, _names, _normalize, _scripts, _words
from chipgate.parties._matchers import NormalizedExactMatcher
from chipgate.parties._model import ListEntry
from chipgate.parties._words import FUZZY_NAME, FUZZY_VERSION, IndexedNames, indexed_names

__all__ = ["FORMAT", "StoredIndex", "code_fingerprint", "index_document", "index_path", "load_index"]

# 3: the entries themselves, and the fuzzy matcher's names as columns naming entries by position.
FORMAT = 3
# What the index holds is decided by how the list is read into entries (_lists), which
# names an entry can be matched by (_names), how they are normalised (_normalize), read
# from other scripts and synonyms (_scripts, _words and the word lists), and how the
# matcher orders its hits (_matchers).
_SOURCES = (_lists, _names, _normalize, _matchers, _words, _scripts)
_DATA = ("data/name_variants.yaml",)


class StoredIndex(NamedTuple):
    """What a stored index gives: the list's entries, and its matchers without building them."""

    entries: list[ListEntry]
    exact: NormalizedExactMatcher
    fuzzy_names: IndexedNames


def index_path(list_path: Path) -> Path:
    """Where the index of the list file `list_path` is stored."""
    return list_path.with_name(f"{list_path.stem}.index.json")


def code_fingerprint() -> str | None:
    """SHA-256 over the source of the modules the index depends on; None when a source cannot be read."""
    digest = hashlib.sha256()
    package = Path(str(_lists.__file__)).parents[1]
    for path in [*(module.__file__ for module in _SOURCES), *(package / data for data in _DATA)]:
        try:
            digest.update(Path(str(path)).read_bytes())
        except (OSError, TypeError):
            return None
    return digest.hexdigest()


def index_document(list_sha256: str, entries: Sequence[ListEntry]) -> dict[str, Any]:
    """The stored form of the index over `entries`, read from the list file with that SHA-256."""
    matcher = NormalizedExactMatcher(entries)
    names = indexed_names(entries)
    return {
        "format": FORMAT,
        "matcher": matcher.name,
        "matcher_version": matcher.version,
        "list_sha256": list_sha256,
        "code_sha256": code_fingerprint(),
        "fuzzy_matcher": FUZZY_NAME,
        "fuzzy_version": FUZZY_VERSION,
        "entries": [
            [
                entry.record_id,
                entry.list_code,
                entry.list_name,
                entry.name,
                list(entry.aliases),
                list(entry.countries),
                list(entry.identifiers),
            ]
            for entry in entries
        ],
        "fuzzy_names": {
            "entry": names.entry,
            "raw": names.raw,
            "words": names.words,
            "skeletons": names.skeletons,
        },
        "names": [
            [normalized, [[entry.record_id, raw] for entry, raw in hits]]
            for normalized, hits in sorted(matcher.hits().items())
        ],
    }


def load_index(path: Path, list_sha256: str) -> StoredIndex | None:
    """The index stored at `path`, if it was built from this list by this code; else None."""
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    expected = {
        "format": FORMAT,
        "matcher": NormalizedExactMatcher.name,
        "matcher_version": NormalizedExactMatcher.version,
        "fuzzy_matcher": FUZZY_NAME,
        "fuzzy_version": FUZZY_VERSION,
        "list_sha256": list_sha256,
    }
    if any(document.get(key) != value for key, value in expected.items()):
        return None
    fingerprint = code_fingerprint()
    if fingerprint is None or document.get("code_sha256") != fingerprint:
        return None
    try:
        entries = [
            ListEntry(record_id, code, list_name, name, tuple(aliases), tuple(countries), tuple(identifiers))
            for record_id, code, list_name, name, aliases, countries, identifiers in document["entries"]
        ]
        stored_names = document["fuzzy_names"]
        names = IndexedNames(
            stored_names["entry"], stored_names["raw"], stored_names["words"], stored_names["skeletons"]
        )
        if not len(names.entry) == len(names.raw) == len(names.words) or not isinstance(names.skeletons, dict):
            return None
        if names.entry and not 0 <= min(names.entry) <= max(names.entry) < len(entries):
            return None
        by_id = {entry.record_id: entry for entry in entries}
        exact_rows = document["names"]
        # Checked now, read on first use (see `NormalizedExactMatcher.from_stored`).
        if not all(record_id in by_id for _, found in exact_rows for record_id, _ in found):
            return None
    except (KeyError, TypeError, ValueError):
        return None

    def read_exact() -> dict[str, tuple[tuple[ListEntry, str], ...]]:
        return {
            str(normalized): tuple((by_id[record_id], str(raw)) for record_id, raw in found)
            for normalized, found in exact_rows
        }

    return StoredIndex(entries, NormalizedExactMatcher.from_stored(read_exact), names)
