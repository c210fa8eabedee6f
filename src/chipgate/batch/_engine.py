"""Decide a record batch: parse the columns, decide each distinct key once with `decide`, spread back.

A decision reads a row only through its decision key (item, kind, countries, parties,
end use), the rule epoch its date falls in, and, for the duty amount, its quantity and
unit value. So the batch never restates a rule: it finds the distinct keys as integer
codes, asks the scalar `chipgate.decide.decide` once per key never seen before (answers
are remembered for the life of the engine), and makes the output columns with numpy takes
from the table of answers. The duty amount is the decided rate x quantity x unit value,
computed per row in decimal.
"""

from __future__ import annotations

import datetime as dt
import gc
import threading
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chipgate.batch._answers import Answer, AnswerTable, Rows, answer_from
from chipgate.batch._arrow import from_numpy, strings, valid
from chipgate.batch._columns import (
    ADDED_COLUMNS,
    DENSE_PREFIX,
    INPUT_COLUMNS,
    KEY_COLUMNS,
    LIST_SEPARATOR,
    MONEY,
    OUTPUT_FIELDS,
    PARTY_FIELDS,
    PARTY_ROLES,
    SPEC_NUMBERS,
    column_for_field,
)
from chipgate.batch._keys import ValueCodes, distinct_keys, key_bytes
from chipgate.batch._parse import RowErrors, canonical, days_since_epoch
from chipgate.decide import decide
from chipgate.errors import InputError
from chipgate.inputs import country_codes, parse_shipment
from chipgate.model import BIT_LENGTH, Shipment
from chipgate.rulebook import Rulebook, default_rulebook

# Arithmetic on amounts runs in 256-bit decimals so that rate x quantity x unit value
# cannot overflow before it is rounded to the output's 6 decimal places.
_WIDE_RATE = pa.decimal256(30, 6)
_WIDE_QUANTITY = pa.decimal256(19, 0)
_WIDE_VALUE = pa.decimal256(24, 6)
# Answers remembered per engine: a book of ever-new keys (a unique name per row) must not
# grow memory without bound, so past this many the engine starts afresh.
_REMEMBERED = 1_000_000


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


