"""The contract columns of a record batch, parsed to their types, with each row's problems.

Text is read as the single-shipment contract reads it (numbers and dates from text, flags
from "true"/"false"); a value that cannot be read marks its row with a message naming the
column, and the other rows go on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from chipgate.batch._arrow import flags, from_numpy, scalar, to_numpy, valid
from chipgate.batch._columns import KEY_STRING_COLUMNS, MONEY, OTHER_STRING_COLUMNS, SPEC_NUMBER_COLUMNS

UNIX_EPOCH = dt.date(1970, 1, 1)
# Unit values the engine's wide arithmetic holds with room to spare (USD per unit).
MAX_UNIT_VALUE = Decimal(10) ** 17
_ZERO_MONEY = scalar(Decimal(0), MONEY)
_MAX_MONEY = scalar(MAX_UNIT_VALUE, MONEY)
_MAX_FLOAT = scalar(float(MAX_UNIT_VALUE), pa.float64())
_ZERO_FLOAT = scalar(0.0, pa.float64())
_NAN_TEXT = scalar("nan", pa.string())
_EMPTY_LENGTH = scalar(0, pa.int32())


def days_since_epoch(day: dt.date) -> int:
    return (day - UNIX_EPOCH).days


def is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return is_text(kind.value_type)
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _numeric(kind: pa.DataType) -> bool:
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind))


def _as_text(array: pa.Array) -> pa.Array:
    return array if pa.types.is_string(array.type) else pc.cast(array, pa.string())


def _floats(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(values as float64 with NaN where missing or unreadable, True where present but unreadable)."""
    n = len(array)
    present = valid(array)
    if _numeric(array.type):
        values = to_numpy(pc.cast(array, pa.float64()))
        return np.where(present, values, np.nan), np.zeros(n, dtype=bool)
    if is_text(array.type):
        series = pl.Series(_as_text(array)).str.strip_chars().cast(pl.Float64, strict=False)
        parsed = series.to_numpy().astype(np.float64)
        return parsed, present & np.isnan(parsed) & ~series.is_nan().fill_null(False).to_numpy().astype(bool)
    return np.full(n, np.nan), present


