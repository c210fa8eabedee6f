"""Screen every party of a table (CSV, JSON Lines, Parquet) against the restricted-party lists.

    chipgate batch screen parties.csv -o hits.csv

Each row's name (with its country and identifiers when the table has them) is screened by
`chipgate.screening.screen_with`, the function behind `chipgate screen` and
`POST /v1/screen`, so a row's hits are exactly what screening that party alone gives.
Order books repeat their customers, so each distinct (name, country, identifiers) is
screened once per run. The output has one row per hit; a row without hits is counted as
clear in the summary, and a row that cannot be screened (an empty name, a bad country
code) is written with its error and counted, or with `strict` stops the run.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from chipgate.batch._io import atomic_output, format_of, open_reader
from chipgate.batch._row_errors import FIRST_ERRORS, StrictStop, row_error
from chipgate.batch._settings import BATCH_ROWS
from chipgate.errors import InputError
from chipgate.parties import RestrictedPartyList
from chipgate.screening import Fields, Screening, parse_list_codes, party_lists, screen_with

__all__ = [
    "HIT_FIELDS",
    "IDENTIFIER_SEPARATOR",
    "STRENGTHS",
    "ScreenSummary",
    "StrictStop",
    "TableScreener",
    "screen_file",
    "screen_table",
]

STRENGTHS = ("possible", "match")
# Several identifiers in one cell: "USCC:9111... | DUNS:123456789", as in the list file.
IDENTIFIER_SEPARATOR = "|"
DEFAULT_NAME_COLUMN = "name"
DEFAULT_COUNTRY_COLUMN = "country"
DEFAULT_ID_COLUMN = "id"
DEFAULT_IDENTIFIERS_COLUMN = "identifiers"

# The columns of the output after `row` (and the input's id column, when it has one).
HIT_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("query", pa.string()),
    ("country", pa.string()),
    ("rank", pa.int32()),
    ("record_id", pa.string()),
    ("list", pa.string()),
    ("name", pa.string()),
    ("matched_name", pa.string()),
    ("score", pa.float64()),
    ("strength", pa.string()),
    ("entry_fingerprint", pa.string()),
    ("snapshot", pa.string()),
    ("error", pa.string()),
)

Progress = Callable[[int], None]


@dataclass
class ScreenSummary:
    """What a run found, per input row: its best hit a match, a possible match, clear, or an error."""

    snapshot: str
    matcher: str
    rows: int = 0
    match: int = 0
    possible: int = 0
    clear: int = 0
    errors: int = 0
    # Distinct (name, country, identifiers) screened, and hit rows written.
    distinct: int = 0
    hits: int = 0
    seconds: float = 0.0
    first_errors: list[str] = field(default_factory=list)
    output: str | None = None

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "match": self.match,
            "possible": self.possible,
            "clear": self.clear,
            "errors": self.errors,
            "distinct_parties": self.distinct,
            "hits_written": self.hits,
            "snapshot": self.snapshot,
            "matcher": self.matcher,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second),
            "first_errors": self.first_errors,
            "output": self.output,
        }


@dataclass(frozen=True)
class _Columns:
    name: str
    country: str | None
    id: str | None
    identifiers: str | None


class TableScreener:
    """Screens tables one batch at a time, remembering each distinct party's screening for the run."""

    def __init__(
        self,
        *,
        lists: RestrictedPartyList | str | None = None,
        list_codes: Sequence[str] | None = None,
        min_strength: str = "possible",
        name_column: str = DEFAULT_NAME_COLUMN,
        country_column: str | None = None,
        id_column: str | None = None,
        identifiers_column: str | None = None,
        on: dt.date | None = None,
    ) -> None:
        if min_strength not in STRENGTHS:
            raise InputError("--min-strength", f"{min_strength!r} is not a strength; use {' or '.join(STRENGTHS)}")
        self.lists = lists if isinstance(lists, RestrictedPartyList) else party_lists(lists, "--lists")
        self.list_codes = parse_list_codes(list_codes, self.lists, "--list") if list_codes else None
        self.min_strength: Literal["possible", "match"] = "match" if min_strength == "match" else "possible"
        self.matcher = self.lists.matcher().name
        self._requested = _Columns(name_column, country_column, id_column, identifiers_column)
        self._columns: _Columns | None = None
        self._fields = Fields(
            name=name_column,
            country=country_column or DEFAULT_COUNTRY_COLUMN,
            identifiers=identifiers_column or DEFAULT_IDENTIFIERS_COLUMN,
            list_codes="--list",
            lists="--lists",
        )
        self._on = on or dt.date.today()
        self._seen: dict[tuple[Any, Any, Any], Screening | InputError] = {}

    @property
    def distinct(self) -> int:
        return len(self._seen)

    def schema(self) -> pa.Schema:
        """The output's schema (known once the first table has been seen, for its id column)."""
        columns = self._columns or self._requested
        fields = [pa.field("row", pa.int64())]
        if columns.id is not None:
            fields.append(pa.field(columns.id, pa.string()))
        return pa.schema([*fields, *(pa.field(name, kind) for name, kind in HIT_FIELDS)])

    def columns_of(self, names: Sequence[str]) -> _Columns:
        """Which columns to read: the name column must exist; the others are used when present,
        and must exist when named explicitly."""
        if self._columns is not None:
            return self._columns
        wanted = self._requested
        if wanted.name not in names:
            raise InputError("--name-column", f"{wanted.name!r} is not a column; the columns are {_listed(names)}")
        chosen: dict[str, str | None] = {}
        for option, given, default in (
            ("--country-column", wanted.country, DEFAULT_COUNTRY_COLUMN),
            ("--id-column", wanted.id, DEFAULT_ID_COLUMN),
            ("--identifiers-column", wanted.identifiers, DEFAULT_IDENTIFIERS_COLUMN),
        ):
            if given is not None and given not in names:
                raise InputError(option, f"{given!r} is not a column; the columns are {_listed(names)}")
            chosen[option] = given if given is not None else (default if default in names else None)
        self._columns = _Columns(
            wanted.name, chosen["--country-column"], chosen["--id-column"], chosen["--identifiers-column"]
        )
        return self._columns

    def screen(self, table: pa.Table | pa.RecordBatch, offset: int, summary: ScreenSummary) -> pa.Table:
        """The hit rows (and error rows) of `table`, whose first row is input row `offset + 1`;
        counts each row in `summary`."""
        columns = self.columns_of(table.schema.names)
        names = _text(table, columns.name)
        countries = _text(table, columns.country)
        ids = _text(table, columns.id)
        identifiers = _text(table, columns.identifiers)
        out: dict[str, list[Any]] = {"row": []}
        if columns.id is not None:
            out[columns.id] = []
        for name, _ in HIT_FIELDS:
            out[name] = []
        for i in range(table.num_rows):
            row = offset + i + 1
            found = self._screening(names[i], countries[i], identifiers[i])
            summary.rows += 1
            if isinstance(found, InputError):
                summary.errors += 1
                if len(summary.first_errors) < FIRST_ERRORS:
                    summary.first_errors.append(row_error(row, ids[i], found))
                _append(out, columns.id, row, ids[i], names[i], countries[i], error=str(found))
                continue
            strength = found.strength
            if strength == "match":
                summary.match += 1
            elif strength == "possible":
                summary.possible += 1
            else:
                summary.clear += 1
            for rank, hit in enumerate(found.hits, 1):
                if self.min_strength == "match" and hit.strength != "match":
                    continue
                summary.hits += 1
                _append(
                    out,
                    columns.id,
                    row,
                    ids[i],
                    found.query,
                    found.country,
                    rank=rank,
                    record_id=hit.record_id,
                    list=hit.list,
                    name=hit.name,
                    matched_name=hit.matched_name,
                    score=hit.score,
                    strength=hit.strength,
                    entry_fingerprint=hit.entry_fingerprint,
                    snapshot=found.snapshot_id,
                )
        summary.distinct = self.distinct
        return pa.table(out, schema=self.schema())

    def _screening(self, name: str | None, country: str | None, identifiers: str | None) -> Screening | InputError:
        key = (name, country, identifiers)
        found = self._seen.get(key)
        if found is None:
            try:
                found = screen_with(
                    name if name is not None else "",
                    (country.strip() or None) if country is not None else None,
                    identifiers=_split_identifiers(identifiers),
                    lists=self.lists,
                    list_codes=self.list_codes,
                    fields=self._fields,
                    on=self._on,
                )
            except InputError as exc:
                found = exc
            self._seen[key] = found
        return found


