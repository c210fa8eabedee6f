"""Decide a record batch: validate the columns, decide each distinct key once with `decide`, join back.

A decision reads a row only through its decision key (item, kind, countries, parties,
end use), the rule epoch its date falls in, and, for the duty amount, its quantity and
unit value. So the batch never restates a rule: it finds the distinct keys with integer
codes, asks the scalar `chipgate.decide.decide` once per key (remembered across batches
for the same rulebook version), and spreads the answers over the rows with Arrow takes.
The duty amount is the decided rate x quantity x unit value, computed per row in decimal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from chipgate.batch._columns import (
    ADDED_COLUMNS,
    DENSE_PREFIX,
    INPUT_COLUMNS,
    KEY_COLUMNS,
    KEY_STRING_COLUMNS,
    LIST_SEPARATOR,
    MONEY,
    OTHER_STRING_COLUMNS,
    OUTPUT_FIELDS,
    PART_SEPARATOR,
    PARTY_FIELDS,
    PARTY_ROLES,
    SPEC_NUMBER_COLUMNS,
    SPEC_NUMBERS,
    column_for_field,
)
from chipgate.decide import decide
from chipgate.errors import InputError
from chipgate.inputs import country_codes, parse_shipment
from chipgate.model import BIT_LENGTH, Decision, Shipment
from chipgate.rulebook import Rulebook, default_rulebook

_UNIX_EPOCH = dt.date(1970, 1, 1)
# Beyond this many combined codes, the key is re-numbered densely before the next column
# is folded in, so the combined code always fits in an int64.
_CODE_LIMIT = 1 << 62
# Up to this many possible codes, re-numbering uses a lookup table instead of a hash.
_TABLE_LIMIT = 1 << 24
# Arithmetic on amounts runs in 256-bit decimals so that rate x quantity x unit value
# cannot overflow before it is rounded to the output's 6 decimal places.
_WIDE_RATE = pa.decimal256(30, 6)
_WIDE_QUANTITY = pa.decimal256(19, 0)
_WIDE_VALUE = pa.decimal256(24, 6)
# Unit values the wide type holds with room to spare (USD per unit).
_MAX_UNIT_VALUE = Decimal(10) ** 17
# Answers remembered per engine.
_REMEMBERED = 1_000_000


def _days(day: dt.date) -> int:
    return (day - _UNIX_EPOCH).days


@dataclass(frozen=True, slots=True)
class Answer:
    """The decision of one key, in the flat form the output columns take."""

    error: str | None
    outcome: str | None = None
    eccn: str | None = None
    tpp: float | None = None
    license_required: bool | None = None
    review_policy: str | None = None
    license_conditions: str | None = None
    china_approval_required: bool | None = None
    duty_tariff: str | None = None
    duty_rate: Decimal | None = None
    # The duty amount decided with quantity 1 and unit value 1 (or no unit value): the
    # factor each row multiplies by its own quantity and unit value.
    duty_amount: Decimal | None = None
    restricted_party_hits: str | None = None
    reasons: str | None = None
    shipment: Shipment | None = None
    decision: Decision | None = None


def format_reasons(decision: Decision) -> str:
    return LIST_SEPARATOR.join(
        PART_SEPARATOR.join((r.rule, r.citation, r.effective_from.isoformat() if r.effective_from else ""))
        for r in decision.reasons
    )


def format_party_hits(decision: Decision) -> str | None:
    # The strength says whether the hit applies the list's consequence or waits for a clearance.
    hits = [
        PART_SEPARATOR.join((h.role, h.list_code, h.entry_name, h.strength, h.record_id)) for h in decision.party_hits
    ]
    return LIST_SEPARATOR.join(hits) if hits else None


def answer_from(decision: Decision, shipment: Shipment) -> Answer:
    export = decision.us_export
    rate: Decimal | None = None
    amount: Decimal | None = None
    tariff: str | None = None
    if decision.duties:
        tariff = LIST_SEPARATOR.join(d.tariff for d in decision.duties)
        # Several duties add up: each is its own rate x quantity x value.
        rate = sum((d.rate for d in decision.duties), Decimal(0))
        amounts = [d.amount_usd for d in decision.duties if d.amount_usd is not None]
        amount = sum(amounts, Decimal(0)) if len(amounts) == len(decision.duties) else None
    return Answer(
        error=None,
        outcome=decision.outcome,
        eccn=decision.eccn,
        tpp=decision.classification.tpp,
        license_required=export.license_required,
        review_policy=export.review_policy,
        license_conditions=LIST_SEPARATOR.join(export.conditions) if export.conditions else None,
        china_approval_required=decision.china_import.approval_required,
        duty_tariff=tariff,
        duty_rate=rate,
        duty_amount=amount,
        restricted_party_hits=format_party_hits(decision),
        reasons=format_reasons(decision),
        shipment=shipment,
        decision=decision,
    )


def error_text(exc: InputError) -> str:
    """An input error named by its batch column rather than its JSON path."""
    if exc.field == "item":
        return "item: give exactly one of item_chip or the item_spec_* columns"
    return f"{column_for_field(exc.field)}: {exc.message}"


def contract(raw: dict[str, Any], on: dt.date, with_value: bool) -> dict[str, Any]:
    """The single-shipment JSON contract for one decision key, with quantity 1."""
    body: dict[str, Any] = {"date": on, "quantity": 1}
    if with_value:
        body["unit_value_usd"] = 1
    for name in ("kind", "from_country", "to_country", "end_use"):
        if raw.get(name) is not None:
            body[name] = raw[name]
    dense = {p: raw[DENSE_PREFIX + p] for p in BIT_LENGTH if raw.get(DENSE_PREFIX + p) is not None}
    spec: dict[str, Any] = {"dense_tops": dense} if dense else {}
    for name in (*SPEC_NUMBERS, "datacenter", "name"):
        if raw.get(f"item_spec_{name}") is not None:
            spec[name] = raw[f"item_spec_{name}"]
    item: dict[str, Any] = {}
    if raw.get("item_chip") is not None:
        item["chip"] = raw["item_chip"]
    if spec:
        item["spec"] = spec
    body["item"] = item
    for role in PARTY_ROLES:
        party = {f: raw[f"{role}_{f}"] for f in PARTY_FIELDS if raw.get(f"{role}_{f}") is not None}
        if party:
            body[role] = party
    return body


# ---- column parsing ----------------------------------------------------------------------


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return _is_text(kind.value_type)
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _numeric(kind: pa.DataType) -> bool:
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind))


def _as_text(array: pa.Array) -> pa.Array:
    return array if pa.types.is_string(array.type) else pc.cast(array, pa.string())


def _bools(array: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy, missing read as False."""
    return np.asarray(array.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _mask(array: pa.Array) -> np.ndarray:
    """True where the value is present."""
    if array.null_count == 0:
        return np.ones(len(array), dtype=bool)
    return np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _floats(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(values as float64 with NaN where missing or unreadable, True where present but unreadable)."""
    n = len(array)
    present = _mask(array)
    if _numeric(array.type):
        values = pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
        return np.where(present, values, np.nan), np.zeros(n, dtype=bool)
    if _is_text(array.type):
        series = pl.Series(_as_text(array)).str.strip_chars().cast(pl.Float64, strict=False)
        parsed = series.to_numpy().astype(np.float64)
        return parsed, present & np.isnan(parsed) & ~series.is_nan().fill_null(False).to_numpy().astype(bool)
    return np.full(n, np.nan), present


class _RowErrors:
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
            values = raw.take(pa.array(hit)).to_pylist()
            for row, value in zip(hit, values, strict=True):
                out[position[int(row)]].append(message(value))
        return out


def _parse_dates(raw: pa.Array, errors: _RowErrors) -> tuple[np.ndarray, np.ndarray]:
    """(days since 1970-01-01 as int32, True where read); unread rows get day 0 and an error."""
    kind = raw.type
    present = _mask(raw)
    if pa.types.is_date32(kind):
        parsed = raw
    elif pa.types.is_date64(kind) or pa.types.is_timestamp(kind):
        parsed = pc.cast(raw, pa.date32())
    elif _is_text(kind):
        text = pl.Series(_as_text(raw)).str.strip_chars()
        parsed = text.str.to_date("%Y-%m-%d", strict=False).to_arrow()
        # Other ISO forms Python reads (as the single-shipment contract does), row by row.
        missed = np.nonzero(present & ~_mask(parsed))[0]
        if len(missed):
            fixed = [_iso_date(v) for v in text.gather(missed).to_list()]
            parsed = pc.replace_with_mask(parsed, pa.array(present & ~_mask(parsed)), pa.array(fixed, pa.date32()))
    else:
        parsed = pa.nulls(len(raw), pa.date32())
    ok = _mask(parsed)
    errors.add(~present, raw, lambda v: "date: is required (YYYY-MM-DD)")
    errors.add(present & ~ok, raw, lambda v: f"date: expected a date as YYYY-MM-DD, found {v!r}")
    days = parsed.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False)
    return np.asarray(days, dtype=np.int32), ok


def _iso_date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _parse_quantity(raw: pa.Array, errors: _RowErrors) -> pa.Array:
    values, _ = _floats(raw)
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(values) & (values >= 1) & (values == np.floor(values)) & (values < 2.0**53)
    if pa.types.is_boolean(raw.type):
        whole[:] = False
    errors.add(~whole, raw, lambda v: f"quantity: expected a whole number of units >= 1, found {v!r}")
    return pa.array(np.where(whole, values, 0).astype(np.int64), mask=~whole)


def _parse_money(raw: pa.Array, errors: _RowErrors) -> pa.Array:
    """Unit values: numbers are kept as given (an invalid one stays visible beside its error); text is parsed."""
    n = len(raw)
    present = _mask(raw)
    if _numeric(raw.type):
        money = raw
        bad = _bools(pc.less(raw, 0)) | _bools(pc.greater_equal(pc.cast(raw, pa.float64()), float(_MAX_UNIT_VALUE)))
        if pa.types.is_floating(raw.type):
            bad |= present & ~_bools(pc.is_finite(raw))
    elif _is_text(raw.type):
        money = pl.Series(_as_text(raw)).str.strip_chars().cast(pl.Decimal(38, 6), strict=False).to_arrow()
        money = pc.cast(money, MONEY)
        bad = present & ~_mask(money)
        bad |= _bools(pc.less(money, pa.scalar(Decimal(0), MONEY)))
        bad |= _bools(pc.greater_equal(money, pa.scalar(_MAX_UNIT_VALUE, MONEY)))
        if bad.any():
            money = pc.if_else(pa.array(bad), pa.nulls(n, MONEY), money)
    else:
        money = pa.nulls(n, MONEY)
        bad = present.copy()
    errors.add(bad, raw, lambda v: f"unit_value_usd: expected an amount in USD >= 0, found {v!r}")
    return money


def _parse_spec_number(name: str, raw: pa.Array, errors: _RowErrors) -> pa.Array:
    if _numeric(raw.type):
        # NaN stays NaN: the spec check of the single path refuses it with its own message.
        return raw if pa.types.is_float64(raw.type) else pc.cast(raw, pa.float64())
    values, unreadable = _floats(raw)
    if pa.types.is_boolean(raw.type):
        unreadable = _mask(raw)
    errors.add(unreadable, raw, lambda v: f"{name}: expected a number >= 0, found {v!r}")
    missing = np.isnan(values) & ~_nan_given(raw)
    return pa.array(np.where(missing, 0.0, values), mask=missing)


def _nan_given(raw: pa.Array) -> np.ndarray:
    """True where a text column says NaN itself (kept, so the spec check can refuse it)."""
    if _is_text(raw.type):
        return _bools(pc.equal(pc.utf8_lower(pc.utf8_trim_whitespace(_as_text(raw))), "nan"))
    return np.zeros(len(raw), dtype=bool)


def _parse_flag(name: str, raw: pa.Array, errors: _RowErrors) -> pa.Array:
    if pa.types.is_boolean(raw.type):
        return raw
    present = _mask(raw)
    if _is_text(raw.type):
        text = pl.Series(_as_text(raw)).str.strip_chars().str.to_lowercase()
        flag = text.replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean).to_arrow()
    else:
        flag = pa.nulls(len(raw), pa.bool_())
    errors.add(present & ~_mask(flag), raw, lambda v: f"{name}: expected true or false, found {v!r}")
    return flag


def _parse_text(raw: pa.Array) -> pa.Array:
    if _is_text(raw.type):
        return raw
    return pc.cast(raw, pa.string())


# ---- keys ----------------------------------------------------------------------------------


def _codes(array: pa.Array) -> tuple[np.ndarray, int] | None:
    """Integer codes equal exactly where the values are equal (missing is a value), or None if all missing."""
    if array.null_count == len(array):
        return None
    if pa.types.is_dictionary(array.type):
        size = len(array.dictionary)
        codes = array.indices.fill_null(size).to_numpy(zero_copy_only=False)
        return np.asarray(codes, dtype=np.int64), size + 1
    present = _mask(array)
    if present.sum() * 4 < len(array):
        # Mostly missing (spec columns when most rows name a catalogue chip): encode the few values only.
        rows = np.nonzero(present)[0]
        encoded = pc.dictionary_encode(array.take(pa.array(rows)))
        codes = np.zeros(len(array), dtype=np.int64)
        codes[rows] = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64) + 1
        return codes, len(encoded.dictionary) + 1
    encoded = pc.dictionary_encode(array, null_encoding="encode")
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64), len(encoded.dictionary)


def _renumber(key: np.ndarray, space: int) -> tuple[np.ndarray, int]:
    """Dense codes 0..m-1 for the distinct values of `key` (all < space)."""
    if space <= _TABLE_LIMIT:
        seen = np.zeros(space, dtype=bool)
        seen[key] = True
        rank = np.cumsum(seen, dtype=np.int64) - 1
        return rank[key], int(seen.sum())
    encoded = pc.dictionary_encode(pa.array(key))
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64), len(encoded.dictionary)


def distinct_keys(parts: Sequence[tuple[np.ndarray, int]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(slot of each row, first row of each slot) for the combination of the coded columns."""
    key = np.zeros(n, dtype=np.int64)
    space = 1
    for codes, size in parts:
        if space * size >= _CODE_LIMIT:
            key, space = _renumber(key, space)
        key = key * size + codes
        space *= size
    slot, count = _renumber(key, space) if n else (key, 0)
    first = np.empty(count, dtype=np.int64)
    first[slot[::-1]] = np.arange(n - 1, -1, -1, dtype=np.int64)
    return slot, first


# ---- the engine ------------------------------------------------------------------------------


class BatchEngine:
    """Decides record batches under one rulebook, remembering each key's answer."""

    def __init__(self, rulebook: Rulebook | None = None) -> None:
        self.rulebook = rulebook or default_rulebook()
        self.version = self.rulebook.version
        self._epoch_starts: tuple[dt.date, ...] = (dt.date.min, *self.rulebook.change_dates)
        self._change_days = np.array([_days(d) for d in self.rulebook.change_dates], dtype=np.int64)
        self._answers: dict[tuple[Any, ...], Answer] = {}
        # Parsed contracts by (unit value given, columns, values): see `_shipment`.
        self._parsed: dict[tuple[Any, ...], Shipment | InputError] = {}
        self._lock = threading.Lock()
        self._version_values: pa.Array | None = None

    def prepare(self) -> None:
        """Load what deciding reads (chip catalogue, party lists and their matcher, country codes)
        now rather than inside the first batch, so that a caller can overlap it with reading."""
        self.rulebook.catalogue  # noqa: B018 - loads on first access
        self.rulebook.restricted_parties.matcher().warm()
        country_codes()
        self._version_array()

    def _version_array(self) -> pa.Array:
        if self._version_values is None:
            self._version_values = pa.array([self.version], pa.string())
        return self._version_values

    @property
    def keys_decided(self) -> int:
        return len(self._answers)

    def answer(self, raw: dict[str, Any], epoch: int, with_value: bool) -> Answer:
        """The answer for one decision key; `epoch` indexes the rule epochs (0 = before any change)."""
        names = tuple(c for c in KEY_COLUMNS if raw.get(c) is not None)
        return self._answer((epoch, with_value, names, *(raw[c] for c in names)), raw)

    def _answer(self, cache_key: tuple[Any, ...], raw: dict[str, Any] | None = None) -> Answer:
        found = self._answers.get(cache_key)
        if found is not None:
            return found
        epoch, _, names, *values = cache_key
        if raw is None:
            raw = dict(zip(names, values, strict=True))
        on = self._epoch_starts[epoch]
        shipment = self._shipment(cache_key[1:], raw, on)
        if isinstance(shipment, InputError):
            found = Answer(error=error_text(shipment))
        else:
            try:
                found = answer_from(decide(shipment, on, rulebook=self.rulebook), shipment)
            except InputError as exc:
                found = Answer(error=error_text(exc))
        with self._lock:
            if len(self._answers) >= _REMEMBERED:
                # A book of ever-new keys (e.g. a unique name per row) must not grow memory without bound.
                self._answers.clear()
                self._parsed.clear()
            self._answers[cache_key] = found
        return found

    def _shipment(self, parse_key: tuple[Any, ...], raw: dict[str, Any], on: dt.date) -> Shipment | InputError:
        """The key's shipment as `parse_shipment` reads it from the contract, dated `on`, or its error.

        Keys that differ only in their rule epoch share everything but the date, which is
        always a valid date here, so the contract is parsed once per (unit value given,
        columns, values) and the result re-dated; a contract that does not parse gives the
        same error whatever the date.
        """
        parsed = self._parsed.get(parse_key)
        if parsed is None:
            try:
                parsed = parse_shipment(contract(raw, on, parse_key[0]))
            except InputError as exc:
                # Kept without its traceback, which would hold on to this call's frames.
                parsed = exc.with_traceback(None)
            with self._lock:
                self._parsed[parse_key] = parsed
        if isinstance(parsed, InputError) or parsed.date == on:
            return parsed
        return dataclasses.replace(parsed, date=on)

    def _epochs_of(self, days: np.ndarray) -> np.ndarray:
        """The epoch index of each day: one search per distinct day in the batch's span, then a lookup."""
        if not len(days):
            return np.zeros(0, dtype=np.int64)
        low, high = int(days.min()), int(days.max())
        if high - low > 1 << 20:
            return np.searchsorted(self._change_days, days.astype(np.int64), side="right")
        table = np.searchsorted(self._change_days, np.arange(low, high + 1, dtype=np.int64), side="right")
        return np.asarray(table[days.astype(np.int64) - low], dtype=np.int64)

    def epoch_of(self, day: dt.date) -> int:
        return int(np.searchsorted(self._change_days, _days(day), side="right"))

    def decide(self, data: pa.RecordBatch | pa.Table, on: dt.date | None = None) -> pa.Table:
        """Decide every row of `data` (the flattened contract); returns the rows with the decision columns."""
        batch = data if isinstance(data, pa.RecordBatch) else _single_batch(data)
        n = batch.num_rows
        names = [name for name in batch.schema.names if name not in ADDED_COLUMNS]
        columns: dict[str, pa.Array] = {name: batch.column(name) for name in names}
        errors = _RowErrors(n)
        canonical = self._canonical(columns, n, on, errors)

        # Rule epoch of each row's date: the date matters to a decision only through it.
        if on is not None:
            as_of = np.full(n, _days(on), dtype=np.int32)
            epochs = np.full(n, self.epoch_of(on), dtype=np.int64)
        else:
            as_of = canonical.pop("__days")
            epochs = self._epochs_of(as_of)
        with_value = _mask(canonical["unit_value_usd"]) if "unit_value_usd" in canonical else np.zeros(n, bool)

        parts: list[tuple[np.ndarray, int]] = [(epochs.astype(np.int64), len(self._epoch_starts))]
        parts.append((with_value.astype(np.int64), 2))
        present_keys = [c for c in KEY_COLUMNS if c in canonical]
        for name in present_keys:
            coded = _codes(canonical[name])
            if coded is not None:
                parts.append(coded)
        slot, first = distinct_keys(parts, n)

        first_rows = pa.array(first)
        # Only the columns holding a value somewhere take part; a key names its columns so that
        # the same shipment read from differently shaped books is remembered once.
        used = tuple(name for name in present_keys if canonical[name].null_count < n)
        samples = [_pylist(canonical[name].take(first_rows)) for name in used]
        slot_epochs = epochs[first].tolist()
        slot_values = with_value[first].tolist()
        answers = []
        for j, values in enumerate(zip(*samples, strict=True) if samples else [() for _ in first]):
            given = tuple(name for name, value in zip(used, values, strict=True) if value is not None)
            present = tuple(value for value in values if value is not None)
            answers.append(self._answer((slot_epochs[j], slot_values[j], given, *present)))
        return self._assemble(canonical, names, n, slot, answers, errors, as_of, with_value, on is not None)

    def _canonical(
        self, columns: dict[str, pa.Array], n: int, on: dt.date | None, errors: _RowErrors
    ) -> dict[str, Any]:
        """The contract columns parsed to their types; unknown columns are carried as they are."""
        out: dict[str, Any] = dict(columns)
        if "date" in columns:
            days, read = _parse_dates(columns["date"], errors)
            raw = columns["date"]
            reuse = pa.types.is_date32(raw.type) and raw.null_count == 0
            out["date"] = raw if reuse else pa.array(days, pa.int32(), mask=~read).cast(pa.date32())
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
            blank = _bools(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(_as_text(exporter))), 0))
            errors.add(blank, exporter, lambda v: "exporter: expected the exporter's name as a string")
        return out

    def _assemble(
        self,
        canonical: dict[str, Any],
        names: list[str],
        n: int,
        slot: np.ndarray,
        answers: list[Answer],
        errors: _RowErrors,
        as_of: np.ndarray,
        with_value: np.ndarray,
        overridden: bool,
    ) -> pa.Table:
        key_ok = np.array([a.error is None for a in answers], dtype=bool)
        # The date the rules were read at; unknown where the row's own date was unreadable.
        date = canonical.get("date")
        as_of_column = date if not overridden and date is not None else pa.array(as_of, pa.int32()).cast(pa.date32())
        decided = ~errors.any & (key_ok[slot] if len(answers) else np.zeros(n, dtype=bool))
        # An index without nulls takes faster; nulls only where some row is not decided.
        take = pa.array(slot) if decided.all() else pa.array(slot, mask=~decided)

        def strings(field: str) -> pa.Array:
            return _dictionary([getattr(a, field) for a in answers], take)

        def values(field: str, kind: pa.DataType) -> pa.Array:
            return pa.array([getattr(a, field) for a in answers], kind).take(take)

        added: dict[str, pa.Array] = {
            "as_of": as_of_column,
            "outcome": strings("outcome"),
            "eccn": strings("eccn"),
            "tpp": values("tpp", pa.float64()),
            "license_required": values("license_required", pa.bool_()),
            "review_policy": strings("review_policy"),
            "license_conditions": strings("license_conditions"),
            "china_approval_required": values("china_approval_required", pa.bool_()),
            "duty_tariff": strings("duty_tariff"),
            "duty_rate": values("duty_rate", MONEY),
            "duty_amount_usd": self._duty_amounts(canonical, answers, take, decided, with_value),
            "restricted_party_hits": strings("restricted_party_hits"),
            "reasons": strings("reasons"),
            "rulebook_version": pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(n, dtype=np.int32)), self._version_array()
            ),
            "error": self._errors(answers, slot, errors),
        }
        arrays = [_carry(canonical[name]) for name in names] + [added[name] for name, _ in OUTPUT_FIELDS]
        return pa.Table.from_arrays(arrays, names=[*names, *(name for name, _ in OUTPUT_FIELDS)])

    def _duty_amounts(
        self,
        canonical: dict[str, Any],
        answers: list[Answer],
        take: pa.Array,
        decided: np.ndarray,
        with_value: np.ndarray,
    ) -> pa.Array:
        factor = pa.array([a.duty_amount for a in answers], MONEY).take(take)
        # Without a unit value the amount decided for the key is the row's amount (none, or
        # nothing owed); with one it scales by the row's quantity and unit value.
        scaled = decided & with_value & _mask(factor)
        if not scaled.any():
            return factor
        rows = pa.array(np.nonzero(scaled)[0])
        amount = pc.multiply(
            pc.multiply(
                pc.cast(factor.take(rows), _WIDE_RATE), pc.cast(canonical["quantity"].take(rows), _WIDE_QUANTITY)
            ),
            pc.cast(pc.cast(canonical["unit_value_usd"].take(rows), MONEY, safe=False), _WIDE_VALUE),
        )
        amount = pc.cast(pc.round(amount, 6), MONEY)
        return pc.replace_with_mask(factor, pa.array(scaled), amount)

    def _errors(self, answers: list[Answer], slot: np.ndarray, errors: _RowErrors) -> pa.Array:
        n = len(slot)
        key_error = np.array([a.error is not None for a in answers], dtype=bool)
        keyed = key_error[slot] if len(answers) else np.zeros(n, dtype=bool)
        only_key = keyed & ~errors.any
        out = pc.cast(_dictionary([a.error for a in answers], pa.array(slot, mask=~only_key)), pa.string())
        rows = np.nonzero(errors.any)[0]
        if not len(rows):
            return out
        messages = errors.messages(rows)
        texts = []
        for row, found in zip(rows, messages, strict=True):
            problem = answers[slot[row]].error
            if problem is not None and problem not in found:
                found.append(problem)
            texts.append(LIST_SEPARATOR.join(found))
        return pc.replace_with_mask(out, pa.array(errors.any), pa.array(texts, pa.string()))