class RowErrors:
    """Per-row problems found column by column; messages are built only for the rows concerned."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.any = np.zeros(n, dtype=bool)
        self._checks: list[tuple[np.ndarray, pa.Array, Callable[[Any], str]]] = []

    def add(self, mask: np.ndarray, raw: pa.Array, message: Callable[[Any], str]) -> None:
        if mask.any():
            self.any |= mask
            self._checks.append((mask, raw, message))

    def messages(self, rows: np.ndarray) -> list[list[str]]:
        """For each of `rows`, its messages in column order."""
        out: list[list[str]] = [[] for _ in rows]
        position = {int(r): i for i, r in enumerate(rows)}
        for mask, raw, message in self._checks:
            hit = np.nonzero(mask)[0]
            values = raw.take(from_numpy(hit)).to_pylist()
            for row, value in zip(hit, values, strict=True):
                out[position[int(row)]].append(message(value))
        return out


def _parse_dates(raw: pa.Array, errors: RowErrors) -> tuple[np.ndarray, np.ndarray]:
    """(days since 1970-01-01 as int32, True where read); unread rows get day 0 and an error."""
    kind = raw.type
    present = valid(raw)
    if pa.types.is_date32(kind):
        parsed = raw
    elif pa.types.is_date64(kind) or pa.types.is_timestamp(kind):
        parsed = pc.cast(raw, pa.date32())
    elif is_text(kind):
        text = pl.Series(_as_text(raw)).str.strip_chars()
        parsed = text.str.to_date("%Y-%m-%d", strict=False).to_arrow()
        # Other ISO forms Python reads (as the single-shipment contract does), row by row.
        missed = np.nonzero(present & ~valid(parsed))[0]
        if len(missed):
            fixed = [_iso_date(v) for v in text.gather(missed).to_list()]
            days = np.array([0 if d is None else days_since_epoch(d) for d in fixed], dtype=np.int32)
            read = from_numpy(days, np.array([d is not None for d in fixed], dtype=bool)).cast(pa.date32())
            parsed = pc.replace_with_mask(parsed, from_numpy(present & ~valid(parsed)), read)
    else:
        parsed = pa.nulls(len(raw), pa.date32())
    ok = valid(parsed)
    errors.add(~present, raw, lambda v: "date: is required (YYYY-MM-DD)")
    errors.add(present & ~ok, raw, lambda v: f"date: expected a date as YYYY-MM-DD, found {v!r}")
    days = np.where(ok, to_numpy(parsed), 0) if parsed.null_count else to_numpy(parsed)
    return days.astype(np.int32), ok


def _iso_date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _parse_quantity(raw: pa.Array, errors: RowErrors) -> pa.Array:
    values, _ = _floats(raw)
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(values) & (values >= 1) & (values == np.floor(values)) & (values < 2.0**53)
    if pa.types.is_boolean(raw.type):
        whole[:] = False
    errors.add(~whole, raw, lambda v: f"quantity: expected a whole number of units >= 1, found {v!r}")
    return from_numpy(np.where(whole, values, 0).astype(np.int64), whole)


def _parse_money(raw: pa.Array, errors: RowErrors) -> pa.Array:
    """Unit values: numbers are kept as given (an invalid one stays visible beside its error); text is parsed."""
    n = len(raw)
    present = valid(raw)
    if _numeric(raw.type):
        money = raw
        wide = pc.cast(raw, pa.float64())
        bad = flags(pc.less(wide, _ZERO_FLOAT)) | flags(pc.greater_equal(wide, _MAX_FLOAT))
        if pa.types.is_floating(raw.type):
            bad |= present & ~flags(pc.is_finite(raw))
    elif is_text(raw.type):
        money = pl.Series(_as_text(raw)).str.strip_chars().cast(pl.Decimal(38, 6), strict=False).to_arrow()
        money = pc.cast(money, MONEY)
        bad = present & ~valid(money)
        bad |= flags(pc.less(money, _ZERO_MONEY))
        bad |= flags(pc.greater_equal(money, _MAX_MONEY))
        if bad.any():
            money = pc.if_else(from_numpy(bad), pa.nulls(n, MONEY), money)
    else:
        money = pa.nulls(n, MONEY)
        bad = present.copy()
    errors.add(bad, raw, lambda v: f"unit_value_usd: expected an amount in USD >= 0, found {v!r}")
    return money


def _parse_spec_number(name: str, raw: pa.Array, errors: RowErrors) -> pa.Array:
    if _numeric(raw.type):
        # NaN stays NaN: the spec check of the single path refuses it with its own message.
        return raw if pa.types.is_float64(raw.type) else pc.cast(raw, pa.float64())
    values, unreadable = _floats(raw)
    if pa.types.is_boolean(raw.type):
        unreadable = valid(raw)
    errors.add(unreadable, raw, lambda v: f"{name}: expected a number >= 0, found {v!r}")
    missing = np.isnan(values) & ~_nan_given(raw)
    return from_numpy(np.where(missing, 0.0, values), ~missing)


def _nan_given(raw: pa.Array) -> np.ndarray:
    """True where a text column says NaN itself (kept, so the spec check can refuse it)."""
    if is_text(raw.type):
        return flags(pc.equal(pc.utf8_lower(pc.utf8_trim_whitespace(_as_text(raw))), _NAN_TEXT))
    return np.zeros(len(raw), dtype=bool)


def _parse_flag(name: str, raw: pa.Array, errors: RowErrors) -> pa.Array:
    if pa.types.is_boolean(raw.type):
        return raw
    present = valid(raw)
    if is_text(raw.type):
        text = pl.Series(_as_text(raw)).str.strip_chars().str.to_lowercase()
        flag = text.replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean).to_arrow()
    else:
        flag = pa.nulls(len(raw), pa.bool_())
    errors.add(present & ~valid(flag), raw, lambda v: f"{name}: expected true or false, found {v!r}")
    return flag


def _parse_text(raw: pa.Array) -> pa.Array:
    if is_text(raw.type):
        return raw
    return pc.cast(raw, pa.string())


def _blank(array: pa.Array) -> np.ndarray:
    """True where the text is empty or only spaces; a dictionary column is checked once per value."""
    if pa.types.is_dictionary(array.type):
        per_value = _blank(array.dictionary)
        indices = array.indices
        blank: np.ndarray = np.take(per_value, to_numpy(indices), mode="clip") & valid(indices)
        return blank
    return flags(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(_as_text(array))), _EMPTY_LENGTH))


def canonical(columns: dict[str, pa.Array], n: int, on: dt.date | None, errors: RowErrors) -> dict[str, Any]:
    """The contract columns parsed to their types; unknown columns are carried as they are.

    "__days" holds each row's date as days since 1970-01-01 (0 where unreadable).
    """
    out: dict[str, Any] = dict(columns)
    if "date" in columns:
        days, read = _parse_dates(columns["date"], errors)
        raw = columns["date"]
        reuse = pa.types.is_date32(raw.type) and raw.null_count == 0
        out["date"] = raw if reuse else from_numpy(days, read).cast(pa.date32())
        out["__days"] = days
    elif on is None:
        errors.add(np.ones(n, dtype=bool), pa.nulls(n), lambda v: "date: is required (YYYY-MM-DD)")
        out["__days"] = np.zeros(n, dtype=np.int32)
    for name in (*KEY_STRING_COLUMNS, *OTHER_STRING_COLUMNS):
        if name in columns:
            out[name] = _parse_text(columns[name])
    for name in SPEC_NUMBER_COLUMNS:
        if name in columns:
            out[name] = _parse_spec_number(name, columns[name], errors)
    if "item_spec_datacenter" in columns:
        out["item_spec_datacenter"] = _parse_flag("item_spec_datacenter", columns["item_spec_datacenter"], errors)
    if "quantity" in columns:
        out["quantity"] = _parse_quantity(columns["quantity"], errors)
    else:
        errors.add(np.ones(n, dtype=bool), pa.nulls(n), lambda v: "quantity: is required")
    if "unit_value_usd" in columns:
        out["unit_value_usd"] = _parse_money(columns["unit_value_usd"], errors)
    if "exporter" in columns:
        exporter = out["exporter"]
        errors.add(_blank(exporter), exporter, lambda v: "exporter: expected the exporter's name as a string")
    return out
