"""The answers an engine has decided, one per decision key, and the output columns made from them.

Each answer is the flat form of one `Decision`. The table keeps every field of every answer
as a column (text as codes into a dictionary of the field's distinct values), so that a
batch's output columns are numpy takes by answer number: no Python work per row, and none
per key once the key has been decided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from chipgate.batch._arrow import decimals, from_numpy, strings, valid
from chipgate.batch._columns import LIST_SEPARATOR, MONEY, PART_SEPARATOR
from chipgate.model import Decision


class Answer(NamedTuple):
    """The decision of one key, in the flat form the output columns take.

    A named tuple rather than a frozen dataclass: one is made per key decided, and it is
    made in a fifth of the time.
    """

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


def format_reasons(decision: Decision) -> str:
    return LIST_SEPARATOR.join(_reason_cell(r.rule, r.citation, r.effective_from) for r in decision.reasons)


@lru_cache(maxsize=4096)
def _reason_cell(rule: str, citation: str, effective_from: dt.date | None) -> str:
    # A book's reasons cite a few dozen rules: each is formatted once.
    return PART_SEPARATOR.join((rule, citation, effective_from.isoformat() if effective_from else ""))


def format_party_hits(decision: Decision) -> str | None:
    # The strength says whether the hit applies the list's consequence or waits for a clearance.
    hits = [
        PART_SEPARATOR.join((h.role, h.list_code, h.entry_name, h.strength, h.record_id)) for h in decision.party_hits
    ]
    return LIST_SEPARATOR.join(hits) if hits else None


def answer_from(decision: Decision) -> Answer:
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
    )


@dataclass(frozen=True, slots=True)
class Rows:
    """Which answer each row of a batch takes: each row points at its distinct key (slot), each
    slot at its answer. Columns are made per slot, then spread over the rows with one take."""

    slot: np.ndarray
    answers: np.ndarray
    # False where a row's decision columns stay empty (the row has an error); None: no such row.
    shown: np.ndarray | None = None

    def validity(self, present: np.ndarray) -> np.ndarray | None:
        """Per row, from `present` per slot and `shown`: True where the row holds a value; None if all do."""
        if self.shown is None and bool(present.all()):
            return None
        spread: np.ndarray = present[self.slot]
        return spread if self.shown is None else spread & self.shown


class _Texts:
    """One text field of every answer: a code per answer into the field's distinct values (-1: none)."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}
        self._values: list[str] = []
        self.codes = np.zeros(0, dtype=np.int32)
        self._dictionary: pa.Array | None = None

    def extend(self, values: Sequence[str | None]) -> None:
        index = self._index
        new = [-1 if v is None else index.setdefault(v, len(index)) for v in values]
        if len(index) > len(self._values):
            self._values += list(index)[len(self._values) :]
            self._dictionary = None
        self.codes = np.concatenate([self.codes, np.array(new, dtype=np.int32)])

    def text(self, answer: int) -> str | None:
        code = int(self.codes[answer])
        return None if code < 0 else self._values[code]

    def column(self, rows: Rows) -> pa.DictionaryArray:
        if self._dictionary is None:
            self._dictionary = strings(self._values)
        codes = self.codes[rows.answers]
        present = rows.validity(codes >= 0)
        # A null's index must still be in range.
        indices = np.maximum(codes, 0)[rows.slot]
        return pa.DictionaryArray.from_arrays(from_numpy(indices, present), self._dictionary, safe=False)


class _Flags:
    """One true/false field of every answer (-1: none)."""

    def __init__(self) -> None:
        self.values = np.zeros(0, dtype=np.int8)

    def extend(self, values: Sequence[bool | None]) -> None:
        new = np.array([-1 if v is None else int(v) for v in values], dtype=np.int8)
        self.values = np.concatenate([self.values, new])

    def column(self, rows: Rows) -> pa.Array:
        values = self.values[rows.answers]
        return from_numpy((values == 1)[rows.slot], rows.validity(values >= 0))


class _Numbers:
    """One float field of every answer (NaN: none)."""

    def __init__(self) -> None:
        self.values = np.zeros(0, dtype=np.float64)
        self.given = np.zeros(0, dtype=bool)

    def extend(self, values: Sequence[float | None]) -> None:
        self.values = np.concatenate([self.values, np.array([np.nan if v is None else v for v in values])])
        self.given = np.concatenate([self.given, np.array([v is not None for v in values], dtype=bool)])

    def column(self, rows: Rows) -> pa.Array:
        return from_numpy(self.values[rows.answers][rows.slot], rows.validity(self.given[rows.answers]))


class _Amounts:
    """One decimal field of every answer, as an Arrow array (taken by answer number)."""

    def __init__(self) -> None:
        self._chunks: list[pa.Array] = []
        self._whole: pa.Array | None = decimals([], MONEY)

    def extend(self, values: Sequence[Decimal | None]) -> None:
        self._chunks.append(decimals(values, MONEY))
        self._whole = None

    def column(self, rows: Rows) -> pa.Array:
        if self._whole is None:
            self._whole = pa.concat_arrays(self._chunks)
            self._chunks = [self._whole]
        per_slot = self._whole.take(from_numpy(rows.answers))
        return per_slot.take(from_numpy(rows.slot, rows.validity(valid(per_slot))))


TEXT_FIELDS = (
    "outcome",
    "eccn",
    "review_policy",
    "license_conditions",
    "duty_tariff",
    "restricted_party_hits",
    "reasons",
    "error",
)
FLAG_FIELDS = ("license_required", "china_approval_required")
NUMBER_FIELDS = ("tpp",)
AMOUNT_FIELDS = ("duty_rate", "duty_amount")


class AnswerTable:
    """Every answer decided so far, numbered in the order added, field by field."""

    def __init__(self) -> None:
        self.texts = {name: _Texts() for name in TEXT_FIELDS}
        self.flags = {name: _Flags() for name in FLAG_FIELDS}
        self.numbers = {name: _Numbers() for name in NUMBER_FIELDS}
        self.amounts = {name: _Amounts() for name in AMOUNT_FIELDS}
        self._failed = np.zeros(0, dtype=bool)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def extend(self, answers: Sequence[Answer]) -> None:
        """Add `answers`, numbered from len(self) on."""
        if not answers:
            return
        for name, texts in self.texts.items():
            texts.extend([getattr(a, name) for a in answers])
        for name, flags in self.flags.items():
            flags.extend([getattr(a, name) for a in answers])
        for name, numbers in self.numbers.items():
            numbers.extend([getattr(a, name) for a in answers])
        for name, amounts in self.amounts.items():
            amounts.extend([getattr(a, name) for a in answers])
        self._failed = np.concatenate([self._failed, np.array([a.error is not None for a in answers], dtype=bool)])
        self._count += len(answers)

    def failed(self, answers: np.ndarray) -> np.ndarray:
        """True where the answer is an error (the key's contract does not parse or decide)."""
        failed: np.ndarray = self._failed[answers]
        return failed
