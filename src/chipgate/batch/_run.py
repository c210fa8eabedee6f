"""Stream an order book through the engine: read, decide, write, one bounded batch at a time.

Locally, reading and writing run in their own threads beside the deciding thread (Arrow
releases the interpreter lock while it parses and encodes), with at most a few batches in
flight. With Dask, each batch is decided by a worker with the same per-batch function.
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from chipgate.batch._api import engine_for
from chipgate.batch._io import Writer, atomic_output, format_of, open_reader
from chipgate.batch._ledger import LedgerCheck
from chipgate.batch._row_errors import FIRST_ERRORS, StrictStop, row_error
from chipgate.batch._settings import BATCH_ROWS
from chipgate.errors import ChipgateError
from chipgate.rulebook import Rulebook, default_rulebook

T = TypeVar("T")
_DONE = object()
# Batches in flight per stage; bounds memory to a few batches whatever the book's size.
_DEPTH = 2
# Rows in the first piece a local run decides (see `_ramp_up`).
_FIRST_PIECE = 4096


@dataclass
class Summary:
    """What a run did: rows, rows per outcome, rows with errors, time taken."""

    rows: int = 0
    errors: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    first_errors: list[str] = field(default_factory=list)
    output: str | None = None

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def add(self, table: pa.Table, offset: int) -> None:
        self.rows += table.num_rows
        errors = table.column("error")
        self.errors += table.num_rows - errors.null_count
        for value, count in _counts(table.column("outcome")).items():
            if value is not None:
                self.outcomes[value] += count
        if len(self.first_errors) < FIRST_ERRORS and errors.null_count < table.num_rows:
            self.first_errors += row_errors(table, offset, FIRST_ERRORS - len(self.first_errors))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "errors": self.errors,
            "outcomes": dict(sorted(self.outcomes.items())),
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second),
            "first_errors": self.first_errors,
            "output": self.output,
        }


def _counts(column: pa.ChunkedArray) -> dict[Any, int]:
    return {row["values"]: row["counts"] for row in pc.value_counts(column).to_pylist()}


def row_errors(table: pa.Table, offset: int, limit: int) -> list[str]:
    """'row N (id X): message' for the first rows with an error; rows count from 1 after the header."""
    found = pc.indices_nonzero(pc.is_valid(table.column("error")))
    rows = found.to_pylist()[:limit]
    taken = table.take(found.slice(0, limit))
    ids = taken.column("id").to_pylist() if "id" in table.schema.names else [None] * len(rows)
    return [
        row_error(offset + row + 1, ident, message)
        for row, ident, message in zip(rows, ids, taken.column("error").to_pylist(), strict=True)
    ]


class _Ahead(Iterator[T]):
    """Iterates `items` in a thread started at once, at most `depth` ahead; its exceptions surface here.

    Reading starts when this is made, so whatever the caller does before asking for the
    first item (loading the lists the decisions need) overlaps with reading it.
    """

    def __init__(self, items: Iterable[T], depth: int = _DEPTH) -> None:
        self._items = items
        self._slots: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._produce, daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        try:
            for item in self._items:
                if self._stop.is_set():
                    return
                self._slots.put(item)
            self._slots.put(_DONE)
        except BaseException as exc:
            self._slots.put(exc)

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        item = self._slots.get()
        if item is _DONE:
            self._finished = True
            raise StopIteration
        if isinstance(item, BaseException):
            self._finished = True
            raise item
        return item  # type: ignore[no-any-return]

    def __enter__(self) -> _Ahead[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading ahead; waits for the thread, emptying the slots so that it can see the stop."""
        self._finished = True
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._slots.get_nowait()
            except queue.Empty:
                self._thread.join(0.01)


class _BackgroundWriter:
    """Writes in a thread, at most `depth` tables behind; a failure surfaces on the next call."""

    def __init__(self, writer: Writer, depth: int = _DEPTH) -> None:
        self._writer = writer
        self._slots: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            table = self._slots.get()
            if table is _DONE:
                return
            if self._failure is None:
                try:
                    self._writer.write(table)
                except BaseException as exc:
                    self._failure = exc

    def write(self, table: pa.Table) -> None:
        if self._failure is not None:
            raise self._failure
        self._slots.put(table)

    def close(self) -> None:
        self._slots.put(_DONE)
        self._thread.join()
        if self._failure is not None:
            raise self._failure


Progress = Callable[[int], None]


def decide_file(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str] | None,
    *,
    input_format: str | None = None,
    output_format: str | None = None,
    on: dt.date | None = None,
    rulebook: Rulebook | None = None,
    strict: bool = False,
    ledger: str | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    client: Any = None,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> Summary:
    """Decide every row of `source` and write the rows with their decisions to `output`.

    The output appears only when the run completes: it is written beside the target and
    renamed into place, so --strict or a failure never leaves half a file.
    """
    fmt_in = format_of(source, input_format, "--input-format")
    reader = open_reader(source, fmt_in, batch_rows)
    book = rulebook or default_rulebook()
    summary = Summary(output=str(output) if output is not None else None)
    fmt_out = format_of(output, output_format, "--format") if output is not None else ""
    checker = LedgerCheck(ledger, book) if ledger else None
    started = time.perf_counter()
    first_schema: pa.Schema | None = None
    try:
        with atomic_output(output, fmt_out) as writer:
            background = _BackgroundWriter(writer) if writer is not None else None
            try:
                for table in _decided(reader.batches(), book, on, engine, scheduler, client):
                    if checker is not None:
                        table = checker.apply(table)
                    first_schema = first_schema or table.schema
                    offset = summary.rows
                    summary.add(table, offset)
                    if strict and summary.errors:
                        raise StrictStop(summary.first_errors, "decided")
                    if background is not None:
                        background.write(table)
                    if progress is not None:
                        progress(table.num_rows)
            finally:
                if background is not None:
                    background.close()
            if writer is not None:
                writer.close(first_schema or _empty_schema(book))
    finally:
        if checker is not None:
            checker.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _empty_schema(book: Rulebook) -> pa.Schema:
    empty = pa.RecordBatch.from_pylist([], schema=pa.schema([("date", pa.string())]))
    return engine_for(book).decide(empty).schema


def _ramp_up(batches: Iterable[pa.RecordBatch], first: int = _FIRST_PIECE) -> Iterator[pa.RecordBatch]:
    """The batches, the first one cut into pieces that double in size.

    A fresh run decides most of its distinct keys in its first rows; a small first piece
    lets the writer start while the rest of them are being decided.
    """
    rest = iter(batches)
    for batch in rest:
        start, size = 0, first
        while size < batch.num_rows - start:
            yield batch.slice(start, size)
            start += size
            size *= 2
        yield batch.slice(start) if start else batch
        break
    yield from rest


def _decided(
    batches: Iterator[pa.RecordBatch],
    book: Rulebook,
    on: dt.date | None,
    engine: str,
    scheduler: str | None,
    client: Any,
) -> Iterator[pa.Table]:
    if engine == "local":
        decider = engine_for(book)
        with _Ahead(batches) as ahead:
            decider.prepare()
            for piece in _ramp_up(ahead):
                yield decider.decide(piece, on)
        return
    if engine != "dask":
        raise ChipgateError(f"--engine: {engine!r} is not an engine; use local or dask")
    from chipgate.batch._dask import decide_on_dask

    with _Ahead(batches) as ahead:
        yield from decide_on_dask(ahead, book, on, scheduler=scheduler, client=client)
