"""Read restricted-party list files, as their publishers ship them, into `ListEntry` values.

Four formats, one reader each:

``csl-csv``       trade.gov's Consolidated Screening List, ``consolidated.csv``
``csl-json``      the same list as the CSL API and download give it (``{"results": [...]}``)
``ftm``           OpenSanctions FollowTheMoney entities, one JSON object per line
``chipgate-csv``  the layout of the shipped ``data/restricted_parties.csv``

Each source's own name for a list (a CSL ``source``, an OpenSanctions dataset or
program id) is turned into chipgate's list code through one table,
``list_sources.yaml``; a source the table does not know keeps its entries under a code
derived from its name, and `ImportResult.unmapped` reports them. What each reader
keeps and drops is described in docs/lists.md.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from chipgate.errors import InputError, RuleDataError
from chipgate.inputs import country_codes
from chipgate.parties._lists import ALIAS_SEPARATOR, COUNTRY_SEPARATOR, LIST_KEYS, REQUIRED_COLUMNS
from chipgate.parties._model import ListEntry

__all__ = [
    "CSL_CSV_COLUMNS",
    "FORMATS",
    "ImportResult",
    "ListSource",
    "SourceTable",
    "detect_format",
    "finish_entries",
    "read_chipgate_csv",
    "read_csl_csv",
    "read_csl_json",
    "read_ftm",
    "read_list_file",
    "source_table",
]

FORMATS = ("csl-csv", "csl-json", "ftm", "chipgate-csv")

# The columns of consolidated.csv as trade.gov publishes it; the reader needs these.
CSL_CSV_COLUMNS = ("_id", "source", "name", "alt_names", "addresses", "ids")
_CSL_MULTI = "; "

# FollowTheMoney schemata of parties: LegalEntity and what extends it (followthemoney's
# schema/*.yaml). Assets are kept only when the file marks them as listed targets.
PARTY_SCHEMAS = frozenset({"LegalEntity", "Person", "Organization", "Company", "PublicBody"})
ASSET_SCHEMAS = frozenset({"Vessel", "Airplane"})
_FTM_COUNTRY_PROPS = ("country", "jurisdiction", "mainCountry", "nationality", "citizenship")
# `weakAlias` is left out: FollowTheMoney marks it as not to be used for matching.
_FTM_ALIAS_PROPS = ("alias", "previousName")

# A Chinese Unified Social Credit Code (GB 32100-2015): 18 characters, digits and upper-case
# letters without I, O, S, V and Z, the third to eighth an administrative-division code.
_USCC = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$")
# Schemes an 18-character USCC may hide under, in sources that have no USCC type.
_USCC_CARRIERS = frozenset({"REG", "TAX", "ID", "NID", "VAT", "USCC"})
_BRACKETED = re.compile(r"\(([^()]+)\)")


@dataclass(frozen=True, slots=True)
class ListSource:
    """One list of list_sources.yaml: its code and what the snapshot's meta file says of it."""

    code: str
    name: str
    authority: str = ""
    citation: str = ""
    licence_requirement: str = ""
    note: str = ""

    def meta(self) -> dict[str, str]:
        """The keys of a meta file's `lists.<code>` entry, without the empty ones."""
        values = {
            "name": self.name,
            "authority": self.authority,
            "citation": self.citation,
            "licence_requirement": self.licence_requirement,
            "note": self.note,
        }
        return {key: value for key, value in values.items() if value and key in LIST_KEYS}


