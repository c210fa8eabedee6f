"""The engine's column plumbing: arrays built from buffers equal pyarrow's own, and key codes
are equal exactly where the values are, across batches and encodings."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from chipgate.batch._arrow import decimals, from_numpy, strings, to_numpy
from chipgate.batch._columns import MONEY
from chipgate.batch._keys import ValueCodes, distinct_keys, key_bytes

texts = st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=40)
floats = st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)), max_size=40)


@settings(deadline=None)  # the first conversion loads pandas into pyarrow
@given(st.lists(st.integers(-(2**31), 2**31 - 1), max_size=50), st.data())
def test_numbers_from_buffers_equal_pyarrows_conversion(values: list[int], data: st.DataObject) -> None:
    shown = data.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    array = np.array(values, dtype=np.int32)
    mask = np.array(shown, dtype=bool)
    built = from_numpy(array, mask)
    assert built.equals(pa.array(array, mask=~mask))
    assert built.null_count == len(values) - sum(shown)
    start = len(values) // 3
    # Read back through an offset, as a sliced batch is.
    assert [v for v, s in zip(to_numpy(built.slice(start)).tolist(), shown[start:], strict=True) if s] == [
        v for v, s in zip(values[start:], shown[start:], strict=True) if s
    ]


@settings(deadline=None)
@given(st.lists(st.booleans(), max_size=70), st.integers(0, 20))
def test_flags_round_trip_through_bitmaps(values: list[bool], start: int) -> None:
    built = from_numpy(np.array(values, dtype=bool))
    assert built.to_pylist() == values
    assert to_numpy(built.slice(start)).tolist() == values[start:]


@settings(deadline=None)
@given(texts)
def test_strings_from_buffers_equal_pyarrows_conversion(values: list[str | None]) -> None:
    assert strings(values).equals(pa.array(values, pa.string()))


@settings(deadline=None)
@given(st.lists(st.one_of(st.none(), st.decimals(min_value=-(10**17), max_value=10**17, places=6)), max_size=20))
def test_decimals_keep_their_value(values: list[Decimal | None]) -> None:
    assert decimals(values, MONEY).to_pylist() == values


def _codes_of(values: list[object], kind: pa.DataType, encode: bool) -> np.ndarray:
    array = pa.array(values, kind)
    return (CODES.codes(pc.dictionary_encode(array)) if encode else CODES.codes(array)).tolist()


CODES = ValueCodes()


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


@settings(deadline=None)
@given(texts, texts, st.booleans(), st.booleans())
def test_text_codes_are_equal_exactly_where_values_are_across_batches(
    first: list[str | None], second: list[str | None], encode_first: bool, encode_second: bool
) -> None:
    codes = _codes_of(list(first), pa.string(), encode_first) + _codes_of(list(second), pa.string(), encode_second)
    values = first + second
    for i, a in enumerate(values):
        assert (codes[i] == 0) == (a is None)
        for j, b in enumerate(values):
            if a is not None and b is not None:
                assert (codes[i] == codes[j]) == (a == b)
    for code, value in zip(codes, values, strict=True):
        assert CODES.values[code] == value


@settings(deadline=None)
@given(floats, floats)
def test_number_codes_treat_nan_as_one_value(first: list[float | None], second: list[float | None]) -> None:
    numbers = ValueCodes()
    codes = numbers.codes(pa.array(first, pa.float64(), from_pandas=False)).tolist()
    codes += numbers.codes(pa.array(second, pa.float64(), from_pandas=False)).tolist()
    values = first + second
    for i, a in enumerate(values):
        assert (codes[i] == 0) == (a is None)
        for j, b in enumerate(values):
            if a is not None and b is not None:
                assert (codes[i] == codes[j]) == _same(a, b)


@settings(deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 40), st.integers(0, 2)), max_size=60))
def test_distinct_keys_group_equal_rows_and_point_at_their_first(rows: list[tuple[int, int, int]]) -> None:
    columns = [np.array([r[i] for r in rows], dtype=np.int64) for i in range(3)]
    slot, first = distinct_keys(list(zip(columns, (4, 41, 3), strict=True)), len(rows))
    assert len(first) == len(set(rows))
    for i, row in enumerate(rows):
        assert rows[first[slot[i]]] == row
        assert first[slot[i]] == rows.index(row)
    keys = key_bytes([column[first] for column in columns])
    assert len(set(keys)) == len(first)


@settings(deadline=None)
@given(st.lists(st.integers(1, 300), min_size=0, max_size=5), st.integers(1, 64))
def test_the_first_batch_is_cut_into_doubling_pieces_and_no_row_is_lost_or_moved(sizes: list[int], first: int) -> None:
    from chipgate.batch._run import _ramp_up

    start = np.cumsum([0, *sizes])
    batches = [
        pa.record_batch([from_numpy(np.arange(a, b, dtype=np.int64))], names=["row"])
        for a, b in itertools.pairwise(start)
    ]
    pieces = list(_ramp_up(batches, first))
    rows = [v for piece in pieces for v in piece.column(0).to_pylist()]
    assert rows == list(range(int(start[-1])))
    if sizes:
        head = [p.num_rows for p in pieces[: len(pieces) - len(sizes) + 1]]
        assert sum(head) == sizes[0]
        assert all(size == first * 2**i for i, size in enumerate(head[:-1]))
        assert [p.num_rows for p in pieces[len(head) :]] == sizes[1:]
