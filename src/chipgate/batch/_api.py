"""`decide_batch`: a table of shipments in, the same rows with their decisions out, same kind of table."""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any

import pyarrow as pa

from chipgate.batch._columns import LIST_SEPARATOR, PART_SEPARATOR
from chipgate.batch._engine import BatchEngine
from chipgate.batch._settings import BATCH_ROWS
from chipgate.rulebook import Rulebook, default_rulebook

_ENGINES: dict[str, BatchEngine] = {}
_ENGINES_LOCK = threading.Lock()


def engine_for(rulebook: Rulebook | None = None) -> BatchEngine:
    """The engine (and its remembered answers) for a rulebook version, shared within a process."""
    book = rulebook or default_rulebook()
    with _ENGINES_LOCK:
        engine = _ENGINES.get(book.version)
        if engine is None:
            engine = _ENGINES[book.version] = BatchEngine(book)
    return engine


def to_arrow(table: Any) -> tuple[str, pa.Table]:
    """('arrow' | 'polars' | 'pandas', the data as an Arrow table)."""
    if isinstance(table, pa.Table):
        return "arrow", table
    if isinstance(table, pa.RecordBatch):
        return "arrow", pa.Table.from_batches([table])
    module = type(table).__module__.split(".")[0]
    if module == "polars":
        return "polars", table.to_arrow()
    if module == "pandas":
        return "pandas", pa.Table.from_pandas(table, preserve_index=False)
    raise TypeError(f"decide_batch takes a pyarrow Table or a polars/pandas DataFrame, not {type(table).__name__}")


def from_arrow(table: pa.Table, kind: str) -> Any:
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(table)
    if kind == "pandas":
        return table.to_pandas()
    return table


def plain_strings(table: pa.Table) -> pa.Table:
    """Dictionary-encoded text columns as plain text, the form a caller expects from a table."""
    fields = [
        pa.field(f.name, f.type.value_type, f.nullable) if pa.types.is_dictionary(f.type) else f for f in table.schema
    ]
    return table.cast(pa.schema(fields))


def decide_table(
    table: pa.Table, engine: BatchEngine, on: dt.date | None = None, batch_rows: int = BATCH_ROWS
) -> pa.Table:
    parts = [engine.decide(batch, on) for batch in table.to_batches(max_chunksize=batch_rows)]
    if not parts:
        parts = [engine.decide(pa.RecordBatch.from_pylist([], schema=table.schema), on)]
    schema = plain_strings(parts[0]).schema
    return pa.concat_tables([plain_strings(p).cast(schema) for p in parts])


def decide_batch(table: Any, *, on: dt.date | None = None, rulebook: Rulebook | None = None) -> Any:
    """Decide every row of an order book under the rules in force on its date (or on `on`).

    `table` is a pyarrow Table or a polars/pandas DataFrame with the flattened shipment
    columns (see docs/batch.md); the result is the same kind of table with the decision
    columns added. A row that cannot be decided carries a message in `error`.
    """
    kind, arrow = to_arrow(table)
    return from_arrow(decide_table(arrow, engine_for(rulebook), on), kind)


_NEXT_ITEM = re.compile(re.escape(LIST_SEPARATOR) + r"(?=[\w.\-]+" + re.escape(PART_SEPARATOR) + ")")


def split_reasons(cell: str | None) -> list[tuple[str, str, str]]:
    """The `reasons` cell as (rule, citation, effective_from) triples.

    Citations may themselves contain '; ', so an item starts only where a rule id and '|' follow.
    """
    if not cell:
        return []
    out = []
    for item in _NEXT_ITEM.split(cell):
        rule, citation, since = item.split(PART_SEPARATOR)
        out.append((rule, citation, since))
    return out


def split_list(cell: str | None) -> list[str]:
    """A list cell (licence conditions, restricted-party hits) as its items."""
    return cell.split(LIST_SEPARATOR) if cell else []
