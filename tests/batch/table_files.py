"""Tables written as the batch commands read them: Parquet, CSV or JSON Lines, by the file's suffix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl


def write_table(path: Path, rows: list[dict[str, Any]]) -> Path:
    frame = pl.DataFrame(rows, infer_schema_length=None)
    if path.suffix == ".parquet":
        frame.write_parquet(path)
    elif path.suffix == ".csv":
        frame.write_csv(path)
    else:
        frame.write_ndjson(path)
    return path