class BatchEngine:
    """Decides record batches under one rulebook, remembering each key's answer.

    One engine may serve several threads (a Dask worker's); a batch is decided under its lock.
    """

    def __init__(self, rulebook: Rulebook | None = None) -> None:
        self.rulebook = rulebook or default_rulebook()
        self.version = self.rulebook.version
        self._epoch_starts: tuple[dt.date, ...] = (dt.date.min, *self.rulebook.change_dates)
        self._change_days = np.array([days_since_epoch(d) for d in self.rulebook.change_dates], dtype=np.int64)
        self._lock = threading.Lock()
        self._version_values: pa.Array | None = None
        self._forget()

    def _forget(self) -> None:
        self._codes = {name: ValueCodes() for name in KEY_COLUMNS}
        # Key (as bytes of its codes) -> answer number in the table.
        self._known: dict[bytes, int] = {}
        self._table = AnswerTable()
        # Parsed contracts by their codes (unit value given, then each key column's): see `_shipment`.
        self._parsed: dict[tuple[int, ...], Shipment | InputError] = {}

    def prepare(self) -> None:
        """Load what deciding reads (chip catalogue, party lists and their matcher, country codes)
        now rather than inside the first batch, so that a caller can overlap it with reading."""
        self.rulebook.catalogue  # noqa: B018 - loads on first access
        self.rulebook.restricted_parties.matcher().warm()
        country_codes()
        self._version_array()
        _settle_loaded_data()

    def _version_array(self) -> pa.Array:
        if self._version_values is None:
            self._version_values = strings([self.version])
        return self._version_values

    @property
    def keys_decided(self) -> int:
        return len(self._table)

    def epoch_of(self, day: dt.date) -> int:
        return int(np.searchsorted(self._change_days, days_since_epoch(day), side="right"))

    def _epochs_of(self, days: np.ndarray) -> np.ndarray:
        """The epoch index of each day: one search per distinct day in the batch's span, then a lookup."""
        if not len(days):
            return np.zeros(0, dtype=np.int64)
        low, high = int(days.min()), int(days.max())
        if high - low > 1 << 20:
            return np.searchsorted(self._change_days, days.astype(np.int64), side="right")
        table = np.searchsorted(self._change_days, np.arange(low, high + 1, dtype=np.int64), side="right")
        return np.asarray(table[days.astype(np.int64) - low], dtype=np.int64)

    def decide(self, data: pa.RecordBatch | pa.Table, on: dt.date | None = None) -> pa.Table:
        """Decide every row of `data` (the flattened contract); returns the rows with the decision columns."""
        batch = data if isinstance(data, pa.RecordBatch) else _single_batch(data)
        n = batch.num_rows
        names = [name for name in batch.schema.names if name not in ADDED_COLUMNS]
        errors = RowErrors(n)
        parsed = canonical({name: batch.column(name) for name in names}, n, on, errors)

        # Rule epoch of each row's date: the date matters to a decision only through it.
        if on is not None:
            as_of = np.full(n, days_since_epoch(on), dtype=np.int32)
            epochs = np.full(n, self.epoch_of(on), dtype=np.int64)
        else:
            as_of = parsed.pop("__days")
            epochs = self._epochs_of(as_of)
        with_value = valid(parsed["unit_value_usd"]) if "unit_value_usd" in parsed else np.zeros(n, bool)
        with self._lock:
            if len(self._table) >= _REMEMBERED:
                self._forget()
            slot, answers = self._answers_of(parsed, n, epochs, with_value)
            return self._assemble(parsed, names, slot, answers, errors, as_of, with_value, on is not None)

    def _answers_of(
        self, parsed: dict[str, Any], n: int, epochs: np.ndarray, with_value: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(the distinct key of each row, the answer number of each distinct key), deciding the keys not seen before."""
        parts = [(epochs, len(self._epoch_starts)), (with_value.astype(np.int64), 2)]
        lasting: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name in KEY_COLUMNS:
            if name in parsed and parsed[name].null_count < n:
                local, to_global = self._codes[name].local(parsed[name])
                lasting[name] = (local, to_global)
                parts.append((local, len(to_global)))
        slot, first = distinct_keys(parts, n)
        # Each distinct key once, in lasting codes (0 for a column the batch lacks), as bytes
        # to look it up among the keys decided before.
        absent = np.zeros(len(first), dtype=np.int64)
        key_codes = [parts[0][0][first], parts[1][0][first]]
        for name in KEY_COLUMNS:
            if name in lasting:
                local, to_global = lasting[name]
                key_codes.append(to_global[local[first]])
            else:
                key_codes.append(absent)
        keys = key_bytes(key_codes)
        known = self._known
        found = [known.get(key, -1) for key in keys]
        new = [j for j, number in enumerate(found) if number < 0]
        if new:
            rows = np.column_stack(key_codes)[new].tolist()
            start = len(self._table)
            self._table.extend([self._answer(row) for row in rows])
            for offset, j in enumerate(new):
                known[keys[j]] = found[j] = start + offset
        return slot, np.array(found, dtype=np.int64)

    def _answer(self, row: list[int]) -> Answer:
        """Decide the key whose codes are `row`: epoch, unit value given, then one code per key column."""
        epoch, *contract_codes = row
        on = self._epoch_starts[epoch]
        shipment = self._shipment(tuple(contract_codes), on)
        if isinstance(shipment, InputError):
            return Answer(error=error_text(shipment))
        try:
            return answer_from(decide(shipment, on, rulebook=self.rulebook))
        except InputError as exc:
            return Answer(error=error_text(exc))

    def _shipment(self, codes: tuple[int, ...], on: dt.date) -> Shipment | InputError:
        """The shipment `parse_shipment` reads from the contract with these codes (unit value
        given, then one code per key column), or its error.

        Keys that differ only in their rule epoch share everything but the date, which is
        always a valid date here, so the contract is parsed once, dated the first epoch it is
        met in; `decide(shipment, on)` reads the rules of `on`, not of the shipment's date. A
        contract that does not parse gives the same error whatever the date.
        """
        parsed = self._parsed.get(codes)
        if parsed is None:
            with_value, *columns = codes
            given = zip(KEY_COLUMNS, columns, strict=True)
            raw = {name: self._codes[name].values[code] for name, code in given if code}
            try:
                parsed = parse_shipment(contract(raw, on, bool(with_value)))
            except InputError as exc:
                # Kept without its traceback, which would hold on to this call's frames.
                parsed = exc.with_traceback(None)
            self._parsed[codes] = parsed
        return parsed

    def _assemble(
        self,
        parsed: dict[str, Any],
        names: list[str],
        slot: np.ndarray,
        answers: np.ndarray,
        errors: RowErrors,
        as_of: np.ndarray,
        with_value: np.ndarray,
        overridden: bool,
    ) -> pa.Table:
        table = self._table
        failed = table.failed(answers)[slot]
        problems = errors.any | failed
        # A row with an error of its own or of its key has empty decision columns.
        rows = Rows(slot, answers, ~problems if problems.any() else None)
        # The date the rules were read at; unknown where the row's own date was unreadable.
        date = parsed.get("date")
        as_of_column = date if not overridden and date is not None else from_numpy(as_of).cast(pa.date32())
        texts, flags, numbers, amounts = table.texts, table.flags, table.numbers, table.amounts
        added: dict[str, pa.Array] = {
            "as_of": as_of_column,
            "outcome": texts["outcome"].column(rows),
            "eccn": texts["eccn"].column(rows),
            "tpp": numbers["tpp"].column(rows),
            "license_required": flags["license_required"].column(rows),
            "review_policy": texts["review_policy"].column(rows),
            "license_conditions": texts["license_conditions"].column(rows),
            "china_approval_required": flags["china_approval_required"].column(rows),
            "duty_tariff": texts["duty_tariff"].column(rows),
            "duty_rate": amounts["duty_rate"].column(rows),
            "duty_amount_usd": self._duty_amounts(parsed, rows, with_value),
            "restricted_party_hits": texts["restricted_party_hits"].column(rows),
            "reasons": texts["reasons"].column(rows),
            "rulebook_version": pa.DictionaryArray.from_arrays(
                from_numpy(np.zeros(len(slot), dtype=np.int32)), self._version_array()
            ),
            "error": self._errors(rows, failed, errors),
        }
        arrays = [_carry(parsed[name]) for name in names] + [added[name] for name, _ in OUTPUT_FIELDS]
        return pa.Table.from_arrays(arrays, names=[*names, *(name for name, _ in OUTPUT_FIELDS)])

    def _duty_amounts(self, parsed: dict[str, Any], rows: Rows, with_value: np.ndarray) -> pa.Array:
        factor = self._table.amounts["duty_amount"].column(rows)
        # Without a unit value the amount decided for the key is the row's amount (none, or
        # nothing owed); with one it scales by the row's quantity and unit value. A row not
        # decided has no factor.
        scaled = with_value & valid(factor)
        if not scaled.any():
            return factor
        taken = from_numpy(np.nonzero(scaled)[0])
        quantity = pc.cast(parsed["quantity"].take(taken), _WIDE_QUANTITY)
        value = pc.cast(pc.cast(parsed["unit_value_usd"].take(taken), MONEY, safe=False), _WIDE_VALUE)
        amount = pc.multiply(pc.multiply(pc.cast(factor.take(taken), _WIDE_RATE), quantity), value)
        amount = pc.cast(pc.round(amount, 6), MONEY)
        return pc.replace_with_mask(factor, from_numpy(scaled), amount)

    def _errors(self, rows: Rows, failed: np.ndarray, errors: RowErrors) -> pa.Array:
        """Each row's problems: its own fields' first, then its key's, if any."""
        texts = self._table.texts["error"]
        out = pc.cast(texts.column(Rows(rows.slot, rows.answers, failed & ~errors.any)), pa.string())
        wrong = np.nonzero(errors.any)[0]
        if not len(wrong):
            return out
        messages = []
        for row, found in zip(wrong, errors.messages(wrong), strict=True):
            problem = texts.text(int(rows.answers[rows.slot[row]]))
            if problem is not None and problem not in found:
                found.append(problem)
            messages.append(LIST_SEPARATOR.join(found))
        return pc.replace_with_mask(out, from_numpy(errors.any), strings(messages))


_settled = threading.Event()


def _settle_loaded_data() -> None:
    """Move the objects loaded so far out of the cycle collector's reach, once per process.

    The rule data, the lists and the matcher's index (about 170,000 objects) live as long
    as the process, yet each full collection would walk them all again (about 50 ms, the
    first one landing among the first key decisions). Frozen objects are still freed by
    their reference counts; only a cycle among them would outlive its use.
    """
    if not _settled.is_set():
        _settled.set()
        gc.freeze()


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


__all__ = ["INPUT_COLUMNS", "BatchEngine", "contract"]
