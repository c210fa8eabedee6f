"""Arrow arrays and scalars built straight from numpy buffers and Python values.

`pa.array` and `pa.scalar` first ask whether their argument is a pandas object, and to ask
they import pandas when it is installed: about 0.2 s, on the critical path of every
batch run, for a library the engine never uses. These builders hand Arrow the buffers
itself, which is also the cheapest way from numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _bitmap(flags: np.ndarray) -> pa.Buffer:
    # Arrow bitmaps are least-significant bit first.
    return pa.py_buffer(np.packbits(flags, bitorder="little"))


def from_numpy(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """`values` as an Arrow array of the matching type; null where `valid` is False."""
    n = len(values)
    if values.dtype == np.bool_:
        kind: pa.DataType = pa.bool_()
        data = _bitmap(values)
    else:
        values = np.ascontiguousarray(values)
        kind = pa.from_numpy_dtype(values.dtype)
        data = pa.py_buffer(values)
    if valid is None or bool(valid.all()):
        return pa.Array.from_buffers(kind, n, [None, data], null_count=0)
    return pa.Array.from_buffers(kind, n, [_bitmap(valid), data], null_count=n - int(valid.sum()))


def strings(values: Sequence[str | None]) -> pa.Array:
    """A UTF-8 string array of `values` (None is null)."""
    encoded = [b"" if value is None else value.encode() for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    valid = np.fromiter((value is not None for value in values), dtype=bool, count=len(values))
    validity = None if bool(valid.all()) else _bitmap(valid)
    return pa.Array.from_buffers(
        pa.string(),
        len(encoded),
        [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))],
        null_count=len(values) - int(valid.sum()),
    )


def decimals(values: Sequence[Decimal | None], kind: pa.DataType) -> pa.Array:
    """Decimal values in the decimal type `kind`; a value with more digits than it holds is an error."""
    return pc.cast(strings([None if value is None else format(value, "f") for value in values]), kind)


def scalar(value: Any, kind: pa.DataType) -> pa.Scalar:
    """One value as an Arrow scalar of type `kind`, for compute functions."""
    if isinstance(value, str):
        return pc.cast(strings([value]), kind)[0]
    if isinstance(value, Decimal):
        return decimals([value], kind)[0]
    return pc.cast(from_numpy(np.array([value])), kind)[0]


def to_numpy(array: pa.Array) -> np.ndarray:
    """The values of a fixed-width array (numbers, dates, flags) as numpy, read from its buffer.

    A null's slot holds whatever its buffer holds there: callers mask or fill nulls first.
    """
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    kind = array.type
    start, n = array.offset, len(array)
    data = array.buffers()[1]
    if pa.types.is_boolean(kind):
        if data is None:
            return np.zeros(n, dtype=bool)
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little", count=start + n)
        return bits[start:].astype(bool)
    dtype = np.dtype(f"<i{kind.byte_width}") if pa.types.is_date(kind) else np.dtype(kind.to_pandas_dtype())
    if data is None:
        return np.zeros(n, dtype=dtype)
    return np.frombuffer(data, dtype=dtype, count=start + n)[start:]


def integers(array: pa.Array, missing: int) -> np.ndarray:
    """An integer array's values as int64, `missing` where null."""
    if array.null_count:
        array = pc.fill_null(array, scalar(missing, array.type))
    return to_numpy(array).astype(np.int64)


def valid(array: pa.Array) -> np.ndarray:
    """True where `array` holds a value."""
    if array.null_count == 0:
        return np.ones(len(array), dtype=bool)
    return to_numpy(array.is_valid())


def flags(array: pa.Array) -> np.ndarray:
    """A boolean array as numpy, missing read as False."""
    if array.null_count:
        array = pc.fill_null(array, FALSE)
    return to_numpy(array)


FALSE = from_numpy(np.array([False]))[0]
