"""Settings the command line reads before any columnar library is loaded."""

from __future__ import annotations

# Rows decided per step: large enough that per-step overhead vanishes, small enough that
# memory stays bounded (a few hundred MB at most) whatever the size of the book.
BATCH_ROWS = 262_144
FORMATS = ("parquet", "csv", "jsonl")
