"""Restricted-party lists: load the snapshot, then screen names against it fast.

Loading reads `restricted_parties.csv` and, beside it, `restricted_parties.meta.yaml`
(provenance, snapshot date, what each list code is and where its legal effect is written).
Screening results are cached per (name, lists, matcher), so deciding an order book that
names the same consignee a thousand times normalises that name once.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from chipgate.errors import InputError, RuleDataError
from chipgate.parties._matchers import MATCHERS, Matcher, fuzzy_matcher
from chipgate.parties._model import ListEntry, ListInfo, NameMatch
from chipgate.parties._words import FUZZY_NAME, IndexedNames

__all__ = ["DEFAULT_MATCHER", "RestrictedPartyList"]

DEFAULT_MATCHER = FUZZY_NAME
# The rule parameter holding the scores a hit needs to be a `match` or a `possible` match.
THRESHOLDS = "us.party_lists.match_thresholds"

REQUIRED_COLUMNS = ("record_id", "list_code", "list_name", "name", "aliases", "country_codes")
META_KEYS = frozenset({"snapshot_date", "source", "licence", "changes", "sha256", "lists"})
SOURCE_KEYS = frozenset({"repository", "path", "commit", "commit_date", "head_at_fetch", "ingested_at", "url"})
LIST_KEYS = frozenset({"name", "authority", "citation", "licence_requirement", "note"})

ALIAS_SEPARATOR = " | "
COUNTRY_SEPARATOR = ";"
# Bounds memory when a long-running service screens many distinct names; a full cache
# is simply emptied, which costs one normalisation per name on the next call.
_CACHE_LIMIT = 100_000
_DATE_IN_FILE_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")

_CacheKey = tuple[str, str | None, tuple[str, ...] | Collection[str], Collection[str] | None, str, tuple[float, float]]


class RestrictedPartyList:
    """The entries of one snapshot of the lists, and name screening against them."""

    def __init__(
        self,
        entries: Iterable[ListEntry],
        *,
        snapshot_date: dt.date,
        source: str,
        lists: Mapping[str, ListInfo] | None = None,
        snapshot_id: str = "",
    ) -> None:
        self.entries: tuple[ListEntry, ...] = tuple(entries)
        self.snapshot_date = snapshot_date
        self.source = source
        # Names this snapshot in decisions: the list file's SHA-256, shortened.
        self.snapshot_id = snapshot_id or f"{snapshot_date.isoformat()}"
        infos = dict(lists or {})
        for entry in self.entries:
            if entry.list_code not in infos:
                infos[entry.list_code] = ListInfo(entry.list_code, entry.list_name)
        self._lists: dict[str, ListInfo] = dict(sorted(infos.items()))
        self._matchers: dict[str, Matcher] = {}
        # The fuzzy matcher's names read from a stored index, so building it skips reading them.
        self._fuzzy_names: IndexedNames | None = None
        self._cache: dict[_CacheKey, tuple[NameMatch, ...]] = {}

    def __repr__(self) -> str:
        return (
            f"RestrictedPartyList({len(self.entries)} entries, lists {', '.join(self._lists)}, "
            f"snapshot {self.snapshot_date.isoformat()})"
        )

    @classmethod
    def from_csv(cls, path: Path) -> RestrictedPartyList:
        """Load a list file; provenance comes from `<stem>.meta.yaml` beside it when present."""
        path = Path(path)
        data = path.read_bytes()
        meta_path = path.with_name(f"{path.stem}.meta.yaml")
        meta = _read_meta(meta_path) if meta_path.exists() else {}
        digest = hashlib.sha256(data).hexdigest()
        if "sha256" in meta and digest != meta["sha256"]:
            raise RuleDataError(
                str(meta_path),
                "sha256",
                f"{path.name} no longer has the checksum recorded here; if the new file is "
                "intended, update sha256 and the snapshot's provenance",
            )
        lists = _list_infos(meta_path, meta.get("lists", {}))
        # Imported here: the index module reads this module's source for its fingerprint.
        from chipgate.parties._index import index_path, load_index

        # The index stored beside the list holds its entries as this code reads them; the
        # meta file is not part of what it was built from, so its lists are checked here.
        stored = load_index(index_path(path), digest)
        if stored is not None and _described(stored.entries, lists):
            entries = stored.entries
        else:
            stored = None
            entries = _read_entries(path, data.decode("utf-8-sig"), lists)
        loaded = cls(
            entries,
            snapshot_date=_snapshot_date(path, meta_path, meta),
            source=_source(path, meta.get("source")),
            lists=lists,
            snapshot_id=f"{_snapshot_date(path, meta_path, meta).isoformat()}-{digest[:8]}",
        )
        if stored is not None:
            loaded._matchers[stored.exact.name] = stored.exact
            loaded._fuzzy_names = stored.fuzzy_names
        return loaded

    @property
    def list_codes(self) -> tuple[str, ...]:
        return tuple(self._lists)

    def list_info(self, code: str) -> ListInfo:
        try:
            return self._lists[code]
        except KeyError:
            raise InputError("list", _unknown(code, self._lists)) from None

    def list_name(self, code: str) -> str:
        return self.list_info(code).name

    def matcher(self, name: str = DEFAULT_MATCHER) -> Matcher:
        """The named matcher over these entries, built on first use."""
        built = self._matchers.get(name)
        if built is None:
            factory = MATCHERS.get(name)
            if factory is None:
                raise InputError("matcher", _unknown(name, MATCHERS))
            if name == FUZZY_NAME and self._fuzzy_names is not None:
                built = self._matchers[name] = fuzzy_matcher(self.entries, self._fuzzy_names)
            else:
                built = self._matchers[name] = factory(self.entries)
        return built

    def screen(
        self,
        name: str,
        *,
        country: str | None = None,
        identifiers: Collection[str] = (),
        lists: Collection[str] | None = None,
        matcher: str = DEFAULT_MATCHER,
        thresholds: Mapping[str, float] | None = None,
    ) -> tuple[NameMatch, ...]:
        """The entries `name` matches, best first; empty when clear.

        A hit scoring at least `thresholds["match"]` has strength ``match``, one between
        `thresholds["possible"]` and that ``possible``; lower scores are not returned.
        `thresholds` defaults to the rule data's `us.party_lists.match_thresholds` in force
        today; `chipgate.decide` passes those in force on the decision date. `country`
        (ISO alpha-2) and `identifiers` ("SCHEME:VALUE") sharpen the score where the
        matcher uses them. `lists` limits the search to those list codes (None: every
        list); pass ("EL",) for the Entity List alone. Answers are cached, so a name seen
        before costs one dictionary lookup.
        """
        limits = _thresholds(thresholds)
        key: _CacheKey = (
            name,
            country,
            identifiers if isinstance(identifiers, tuple) else tuple(identifiers),
            lists if lists is None or isinstance(lists, tuple | frozenset) else tuple(lists),
            matcher,
            limits,
        )
        try:
            return self._cache[key]
        except (KeyError, TypeError):
            pass
        result = self._screen(name, country, identifiers, lists, matcher, limits)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = result
        return result

    def _screen(
        self,
        name: str,
        country: str | None,
        identifiers: Collection[str],
        lists: Collection[str] | None,
        matcher: str,
        limits: tuple[float, float],
    ) -> tuple[NameMatch, ...]:
        if not isinstance(name, str):
            raise InputError("name", f"a party name must be text, not {type(name).__name__}")
        if isinstance(identifiers, str):
            raise InputError("identifiers", f"give a collection such as ({identifiers!r},), not a string")
        wanted: frozenset[str] | None = None
        if lists is not None:
            if isinstance(lists, str):
                raise InputError("lists", f"give a collection of list codes such as ({lists!r},), not a string")
            wanted = frozenset(lists)
            unknown = sorted(wanted - self._lists.keys())
            if unknown:
                raise InputError("lists", _unknown(unknown[0], self._lists))
        match_at, possible_at = limits
        found = self.matcher(matcher).match(name, country=country, identifiers=identifiers, floor=possible_at)
        return tuple(
            replace(hit, strength="match" if hit.score >= match_at else "possible")
            for hit in found
            if wanted is None or hit.entry.list_code in wanted
        )


def _thresholds(given: Mapping[str, float] | None) -> tuple[float, float]:
    """(match, possible) from `given`, else from the rule data in force today."""
    if given is None:
        from chipgate.rulebook import default_rulebook

        given = default_rulebook().at(dt.date.today()).value(THRESHOLDS)
    try:
        match_at, possible_at = float(given["match"]), float(given["possible"])
    except (KeyError, TypeError, ValueError):
        raise InputError("thresholds", "give a mapping with numbers for 'match' and 'possible'") from None
    if not 0 <= possible_at <= match_at <= 1:
        raise InputError("thresholds", "need 0 <= possible <= match <= 1")
    return match_at, possible_at


def _unknown(value: str, known: Iterable[str]) -> str:
    return f"{value!r} is not known; choose from {', '.join(known)}"


def _read_meta(meta_path: Path) -> dict[str, Any]:
    loaded = yaml.load(meta_path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(loaded, dict):
        raise RuleDataError(str(meta_path), "(top level)", "expected a mapping of keys to values")
    for key in loaded:
        if key not in META_KEYS:
            raise RuleDataError(str(meta_path), str(key), f"unknown key; allowed: {', '.join(sorted(META_KEYS))}")
    source = loaded.get("source")
    if isinstance(source, dict):
        for key in source:
            if key not in SOURCE_KEYS:
                raise RuleDataError(
                    str(meta_path),
                    f"source.{key}",
                    f"unknown key; allowed: {', '.join(sorted(SOURCE_KEYS))}",
                )
    return loaded


def _list_infos(meta_path: Path, raw: Any) -> dict[str, ListInfo]:
    if not isinstance(raw, dict):
        raise RuleDataError(str(meta_path), "lists", "expected a mapping of list code to details")
    infos: dict[str, ListInfo] = {}
    for code, details in raw.items():
        where = f"lists.{code}"
        if not isinstance(details, dict) or not isinstance(details.get("name"), str):
            raise RuleDataError(str(meta_path), where, "each list needs at least a name")
        for key in details:
            if key not in LIST_KEYS:
                raise RuleDataError(
                    str(meta_path),
                    f"{where}.{key}",
                    f"unknown key; allowed: {', '.join(sorted(LIST_KEYS))}",
                )
        infos[str(code)] = ListInfo(
            code=str(code),
            name=details["name"],
            citation=str(details.get("citation", "")),
            licence_requirement=str(details.get("licence_requirement", "")),
        )
    return infos


def _read_entries(path: Path, text: str, lists: Mapping[str, ListInfo]) -> list[ListEntry]:
    # Rows are read as lists and their fields found by position: a dict per row
    # (csv.DictReader) would double the time of reading, which a batch waits for.
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, [])
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise RuleDataError(str(path), "header", f"missing column(s): {', '.join(missing)}")
    # A column named twice is read from the last one, as csv.DictReader reads it.
    position = {column: i for i, column in enumerate(header)}
    columns = _Columns(
        position["record_id"],
        position["list_code"],
        position["list_name"],
        position["name"],
        position["aliases"],
        position["country_codes"],
        position.get("identifiers"),
    )
    # One record can span several rows (the source lists an entry once per address);
    # its rows agree on the name and add aliases and countries.
    merged: dict[str, ListEntry] = {}
    line = 1
    for row in rows:
        if not row:
            continue  # a blank line is no row, and is not counted in the line numbers
        line += 1
        if len(row) < len(header):
            row += [""] * (len(header) - len(row))  # a short row's missing fields are empty
        entry = _row_entry(path, line, row, columns, lists)
        earlier = merged.get(entry.record_id)
        if earlier is None:
            merged[entry.record_id] = entry
            continue
        if (earlier.name, earlier.list_code) != (entry.name, entry.list_code):
            raise RuleDataError(
                str(path),
                f"line {line}: record_id",
                f"{entry.record_id} is used for two different entries; record ids must be unique",
            )
        merged[entry.record_id] = ListEntry(
            record_id=earlier.record_id,
            list_code=earlier.list_code,
            list_name=earlier.list_name,
            name=earlier.name,
            aliases=_union(earlier.aliases, entry.aliases),
            countries=_union(earlier.countries, entry.countries),
            identifiers=_union(earlier.identifiers, entry.identifiers),
        )
    return list(merged.values())


class _Columns(NamedTuple):
    """Where each field is in a row of the list file; `identifiers` is optional."""

    record_id: int
    list_code: int
    list_name: int
    name: int
    aliases: int
    countries: int
    identifiers: int | None


def _described(entries: Iterable[ListEntry], lists: Mapping[str, ListInfo]) -> bool:
    """Whether the meta file's `lists` (when it has any) describe each entry's list by the
    entry's list name, as `_row_entry` requires of every row."""
    if not lists:
        return True
    return all(
        code in lists and lists[code].name == name for code, name in {(e.list_code, e.list_name) for e in entries}
    )