class SourceTable:
    """list_sources.yaml, read: each source's name for a list, to chipgate's list code."""

    _LIST_KEYS = frozenset(
        {
            "name",
            "authority",
            "citation",
            "licence_requirement",
            "note",
            "csl_sources",
            "csl_codes",
            "opensanctions_datasets",
            "opensanctions_programs",
        }
    )
    _TOP_KEYS = frozenset({"lists", "opensanctions_multi_list_datasets", "identifier_types"})

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise RuleDataError(where, "(top level)", "expected a mapping")
        for key in raw:
            if key not in self._TOP_KEYS:
                raise RuleDataError(where, str(key), f"unknown key; allowed: {', '.join(sorted(self._TOP_KEYS))}")
        self.lists: dict[str, ListSource] = {}
        self._csl_sources: dict[str, str] = {}
        self._csl_codes: dict[str, str] = {}
        self._datasets: dict[str, str] = {}
        self._programs: dict[str, str] = {}
        lists = raw.get("lists")
        if not isinstance(lists, dict) or not lists:
            raise RuleDataError(where, "lists", "expected a mapping of list code to details")
        for code, details in lists.items():
            self._add_list(where, str(code), details)
        self.multi_list_datasets = frozenset(
            _strings(where, "opensanctions_multi_list_datasets", raw.get("opensanctions_multi_list_datasets"))
        )
        kinds = raw.get("identifier_types") or {}
        if not isinstance(kinds, dict):
            raise RuleDataError(where, "identifier_types", "expected a mapping")
        self.csl_identifier_types = {
            str(k).casefold(): str(v) for k, v in _mapping(where, "identifier_types.csl", kinds.get("csl")).items()
        }
        self.ftm_identifier_props = {
            str(k): str(v) for k, v in _mapping(where, "identifier_types.ftm", kinds.get("ftm")).items()
        }

    def _add_list(self, where: str, code: str, details: Any) -> None:
        key = f"lists.{code}"
        if not isinstance(details, dict) or not isinstance(details.get("name"), str):
            raise RuleDataError(where, key, "each list needs at least a name")
        for item in details:
            if item not in self._LIST_KEYS:
                raise RuleDataError(
                    where, f"{key}.{item}", f"unknown key; allowed: {', '.join(sorted(self._LIST_KEYS))}"
                )
        self.lists[code] = ListSource(
            code=code,
            name=details["name"],
            authority=str(details.get("authority", "")),
            citation=str(details.get("citation", "")),
            licence_requirement=str(details.get("licence_requirement", "")),
            note=str(details.get("note", "")),
        )
        for item, target in (
            ("csl_sources", self._csl_sources),
            ("csl_codes", self._csl_codes),
            ("opensanctions_datasets", self._datasets),
            ("opensanctions_programs", self._programs),
        ):
            for value in _strings(where, f"{key}.{item}", details.get(item)):
                folded = value.casefold()
                if target.get(folded, code) != code:
                    raise RuleDataError(where, f"{key}.{item}", f"{value!r} is already given for {target[folded]}")
                target[folded] = code

    def csl_source(self, text: str) -> str | None:
        """The list code of a CSL `source` text (or a Sanction's authority), if known."""
        folded = text.strip().casefold()
        if folded in self._csl_sources:
            return self._csl_sources[folded]
        bracketed = _bracketed(text)
        return self._csl_codes.get(bracketed.casefold()) if bracketed else None

    def dataset(self, name: str) -> str | None:
        return self._datasets.get(name.strip().casefold())

    def program(self, program_id: str) -> str | None:
        return self._programs.get(program_id.strip().casefold())