def _append(
    out: dict[str, list[Any]],
    id_column: str | None,
    row: int,
    ident: str | None,
    query: str | None,
    country: str | None,
    **values: Any,
) -> None:
    out["row"].append(row)
    if id_column is not None:
        out[id_column].append(ident)
    out["query"].append(query)
    out["country"].append(country)
    for name, _ in HIT_FIELDS[2:]:
        out[name].append(values.get(name))


def _text(table: pa.Table | pa.RecordBatch, column: str | None) -> list[str | None]:
    """A column's values as text (numbers in a name or id column are read as their digits)."""
    if column is None:
        return [None] * table.num_rows
    values = table.column(column)
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    return values.to_pylist()  # type: ignore[no-any-return]


def _split_identifiers(cell: str | None) -> tuple[str, ...]:
    if cell is None:
        return ()
    return tuple(part.strip() for part in cell.split(IDENTIFIER_SEPARATOR) if part.strip())


def _listed(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "(none)"


def screen_table(
    table: pa.Table,
    *,
    lists: RestrictedPartyList | str | None = None,
    list_codes: Sequence[str] | None = None,
    min_strength: str = "possible",
    name_column: str = DEFAULT_NAME_COLUMN,
    country_column: str | None = None,
    id_column: str | None = None,
    identifiers_column: str | None = None,
) -> pa.Table:
    """The hit rows (and error rows) of screening every row of an Arrow table; see `screen_file`."""
    screener = TableScreener(
        lists=lists,
        list_codes=list_codes,
        min_strength=min_strength,
        name_column=name_column,
        country_column=country_column,
        id_column=id_column,
        identifiers_column=identifiers_column,
    )
    summary = ScreenSummary(snapshot=screener.lists.snapshot_id, matcher=screener.matcher)
    return screener.screen(table, 0, summary)


def screen_file(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    input_format: str | None = None,
    output_format: str | None = None,
    lists: RestrictedPartyList | str | None = None,
    list_codes: Sequence[str] | None = None,
    min_strength: str = "possible",
    name_column: str = DEFAULT_NAME_COLUMN,
    country_column: str | None = None,
    id_column: str | None = None,
    identifiers_column: str | None = None,
    strict: bool = False,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> ScreenSummary:
    """Screen the party in each row of `source` and write one row per hit to `output`.

    Columns: `name_column` (required); `country_column`, `id_column` and
    `identifiers_column` ("SCHEME:VALUE | SCHEME:VALUE") are read when the table has
    them (defaults `country`, `id`, `identifiers`) and must exist when named. Hits below
    `min_strength` are not written. The output appears only when the run completes, so
    a failure or a `strict` stop never leaves a file.
    """
    fmt_in = format_of(source, input_format, "--input-format")
    fmt_out = format_of(output, output_format, "--format")
    screener = TableScreener(
        lists=lists,
        list_codes=list_codes,
        min_strength=min_strength,
        name_column=name_column,
        country_column=country_column,
        id_column=id_column,
        identifiers_column=identifiers_column,
    )
    reader = open_reader(source, fmt_in, batch_rows)
    summary = ScreenSummary(snapshot=screener.lists.snapshot_id, matcher=screener.matcher, output=str(output))
    started = time.perf_counter()
    with atomic_output(output, fmt_out) as writer:
        assert writer is not None
        seen = False
        for batch in _batches(reader.batches()):
            seen = True
            hits = screener.screen(batch, summary.rows, summary)
            if strict and summary.errors:
                raise StrictStop(summary.first_errors, "screened")
            writer.write(hits)
            if progress is not None:
                progress(batch.num_rows)
        if not seen:
            # A table without rows: its header still says which columns are there.
            screener.columns_of(_header(source, fmt_in))
        writer.close(screener.schema())
    summary.seconds = time.perf_counter() - started
    return summary


def _header(source: str | os.PathLike[str], fmt: str) -> list[str]:
    """The column names of a table that has no rows (JSON Lines without rows has none)."""
    if fmt == "parquet":
        return list(pq.read_schema(source).names)
    if fmt == "csv":
        return list(pa_csv.open_csv(source).schema.names)
    return []


def _batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The reader's batches; a file that is not a table (an empty CSV file, say) is bad input."""
    try:
        yield from batches
    except pa.ArrowInvalid as exc:
        raise InputError("input", f"cannot read the table: {exc}") from None
