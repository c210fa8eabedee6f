"""Decision keys as integers: value codes that hold across batches, distinct rows within one.

A decision reads a row only through its key columns, so the engine decides each distinct
combination once. Each key column's values get codes that stay the same for the life of
the engine (0 is missing), whatever dictionary or order a batch brings them in; a row's
key is then a row of small integers, which numpy de-duplicates without touching Python
objects, and a distinct key is looked up among the keys decided before by its bytes.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chipgate.batch._arrow import from_numpy, integers, to_numpy, valid

# Beyond this many combined codes, the key is re-numbered densely before the next column
# is folded in, so the combined code always fits in an int64.
_CODE_LIMIT = 1 << 62
# Re-numbering uses a lookup table instead of a hash up to this many possible codes, or
# four per row if that is more.
_TABLE_MIN = 1 << 16


class _NaN:
    """Stands for NaN as a dictionary key: NaN is not equal to itself, so it could never be found."""


_NAN_KEY = _NaN()


def _lookup_key(value: Any) -> Hashable:
    return _NAN_KEY if value != value else value


class ValueCodes:
    """Codes for the values one key column has held: equal values, equal codes, in every batch."""

    def __init__(self) -> None:
        self._codes: dict[Hashable, int] = {}
        # values[code] is the value as the contract gives it; code 0 is missing.
        self.values: list[Any] = [None]

    def __len__(self) -> int:
        return len(self.values)

    def codes(self, array: pa.Array) -> np.ndarray:
        """The code of each row's value (int64; 0 where missing)."""
        local, to_global = self.local(array)
        codes: np.ndarray = to_global[local]
        return codes

    def local(self, array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """(each row's code within this batch, 0 where missing; the lasting code of each batch code).

        Rows are told apart by their batch codes, which a dictionary column already holds;
        only the distinct keys need the lasting codes.
        """
        n = len(array)
        if not pa.types.is_dictionary(array.type) and array.null_count * 4 > n * 3:
            # Mostly missing (spec columns when most rows name a catalogue chip): code the few values only.
            rows = np.nonzero(valid(array))[0]
            present, to_global = self.local(array.take(from_numpy(rows)))
            local = np.zeros(n, dtype=np.int64)
            local[rows] = present
            return local, to_global
        encoded = array if pa.types.is_dictionary(array.type) else pc.dictionary_encode(array)
        distinct = encoded.dictionary.to_pylist()
        to_global = np.zeros(len(distinct) + 1, dtype=np.int64)
        to_global[1:] = np.fromiter(map(self._code_of, distinct), dtype=np.int64, count=len(distinct))
        indices = encoded.indices
        local = np.add(to_numpy(indices), 1, dtype=np.int64)
        if indices.null_count:
            # A missing value's index slot holds anything.
            local *= valid(indices)
        return local, to_global

    def _code_of(self, value: Any) -> int:
        key = _lookup_key(value)
        code = self._codes.get(key)
        if code is None:
            code = self._codes[key] = len(self.values)
            self.values.append(value)
        return code


def _renumber(key: np.ndarray, space: int) -> tuple[np.ndarray, int]:
    """Dense codes 0..m-1 for the distinct values of `key` (all < space)."""
    if space <= max(4 * len(key), _TABLE_MIN):
        # A table of every possible code costs less than hashing when codes are few.
        seen = np.zeros(space, dtype=bool)
        seen[key] = True
        rank = np.cumsum(seen, dtype=np.int64) - 1
        return rank[key], int(np.count_nonzero(seen))
    encoded = pc.dictionary_encode(from_numpy(key))
    return integers(encoded.indices, 0), len(encoded.dictionary)


def distinct_keys(parts: Sequence[tuple[np.ndarray, int]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(slot of each row, first row of each slot) for the combination of the coded columns.

    Each part is (codes, number of possible codes).
    """
    key = np.zeros(n, dtype=np.int64)
    space = 1
    for codes, size in parts:
        if space * size >= _CODE_LIMIT:
            key, space = _renumber(key, space)
        key *= size
        key += codes
        space *= size
    slot, count = _renumber(key, space) if n else (key, 0)
    first = np.empty(count, dtype=np.int64)
    first[slot[::-1]] = np.arange(n - 1, -1, -1, dtype=np.int64)
    return slot, first


def key_bytes(columns: Sequence[np.ndarray]) -> list[bytes]:
    """Each row of the integer `columns` as one bytes value, a dictionary key for the whole row."""
    matrix = np.ascontiguousarray(np.column_stack(columns), dtype=np.int64)
    # Viewed as one fixed-size void value per row, numpy makes the bytes objects in C.
    rows = matrix.view(np.dtype((np.void, matrix.shape[1] * 8))).ravel().tolist()
    return cast(list[bytes], rows)
