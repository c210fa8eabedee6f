"""Read order books and write decisions as Parquet, CSV or JSON Lines, one record batch at a time."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from chipgate.batch._columns import INPUT_COLUMNS, KEY_STRING_COLUMNS, OTHER_STRING_COLUMNS, column_for_field
from chipgate.batch._settings import FORMATS
from chipgate.errors import InputError

_EXTENSIONS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# CSV blocks are read this many bytes at a time (about 100,000 order lines).
_CSV_BLOCK_BYTES = 24 << 20


def format_of(path: str | os.PathLike[str], given: str | None, field: str) -> str:
    """The format named by `given`, else by the file's extension."""
    if given is not None:
        if given not in FORMATS:
            raise InputError(field, f"{given!r} is not a format; use one of {', '.join(FORMATS)}")
        return given
    suffix = Path(path).suffix.lower()
    if suffix not in _EXTENSIONS:
        raise InputError(field, f"cannot tell the format of {str(path)!r}; name it .parquet, .csv or .jsonl or pass it")
    return _EXTENSIONS[suffix]


class Reader(Protocol):
    total_rows: int | None

    def batches(self) -> Iterator[pa.RecordBatch]: ...


class ParquetReader:
    def __init__(self, path: str | os.PathLike[str], batch_rows: int) -> None:
        schema = pq.read_schema(path)
        # Text columns of the contract come back as dictionary codes: equal codes, equal values,
        # so keys need no hashing and checks run once per distinct value.
        text = [
            name
            for name in (*KEY_STRING_COLUMNS, *OTHER_STRING_COLUMNS)
            if name in schema.names and _is_plain_text(schema.field(name).type)
        ]
        self._file = pq.ParquetFile(path, read_dictionary=text)
        self._batch_rows = batch_rows
        self.total_rows: int | None = self._file.metadata.num_rows

    def batches(self) -> Iterator[pa.RecordBatch]:
        # Decoded on the reading thread alone: the deciding and writing threads keep the other
        # cores busy, and Arrow's pool threads on top of them slowed the whole run (8% on two cores).
        yield from self._file.iter_batches(batch_size=self._batch_rows, use_threads=False)


class CsvReader:
    def __init__(self, path: str | os.PathLike[str], batch_rows: int) -> None:
        self._path = path
        self.total_rows: int | None = None

    def batches(self) -> Iterator[pa.RecordBatch]:
        # Contract columns are read as text and parsed by the engine, so one bad value marks
        # its row instead of stopping the reader.
        # Only an empty cell is missing: Arrow's default null markers include "NA", which is
        # Namibia's country code, and "NULL" or "N/A", which could be names.
        convert = pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in (*INPUT_COLUMNS, "id")},
            strings_can_be_null=True,
            null_values=[""],
        )
        reader = pa_csv.open_csv(
            self._path, read_options=pa_csv.ReadOptions(block_size=_CSV_BLOCK_BYTES), convert_options=convert
        )
        yield from reader


class JsonLinesReader:
    """One JSON object per line, flat (`consignee_name`) or nested as in the single-shipment contract."""

    def __init__(self, path: str | os.PathLike[str], batch_rows: int) -> None:
        self._path = path
        self._batch_rows = batch_rows
        self.total_rows: int | None = None

    def batches(self) -> Iterator[pa.RecordBatch]:
        with open(self._path, "rb") as fh:
            while True:
                lines = [line for line in _take(fh, self._batch_rows) if line.strip()]
                if not lines:
                    return
                table = _flatten(_json_table(lines))
                yield from table.to_batches()


def _take(fh: io.BufferedReader, count: int) -> list[bytes]:
    out = []
    for line in fh:
        out.append(line)
        if len(out) >= count:
            break
    return out


def _json_table(lines: list[bytes]) -> pa.Table:
    try:
        return pl.read_ndjson(io.BytesIO(b"".join(lines)), infer_schema_length=None).to_arrow()
    except Exception:
        # A line that is not JSON: find it and name it.
        for number, line in enumerate(lines, 1):
            try:
                json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError("input", f"line {number} of a block is not JSON ({exc.msg})") from None
        raise