def _strings(where: str, key: str, raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise RuleDataError(where, key, "expected a list of strings")
    return list(raw)


def _mapping(where: str, key: str, raw: Any) -> dict[Any, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise RuleDataError(where, key, "expected a mapping")
    return raw


@lru_cache(maxsize=1)
def source_table() -> SourceTable:
    """The packaged list_sources.yaml."""
    path = resources.files("chipgate.parties").joinpath("list_sources.yaml")
    return SourceTable(yaml.safe_load(path.read_text(encoding="utf-8")), "chipgate/parties/list_sources.yaml")


def derived_code(text: str) -> str:
    """The code an unknown source's entries are kept under: its bracketed abbreviation, else its name."""
    base = _bracketed(text) or text
    code = re.sub(r"[^A-Za-z0-9]+", "-", base).strip("-").upper()[:40]
    return code or "UNKNOWN"


def _bracketed(text: str) -> str:
    found = _BRACKETED.findall(text)
    return found[-1].strip() if found else ""


@dataclass(frozen=True)
class ImportResult:
    """What a list file held: its entries, and what was set aside on the way."""

    entries: tuple[ListEntry, ...]
    format: str
    # Why records were not kept, and how many: e.g. {"schema Address": 12}.
    skipped: Mapping[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Entries per list code."""
        return dict(sorted(Counter(entry.list_code for entry in self.entries).items()))

    def unmapped(self) -> dict[str, dict[str, Any]]:
        """Codes chipgate does not know, each with the source name it was derived from and its entries."""
        known = source_table().lists
        found: dict[str, dict[str, Any]] = {}
        for entry in self.entries:
            if entry.list_code in known:
                continue
            seen = found.setdefault(entry.list_code, {"source": entry.list_name, "entries": 0})
            seen["entries"] += 1
        return found


# --- format detection -------------------------------------------------------------


def detect_format(path: Path) -> str:
    """The format of a list file, from its extension and first bytes."""
    head = _head(path)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "ftm"
    stripped = head.lstrip()
    if suffix == ".json" or stripped.startswith(("{", "[")):
        first_line = stripped.split("\n", 1)[0]
        try:
            first = json.loads(first_line)
        except ValueError:
            first = None
        if isinstance(first, dict) and "schema" in first:
            return "ftm"
        if stripped.startswith(("{", "[")):
            return "csl-json"
    header = next(csv.reader(io.StringIO(stripped.split("\n", 1)[0])), [])
    columns = {column.strip() for column in header}
    if {"_id", "source"} <= columns:
        return "csl-csv"
    if {"record_id", "list_code"} <= columns:
        return "chipgate-csv"
    raise InputError(
        "--format",
        f"cannot tell what kind of list {path.name} is: it is neither JSON nor a CSV with the CSL columns "
        f"(_id, source, ...) or chipgate's (record_id, list_code, ...); give --format, one of {', '.join(FORMATS)}",
    )


def _head(path: Path, size: int = 65536) -> str:
    try:
        with path.open("rb") as fh:
            data = fh.read(size)
    except OSError as exc:
        raise InputError("FILE", f"cannot read {str(path)!r}: {exc.strerror}") from None
    return data.decode("utf-8-sig", errors="replace")


def read_list_file(path: Path, fmt: str | None = None) -> ImportResult:
    """Read a list file in `fmt` (detected when None) into finished entries."""
    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise InputError("--format", f"{fmt!r} is not a list format; choose from {', '.join(FORMATS)}")
    _head(path)  # a missing or unreadable file is reported before anything else
    chosen = fmt or detect_format(path)
    skipped: Counter[str] = Counter()
    readers: dict[str, Callable[..., list[ListEntry]]] = {
        "csl-csv": read_csl_csv,
        "csl-json": read_csl_json,
        "ftm": read_ftm,
        "chipgate-csv": read_chipgate_csv,
    }
    entries = readers[chosen](path, skipped=skipped)
    return ImportResult(tuple(entries), chosen, dict(sorted(skipped.items())))


def _text(path: Path, fmt: str) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError("FILE", f"cannot read {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError("--format", f"{path.name} is not {fmt}: it is not UTF-8 text") from None


def _csv_rows(path: Path, fmt: str, required: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(_text(path, fmt), newline=""))
    columns = [column.strip() for column in reader.fieldnames or ()]
    missing = [column for column in required if column not in columns]
    if missing:
        raise InputError(
            f"column {missing[0]}",
            f"missing from {path.name}, read as {fmt}; a {fmt} file has the columns {', '.join(required)}"
            + (f" (found: {', '.join(columns[:8])}{', ...' if len(columns) > 8 else ''})" if columns else ""),
        )
    reader.fieldnames = columns
    for line, row in enumerate(reader, start=2):
        yield line, {key: value or "" for key, value in row.items() if isinstance(key, str)}


# --- trade.gov Consolidated Screening List -----------------------------------------------


@dataclass
class _CslRecord:
    record_id: str
    source: str
    name: str
    aliases: list[str]
    countries: list[str]
    ids: list[tuple[str, str, str]]  # (type, number, issuing country)


def read_csl_csv(path: Path, *, skipped: Counter[str] | None = None) -> list[ListEntry]:
    """trade.gov's consolidated.csv as published: one row per listed party and source list."""
    skipped = Counter() if skipped is None else skipped
    records = []
    for _line, row in _csv_rows(path, "csl-csv", CSL_CSV_COLUMNS):
        records.append(
            _CslRecord(
                record_id=row["_id"].strip(),
                source=row["source"].strip(),
                name=row["name"].strip(),
                aliases=_csl_aliases(_split_multi(row["alt_names"])),
                countries=[
                    *_address_countries(row["addresses"]),
                    *_codes(_split_multi(row.get("nationalities", ""))),
                    *_codes(_split_multi(row.get("citizenships", ""))),
                ],
                ids=[_csl_id_text(item) for item in _split_multi(row["ids"])],
            )
        )
    return _csl_entries(records, skipped)


def read_csl_json(path: Path, *, skipped: Counter[str] | None = None) -> list[ListEntry]:
    """The CSL as the API and the JSON download give it: ``{"results": [...], ...}``."""
    skipped = Counter() if skipped is None else skipped
    try:
        document = json.loads(_text(path, "csl-json"))
    except ValueError as exc:
        raise InputError("--format", f"{path.name} is not csl-json: not valid JSON ({exc})") from None
    results = document.get("results") if isinstance(document, dict) else None
    if not isinstance(results, list):
        raise InputError(
            "results",
            f"{path.name} has no `results` list; csl-json is the CSL API's answer, "
            '{"results": [{"id", "source", "name", "alt_names", "addresses", "ids", ...}], ...}',
        )
    records = []
    for index, result in enumerate(results):
        if not isinstance(result, dict):
            raise InputError(f"results[{index}]", f"expected an object, found {type(result).__name__}")
        raw_id = result.get("id", result.get("_id"))
        records.append(
            _CslRecord(
                record_id="" if raw_id is None else str(raw_id).strip(),
                source=_as_text(result.get("source")),
                name=_as_text(result.get("name")),
                aliases=_csl_aliases(_json_list(result.get("alt_names"))),
                countries=[
                    *_json_address_countries(result.get("addresses")),
                    *_codes(_json_list(result.get("nationalities"))),
                    *_codes(_json_list(result.get("citizenships"))),
                ],
                ids=[_csl_id_object(item) for item in _as_list(result.get("ids"))],
            )
        )
    return _csl_entries(records, skipped)


def _csl_entries(records: Iterable[_CslRecord], skipped: Counter[str]) -> list[ListEntry]:
    table = source_table()
    entries = []
    for record in records:
        if not record.record_id or not record.name:
            skipped["records without an id or a name"] += 1
            continue
        code = table.csl_source(record.source)
        list_name = record.source
        if code is None:
            code = derived_code(record.source) if record.source else "UNKNOWN"
            list_name = record.source or "(no source given)"
        countries = _unique(record.countries)
        entries.append(
            ListEntry(
                record_id=record.record_id,
                list_code=code,
                list_name=list_name,
                name=record.name,
                aliases=tuple(record.aliases),
                countries=countries,
                identifiers=_unique(
                    identifier
                    for kind, number, issuer in record.ids
                    if (identifier := _identifier(table.csl_identifier_types.get(kind.casefold()), number, issuer))
                ),
            )
        )
    return finish_entries(entries)


def _split_multi(text: str) -> list[str]:
    return [part.strip() for part in text.split(_CSL_MULTI) if part.strip()]


def _csl_aliases(names: Iterable[str]) -> list[str]:
    # The CSL splits an enumeration "A; B; and C" at "; ", which leaves "and C".
    return [re.sub(r"^and\s+", "", name) for name in names]


def _address_countries(text: str) -> list[str]:
    # Each address ends with its country code ("..., Yerevan, Armenia, AM"); the parts of one
    # address that are joined with "; and" end with a place name instead and give nothing.
    return _codes(part.rsplit(",", 1)[-1] for part in _split_multi(text))


def _json_address_countries(raw: Any) -> list[str]:
    if isinstance(raw, str):
        return _address_countries(raw)
    return _codes(item.get("country") for item in _as_list(raw) if isinstance(item, dict))


def _csl_id_text(item: str) -> tuple[str, str, str]:
    # "Passport, 836238033, KP": type, number and, when the last part is one, the country.
    parts = [part.strip() for part in item.split(", ")]
    if len(parts) >= 3 and _country(parts[-1]):
        return parts[0], ", ".join(parts[1:-1]), parts[-1]
    return parts[0], ", ".join(parts[1:]), ""


def _csl_id_object(item: Any) -> tuple[str, str, str]:
    if not isinstance(item, dict):
        return _csl_id_text(str(item))
    return _as_text(item.get("type")), _as_text(item.get("number")), _as_text(item.get("country"))


# --- OpenSanctions FollowTheMoney ---------------------------------------------------


def read_ftm(path: Path, *, skipped: Counter[str] | None = None) -> list[ListEntry]:
    """OpenSanctions entities in FollowTheMoney JSON lines (``entities.ftm.json``, ``targets.nested.json``).

    Parties (LegalEntity and what extends it) are kept unless the file marks them as not
    being targets (an owner or relative of a listed party, not listed itself); vessels and
    aircraft only when marked as targets; everything else is skipped and counted. An
    entity's lists come from its program ids, its Sanctions and its datasets.
    """
    skipped = Counter() if skipped is None else skipped
    table = source_table()
    sanctions: dict[str, list[Mapping[str, Any]]] = {}
    kept: list[Mapping[str, Any]] = []
    read_any = False
    try:
        fh = path.open(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError("FILE", f"cannot read {str(path)!r}: {exc.strerror}") from None
    with fh:
        for line_number, line in enumerate(_lines(fh, path), start=1):
            if not line.strip():
                continue
            # A file that fails on its first entity is not FtM at all; later, one line is broken.
            where = f"line {line_number}" if read_any else "--format"
            try:
                entity = json.loads(line)
            except ValueError as exc:
                raise InputError(
                    where,
                    f"{path.name} is not ftm: line {line_number} is not valid JSON ({exc}); "
                    "ftm is one FollowTheMoney entity per line",
                ) from None
            if not isinstance(entity, dict) or not isinstance(entity.get("schema"), str):
                raise InputError(
                    where,
                    f"{path.name} is not ftm: line {line_number} is not an entity object with id, schema and "
                    "properties",
                )
            read_any = True
            schema = entity["schema"]
            properties = _properties(entity)
            if schema == "Sanction":
                for target in _as_list(properties.get("entity")):
                    target_id = target.get("id") if isinstance(target, dict) else target
                    if isinstance(target_id, str):
                        sanctions.setdefault(target_id, []).append(properties)
            elif (schema in PARTY_SCHEMAS and entity.get("target") is not False) or (
                schema in ASSET_SCHEMAS and entity.get("target") is True
            ):
                kept.append(entity)
            elif schema in PARTY_SCHEMAS or schema in ASSET_SCHEMAS:
                skipped[f"{schema} entities that are not listed themselves (not a target)"] += 1
            else:
                skipped[f"{schema} entities (not a party)"] += 1
    entries = []
    for entity in kept:
        entity_id = _as_text(entity.get("id"))
        properties = _properties(entity)
        names = _texts(properties.get("name"))
        if not entity_id or not names:
            skipped["entities without an id or a name"] += 1
            continue
        countries = _codes(
            value for prop in _FTM_COUNTRY_PROPS for value in _texts(properties.get(prop)) if isinstance(value, str)
        )
        # FollowTheMoney gives no issuing country per identifier; the entity's stands in.
        issuer = "" if not countries else "CN" if "CN" in countries else countries[0]
        identifiers = _unique(
            identifier
            for prop, scheme in table.ftm_identifier_props.items()
            for value in _texts(properties.get(prop))
            if (identifier := _identifier(scheme, value, issuer))
        )
        nested = [_properties(item) for item in _as_list(properties.get("sanctions")) if isinstance(item, dict)]
        for code, list_name in _ftm_lists(table, entity, [*sanctions.get(entity_id, ()), *nested]):
            entries.append(
                ListEntry(
                    record_id=entity_id,
                    list_code=code,
                    list_name=list_name,
                    name=names[0],
                    aliases=tuple(names[1:]) + tuple(_texts_of(properties, _FTM_ALIAS_PROPS)),
                    countries=tuple(countries),
                    identifiers=identifiers,
                )
            )
    return finish_entries(entries)


def _lines(fh: io.TextIOBase, path: Path) -> Iterator[str]:
    try:
        yield from fh
    except UnicodeDecodeError:
        raise InputError("--format", f"{path.name} is not ftm: it is not UTF-8 text") from None


def _ftm_lists(
    table: SourceTable, entity: Mapping[str, Any], sanctions: Sequence[Mapping[str, Any]]
) -> list[tuple[str, str]]:
    """(code, list name) of each list the entity is on; unknown sources under a derived code."""
    found: dict[str, str] = {}
    programs = [*_texts(_properties(entity).get("programId"))]
    for sanction in sanctions:
        programs.extend(_texts(sanction.get("programId")))
    for program in programs:
        code = table.program(program)
        if code is not None:
            found.setdefault(code, table.lists[code].name)
    for sanction in sanctions:
        for authority in _texts(sanction.get("authority")):
            code = table.csl_source(authority)
            if code is not None:
                found.setdefault(code, table.lists[code].name)
    named_by_programs = bool(found)
    datasets = _texts(entity.get("datasets"))
    for dataset in datasets:
        code = table.dataset(dataset)
        if code is not None:
            found.setdefault(code, table.lists[code].name)
        elif dataset not in table.multi_list_datasets or not named_by_programs:
            found.setdefault(derived_code(dataset), f"OpenSanctions dataset {dataset}")
    if not found:
        found["UNKNOWN"] = "(no dataset given)"
    return list(found.items())


def _properties(entity: Mapping[str, Any]) -> Mapping[str, Any]:
    properties = entity.get("properties")
    return properties if isinstance(properties, dict) else {}


def _texts(raw: Any) -> list[str]:
    return [value.strip() for value in _as_list(raw) if isinstance(value, str) and value.strip()]


def _texts_of(properties: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    return [value for name in names for value in _texts(properties.get(name))]


# --- chipgate's own layout ---------------------------------------------------------


def read_chipgate_csv(path: Path, *, skipped: Counter[str] | None = None) -> list[ListEntry]:
    """The shipped layout: record_id, list_code, list_name, name, aliases (" | "), country_codes (";"), ..."""
    entries = []
    for line, row in _csv_rows(path, "chipgate-csv", REQUIRED_COLUMNS):
        for column in ("record_id", "list_code", "name"):
            if not row[column].strip():
                raise InputError(f"line {line}: {column}", f"must not be empty in {path.name}")
        code = row["list_code"].strip()
        entries.append(
            ListEntry(
                record_id=row["record_id"].strip(),
                list_code=code,
                list_name=row["list_name"].strip() or code,
                name=row["name"].strip(),
                aliases=tuple(row["aliases"].split(ALIAS_SEPARATOR)),
                countries=tuple(_codes(row["country_codes"].split(COUNTRY_SEPARATOR))),
                identifiers=tuple(row.get("identifiers", "").split(ALIAS_SEPARATOR)),
            )
        )
    return finish_entries(entries)


# --- shared --------------------------------------------------------------------------


def finish_entries(entries: Iterable[ListEntry]) -> list[ListEntry]:
    """Entries as a snapshot stores them, so that storing and loading gives them back unchanged.

    Text is stripped, empty and repeated aliases, countries and identifiers dropped (an
    alias or identifier holding the list separator "|" becomes several); a known list
    code gets its name from list_sources.yaml and an unknown one the first name seen for
    it; records sharing an id are merged when they are the same party on the same list
    and otherwise told apart by their list code. Sorted by list code, then record id.
    """
    known = source_table().lists
    names: dict[str, str] = {}
    cleaned: list[ListEntry] = []
    for entry in entries:
        code = entry.list_code.strip()
        # A list's name is written to the YAML meta file, which reads some line breaks
        # (NEL, U+2028) as spaces; it is a label, so its whitespace is made plain.
        label = " ".join(entry.list_name.split()) or code
        list_name = known[code].name if code in known else names.setdefault(code, label)
        name = entry.name.strip()
        cleaned.append(
            ListEntry(
                record_id=entry.record_id.strip(),
                list_code=code,
                list_name=list_name,
                name=name,
                aliases=_pieces(entry.aliases),
                countries=_unique(country.strip().upper() for country in entry.countries if country.strip()),
                identifiers=_pieces(entry.identifiers),
            )
        )
    return sorted(_merge_by_id(cleaned), key=lambda entry: (entry.list_code, entry.record_id))


def _pieces(values: Iterable[str]) -> tuple[str, ...]:
    return _unique(piece.strip() for value in values for piece in value.split("|") if piece.strip())


def _merge_by_id(entries: Sequence[ListEntry]) -> list[ListEntry]:
    groups: dict[str, list[ListEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.record_id, []).append(entry)
    out: list[ListEntry] = []
    taken = set(groups)
    for record_id, group in groups.items():
        merged: dict[tuple[str, str], ListEntry] = {}
        for entry in group:
            key = (entry.list_code, entry.name)
            earlier = merged.get(key)
            merged[key] = entry if earlier is None else _union(earlier, entry)
        if len(merged) == 1:
            out.extend(merged.values())
            continue
        # One id for several lists or parties (an OpenSanctions entity on two lists): the
        # snapshot needs one id per entry, so each gets its list code appended.
        for (code, _name), entry in merged.items():
            new_id = f"{record_id}@{code}"
            suffix = 2
            while new_id in taken:
                new_id = f"{record_id}@{code}#{suffix}"
                suffix += 1
            taken.add(new_id)
            out.append(replace(entry, record_id=new_id))
    return out


def _union(first: ListEntry, second: ListEntry) -> ListEntry:
    return replace(
        first,
        aliases=_unique((*first.aliases, *second.aliases)),
        countries=_unique((*first.countries, *second.countries)),
        identifiers=_unique((*first.identifiers, *second.identifiers)),
    )


def _identifier(scheme: str | None, number: str, issuer: str) -> str | None:
    if scheme is None:
        return None
    value = re.sub(r"\s+", " ", number).strip().upper()
    if not value or "|" in value:
        return None
    if scheme in _USCC_CARRIERS and issuer.strip().upper() in ("", "CN") and _USCC.match(value):
        scheme = "USCC"
    return f"{scheme}:{value}"


def _country(text: str) -> str | None:
    code = text.strip().upper()
    if "-" in code:
        # A subdivision such as FollowTheMoney's "ua-cri" is recorded under its country.
        code = code.split("-", 1)[0]
    return code if len(code) == 2 and code in country_codes() else None


def _codes(values: Iterable[Any]) -> list[str]:
    return [code for value in values if isinstance(value, str) and (code := _country(value))]


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _as_list(raw: Any) -> list[Any]:
    if raw is None:
        return []
    return list(raw) if isinstance(raw, list | tuple) else [raw]


def _as_text(raw: Any) -> str:
    return raw.strip() if isinstance(raw, str) else "" if raw is None else str(raw).strip()


def _json_list(raw: Any) -> list[str]:
    if isinstance(raw, str):
        return _split_multi(raw)
    return [text for item in _as_list(raw) if (text := _as_text(item))]
