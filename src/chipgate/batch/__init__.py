"""Decide whole order books: the flattened shipment contract in, one decision per row out.

    from chipgate.batch import decide_batch
    decisions = decide_batch(orders)          # a pyarrow Table, or a polars / pandas DataFrame

Each distinct decision key is decided once by the single-shipment `chipgate.decide`, so
the batch and the single path cannot disagree; see docs/batch.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chipgate.batch._api import decide_batch, split_list, split_reasons
    from chipgate.batch._columns import INPUT_COLUMNS, OUTPUT_COLUMNS
    from chipgate.batch._engine import BatchEngine

__all__ = ["INPUT_COLUMNS", "OUTPUT_COLUMNS", "BatchEngine", "decide_batch", "split_list", "split_reasons"]

# Where each public name lives; they load on first use so that `chipgate --help` and the
# single-shipment commands do not import Arrow and Polars.
_HOMES = {
    "decide_batch": "chipgate.batch._api",
    "split_list": "chipgate.batch._api",
    "split_reasons": "chipgate.batch._api",
    "INPUT_COLUMNS": "chipgate.batch._columns",
    "OUTPUT_COLUMNS": "chipgate.batch._columns",
    "BatchEngine": "chipgate.batch._engine",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'chipgate.batch' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