def _flatten(table: pa.Table) -> pa.Table:
    """Nested objects as flat columns: consignee.name -> consignee_name, item.spec.dense_tops.fp8 -> ..._dense_fp8."""
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    names = [column_for_field(name) for name in table.schema.names]
    table = table.rename_columns(names)
    # Text columns of the contract stay text even if one block only holds numbers or nothing.
    text = {*KEY_STRING_COLUMNS, *OTHER_STRING_COLUMNS, "date"}
    for i, field in enumerate(table.schema):
        if field.name in text and not pa.types.is_string(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.string()))
    return table


def open_reader(path: str | os.PathLike[str], fmt: str, batch_rows: int) -> Reader:
    if not Path(path).exists():
        raise InputError("input", f"{str(path)!r} does not exist")
    readers: dict[str, type[ParquetReader] | type[CsvReader] | type[JsonLinesReader]] = {
        "parquet": ParquetReader,
        "csv": CsvReader,
        "jsonl": JsonLinesReader,
    }
    return readers[fmt](path, batch_rows)


class Writer:
    """Writes decided tables to one file as they come; the schema is fixed by the first table."""

    def __init__(self, path: str | os.PathLike[str], fmt: str) -> None:
        self.path = Path(path)
        self.fmt = fmt
        self._schema: pa.Schema | None = None
        self._sink: Any = None
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if self._schema is None:
            self._schema = _writable(table.schema, self.fmt)
            self._open(self._schema)
        table = _conform(table, self._schema)
        if self.fmt in ("parquet", "csv"):
            self._sink.write_table(table)
        else:
            pl.from_arrow(table).write_ndjson(self._sink)  # type: ignore[union-attr]
        self.rows += table.num_rows

    def _open(self, schema: pa.Schema) -> None:
        if self.fmt == "parquet":
            # Statistics only where readers filter (dates, outcome): on every column they cost
            # a third of the writing time.
            stats = [n for n in ("date", "as_of", "outcome", "license_required") if n in schema.names]
            # Dictionary pages only for columns that already are dictionaries: trying them on
            # unique ids or prices and falling back costs more than it saves.
            encoded = [f.name for f in schema if pa.types.is_dictionary(f.type)]
            # Their pages hold bit-packed codes, which snappy shrinks by 1-2% at a tenth of the
            # writing time: only the other columns are compressed.
            compression = {f.name: "none" if f.name in encoded else "snappy" for f in schema}
            self._sink = pq.ParquetWriter(
                self.path, schema, write_statistics=stats, use_dictionary=encoded, compression=compression
            )
        elif self.fmt == "csv":
            self._sink = pa_csv.CSVWriter(self.path, schema)
        else:
            self._sink = open(self.path, "wb")  # noqa: SIM115 - closed in close()

    def close(self, schema: pa.Schema | None = None) -> None:
        if self._sink is None and schema is not None:
            # An empty book still gets a file with the header / schema.
            self._schema = _writable(schema, self.fmt)
            self._open(self._schema)
        if self._sink is not None:
            self._sink.close()
            self._sink = None


@contextmanager
def atomic_output(output: str | os.PathLike[str] | None, fmt: str) -> Iterator[Writer | None]:
    """A writer to a hidden file beside `output`, renamed into place only when the block ends
    without error: a failure or a strict stop never leaves half a file. The block closes the
    writer (with the schema an empty book needs); closing again here is harmless."""
    if output is None:
        yield None
        return
    target = Path(output)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    writer = Writer(partial, fmt)
    try:
        yield writer
    except BaseException:
        writer.close()
        partial.unlink(missing_ok=True)
        raise
    writer.close()
    partial.replace(target)


def _writable(schema: pa.Schema, fmt: str) -> pa.Schema:
    """The file schema: no untyped columns; dictionary text stays encoded only in Parquet."""
    fields = []
    for field in schema:
        kind = field.type
        if pa.types.is_dictionary(kind) and (fmt != "parquet" or not pa.types.is_string(kind.value_type)):
            kind = kind.value_type
        if pa.types.is_dictionary(kind):
            kind = pa.dictionary(pa.int32(), pa.string())
        if pa.types.is_null(kind):
            kind = pa.string()
        fields.append(pa.field(field.name, kind))
    return pa.schema(fields)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    if table.schema.names != schema.names:
        missing = [n for n in schema.names if n not in table.schema.names]
        for name in missing:
            table = table.append_column(name, pa.nulls(table.num_rows, schema.field(name).type))
        table = table.select(schema.names)
    return table if table.schema == schema else table.cast(schema)


def _is_plain_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))