def _dictionary(values: list[Any], take: pa.Array) -> pa.DictionaryArray:
    """A dictionary-encoded text column: row i holds the value of slot take[i] (null where take is null)."""
    distinct: dict[Any, int] = {}
    codes = [None if value is None else distinct.setdefault(value, len(distinct)) for value in values]
    indices = pa.array(codes, pa.int32()).take(take)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(distinct), pa.string()))


def _pylist(array: pa.Array) -> list[Any]:
    """Python values; dictionary arrays through their (short) dictionary, which is much faster."""
    if not pa.types.is_dictionary(array.type):
        return list(array.to_pylist())
    values = array.dictionary.to_pylist()
    return [None if i is None else values[i] for i in array.indices.to_pylist()]


def _carry(array: pa.Array) -> pa.Array:
    """An input column as written out: a column with no type yet becomes text."""
    return pc.cast(array, pa.string()) if pa.types.is_null(array.type) else array


def _single_batch(table: pa.Table) -> pa.RecordBatch:
    combined = table.combine_chunks()
    batches = combined.to_batches()
    if not batches:
        return pa.RecordBatch.from_pylist([], schema=table.schema)
    return (
        batches[0]
        if len(batches) == 1
        else pa.RecordBatch.from_arrays(
            [pa.concat_arrays([b.column(i) for b in batches]) for i in range(table.num_columns)],
            names=table.schema.names,
        )
    )


__all__ = ["INPUT_COLUMNS", "Answer", "BatchEngine", "answer_from", "contract", "distinct_keys"]