def _row_entry(
    path: Path, line: int, row: Sequence[str], columns: _Columns, lists: Mapping[str, ListInfo]
) -> ListEntry:
    record_id = row[columns.record_id].strip()
    code = row[columns.list_code].strip()
    name = row[columns.name].strip()
    for column, value in (("record_id", record_id), ("list_code", code), ("name", name)):
        if not value:
            raise RuleDataError(str(path), f"line {line}: {column}", "must not be empty")
    list_name = row[columns.list_name]
    info = lists.get(code)
    if lists and info is None:
        raise RuleDataError(str(path), f"line {line}: list_code", f"{code!r} is not described in the meta file")
    if info is not None and info.name != list_name:
        raise RuleDataError(
            str(path),
            f"line {line}: list_name",
            f"{list_name!r} differs from the meta file's name for {code}: {info.name!r}",
        )
    identifiers = row[columns.identifiers] if columns.identifiers is not None else ""
    return ListEntry(
        record_id=record_id,
        list_code=code,
        list_name=list_name,
        name=name,
        aliases=_split(row[columns.aliases], ALIAS_SEPARATOR),
        countries=_split(row[columns.countries], COUNTRY_SEPARATOR),
        identifiers=_split(identifiers, ALIAS_SEPARATOR),
    )


def _split(text: str, separator: str) -> tuple[str, ...]:
    """The parts of `text` between separators, stripped; empty parts dropped."""
    if not text:
        return ()
    return tuple(part for part in map(str.strip, text.split(separator)) if part)


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *second)))


def _snapshot_date(path: Path, meta_path: Path, meta: Mapping[str, Any]) -> dt.date:
    value = meta.get("snapshot_date")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if value is not None:
        raise RuleDataError(str(meta_path), "snapshot_date", "must be a date such as 2026-08-18")
    found = _DATE_IN_FILE_NAME.search(path.name)
    if found:
        try:
            return dt.date.fromisoformat(found.group(1))
        except ValueError:
            pass
    raise RuleDataError(
        str(meta_path),
        "snapshot_date",
        "no snapshot date: write it in this file, or put the date in the list file's name",
    )


def _source(path: Path, raw: Any) -> str:
    if raw is None:
        return str(path)
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict):
        if "url" in raw:
            return str(raw["url"])
        if {"repository", "path", "commit"} <= raw.keys():
            return f"https://github.com/{raw['repository']}/blob/{raw['commit']}/{raw['path']}"
    return str(path)
