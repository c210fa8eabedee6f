"""Replay one order book under several dates and count what changed between them."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from chipgate.batch._api import engine_for
from chipgate.batch._arrow import from_numpy
from chipgate.batch._columns import ADDED_COLUMNS
from chipgate.batch._io import atomic_output, format_of, open_reader
from chipgate.batch._run import Progress, _Ahead
from chipgate.batch._settings import BATCH_ROWS
from chipgate.errors import InputError
from chipgate.rulebook import Rulebook

# What is compared per date: the outcome with its review policy, e.g.
# 'needs_authorization/presumption_of_denial' -> 'needs_authorization/case_by_case'.
COMPARED = ("outcome", "review_policy", "license_required", "china_approval_required", "duty_amount_usd")


@dataclass
class ReplayReport:
    dates: tuple[dt.date, ...]
    rows: int = 0
    changed_rows: int = 0
    by_date: dict[dt.date, Counter[str]] = field(default_factory=dict)
    transitions: dict[tuple[int, str, str], int] = field(default_factory=dict)
    seconds: float = 0.0
    output: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dates": [d.isoformat() for d in self.dates],
            "rows": self.rows,
            "changed_rows": self.changed_rows,
            "by_date": {d.isoformat(): dict(sorted(c.items())) for d, c in self.by_date.items()},
            "transitions": [
                {
                    "from_date": self.dates[i].isoformat(),
                    "to_date": self.dates[i + 1].isoformat(),
                    "from": before,
                    "to": after,
                    "rows": count,
                }
                for (i, before, after), count in sorted(self.transitions.items(), key=lambda kv: (kv[0][0], -kv[1]))
            ],
            "seconds": round(self.seconds, 3),
            "output": self.output,
        }


def state(table: pa.Table) -> pa.Array:
    """Per row: 'error', the outcome, or 'needs_authorization/<review policy>'."""
    frame = pl.from_arrow(table.select(["outcome", "review_policy", "error"]))
    assert isinstance(frame, pl.DataFrame)
    return (
        frame.select(
            pl.when(pl.col("error").is_not_null())
            .then(pl.lit("error"))
            .when(pl.col("review_policy").is_not_null())
            .then(pl.col("outcome").cast(pl.String) + "/" + pl.col("review_policy").cast(pl.String))
            .otherwise(pl.col("outcome").cast(pl.String))
            .alias("state")
        )
        .to_series()
        .to_arrow()
    )


def replay_file(
    source: str | os.PathLike[str],
    dates: Sequence[dt.date],
    *,
    input_format: str | None = None,
    output: str | os.PathLike[str] | None = None,
    output_format: str | None = None,
    rulebook: Rulebook | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> ReplayReport:
    """Decide `source` under each of `dates`; per-row comparison to `output` if given."""
    if len(dates) < 2:
        raise InputError("--dates", "give at least two dates, comma-separated, e.g. 2023-01-01,2026-03-01")
    reader = open_reader(source, format_of(source, input_format, "--input-format"), batch_rows)
    engine = engine_for(rulebook)
    report = ReplayReport(dates=tuple(dates), output=str(output) if output is not None else None)
    report.by_date = {d: Counter() for d in dates}
    fmt = format_of(output, output_format, "--format") if output is not None else ""
    started = time.perf_counter()
    with atomic_output(output, fmt) as writer, _Ahead(reader.batches()) as ahead:
        for batch in ahead:
            decided = [engine.decide(batch, day) for day in dates]
            states = [state(t) for t in decided]
            for day, column in zip(dates, states, strict=True):
                for value, count in _counts(column).items():
                    report.by_date[day][value] += count
            changed = from_numpy(np.zeros(batch.num_rows, dtype=bool))
            for i in range(len(dates) - 1):
                before, after = states[i], states[i + 1]
                moved = pc.not_equal(before, after)
                changed = pc.or_(changed, moved)
                pairs = pl.DataFrame({"from": before, "to": after}).filter(pl.col("from") != pl.col("to"))
                for row in pairs.group_by(["from", "to"]).len().iter_rows():
                    key = (i, row[0], row[1])
                    report.transitions[key] = report.transitions.get(key, 0) + row[2]
            report.changed_rows += int(pc.sum(changed).as_py() or 0)
            if writer is not None:
                writer.write(_comparison(decided, states, dates, changed, report.rows))
            report.rows += batch.num_rows
            if progress is not None:
                progress(batch.num_rows)
    report.seconds = time.perf_counter() - started
    return report


def _counts(column: pa.Array) -> dict[str, int]:
    return {row["values"]: row["counts"] for row in pc.value_counts(column).to_pylist()}


def _comparison(
    decided: list[pa.Table], states: list[pa.Array], dates: Sequence[dt.date], changed: pa.Array, offset: int
) -> pa.Table:
    """The input columns, then per date its state and the compared fields, then whether anything changed."""
    base = decided[0]
    carried = [name for name in base.schema.names if name not in ADDED_COLUMNS]
    table = base.select(carried)
    if "id" not in carried:
        numbers = np.arange(offset + 1, offset + base.num_rows + 1, dtype=np.int64)
        table = table.add_column(0, "row", from_numpy(numbers))
    for day, decision, column in zip(dates, decided, states, strict=True):
        table = table.append_column(f"state@{day.isoformat()}", column)
        for name in COMPARED:
            table = table.append_column(f"{name}@{day.isoformat()}", decision.column(name))
    return table.append_column("changed", changed)
