"""Decide whole order books: the flattened shipment contract in, one decision per row out.

    from chipgate.batch import decide_batch
    decisions = decide_batch(orders)          # a pyarrow Table, or a polars / pandas DataFrame

Each distinct decision key is decided once by the single-shipment `chipgate.decide`, so
the batch and the single path cannot disagree; see docs/batch.md.
"""

from chipgate.batch._api import decide_batch, split_list, split_reasons
from chipgate.batch._columns import INPUT_COLUMNS, OUTPUT_COLUMNS
from chipgate.batch._engine import BatchEngine

__all__ = ["INPUT_COLUMNS", "OUTPUT_COLUMNS", "BatchEngine", "decide_batch", "split_list", "split_reasons"]
