"""Classify a chip under ECCN 3A090 as in force on a date: TPP, performance density, prong.

Pure: the date and the rulebook are arguments; nothing here reads a clock or a file
except through the rulebook it is given.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from chipgate.errors import InputError
from chipgate.model import BIT_LENGTH, Chip, ChipSpec, Classification, Reason
from chipgate.rulebook import Rulebook, RuleSet, default_rulebook

PRONGS = "us.eccn_3a090.prongs"
DATACENTER_NOTE = "us.eccn_3a090.datacenter_note"

# The criteria a prong may name, and the fact each reads; see rules/us/eccn_3a090.yaml.
_CRITERIA: Mapping[str, tuple[str, str]] = {
    "tpp_min": ("tpp", ">="),
    "tpp_below": ("tpp", "<"),
    "pd_min": ("performance_density", ">="),
    "pd_below": ("performance_density", "<"),
    "interconnect_min_gbs": ("interconnect_gbs", ">="),
}
_FACT_LABEL = {
    "tpp": "TPP",
    "performance_density": "performance density",
    "interconnect_gbs": "aggregate bidirectional transfer rate (GB/s)",
}


def total_processing_performance(spec: ChipSpec) -> tuple[Decimal, tuple[str, ...]]:
    """TPP: dense throughput x bit length, the maximum over the precisions given.

    Computed in decimal so that a figure exactly on a threshold (600 TOPS x 8 = 4800)
    compares as the rule words it. Returns the TPP and the precisions that reach it.
    """
    best = Decimal(0)
    best_precisions: list[str] = []
    for precision, throughput in spec.dense_tops.items():
        value = Decimal(str(throughput)) * BIT_LENGTH[precision]
        if value > best:
            best, best_precisions = value, [precision]
        elif value == best and value > 0:
            best_precisions.append(precision)
    # Report the tying precisions narrowest first, as datasheets headline them (fp8 before fp16).
    return best, tuple(sorted(best_precisions, key=lambda p: BIT_LENGTH[p]))


def performance_density(tpp: Decimal, spec: ChipSpec) -> Decimal | None:
    """TPP per mm2 of applicable die area; unknown when the area is."""
    if spec.die_area_mm2 is None:
        return None
    return tpp / Decimal(str(spec.die_area_mm2))


def classify(
    chip: Chip | ChipSpec | str,
    on: dt.date,
    *,
    rulebook: Rulebook | None = None,
) -> Classification:
    """The 3A090 classification of a catalogue chip (by id, name or entry) or a datasheet spec."""
    book = rulebook or default_rulebook()
    if isinstance(chip, str):
        chip = book.catalogue.resolve(chip)
    if isinstance(chip, Chip):
        found = _classify_catalogue_chip(book, chip.id, book.epoch_start(on))
        # The cached answer is dated at the start of its epoch; asked on that very date (as
        # the batch does), it is already the answer, so no copy is made.
        return found if found.as_of == on else dataclasses.replace(found, as_of=on)
    if not isinstance(chip, ChipSpec):
        raise TypeError(f"classify takes a Chip, a ChipSpec or a chip id, not {type(chip).__name__}")
    return _classify_spec(chip, book.at(on), on, chip_id=None)


@lru_cache(maxsize=4096)
def _classify_catalogue_chip(book: Rulebook, chip_id: str, epoch: dt.date) -> Classification:
    """The class of a catalogue chip in the epoch starting `epoch`, dated `epoch`."""
    found = _classify_catalogue_chip_since(book, chip_id, _class_rules_since(book, epoch))
    return found if found.as_of == epoch else dataclasses.replace(found, as_of=epoch)


@lru_cache(maxsize=1024)
def _classify_catalogue_chip_since(book: Rulebook, chip_id: str, since: dt.date) -> Classification:
    """The class under the prongs and datacenter note in force from `since`, dated `since`."""
    chip = book.catalogue.get(chip_id)
    assert chip is not None
    return _classify_spec(chip.spec, book.at(since), since, chip_id=chip_id)


def _class_rules_since(book: Rulebook, on: dt.date) -> dt.date:
    """The latest date on or before `on` on which the prongs or the datacenter note changed.

    A class reads only those two parameters, which change on far fewer dates than the
    rulebook's epochs, so the epochs between two of their changes share one classification
    (re-dated), rather than each working it out again.
    """
    dates: set[dt.date] = set()
    for parameter in (PRONGS, DATACENTER_NOTE):
        if parameter in book.parameters:
            dates |= book.parameters[parameter].change_dates()
    changes = sorted(dates)
    i = bisect.bisect_right(changes, on)
    return changes[i - 1] if i else dt.date.min


def _classify_spec(spec: ChipSpec, rules: RuleSet, on: dt.date, chip_id: str | None) -> Classification:
    tpp, precisions = total_processing_performance(spec)
    density = performance_density(tpp, spec)
    facts: dict[str, Decimal | None] = {
        "tpp": tpp,
        "performance_density": density,
        "interconnect_gbs": (Decimal(str(spec.interconnect_gbs)) if spec.interconnect_gbs is not None else None),
    }
    base = Classification(
        as_of=on,
        tpp=float(tpp),
        tpp_precision="/".join(precisions) or None,
        performance_density=float(density) if density is not None else None,
        dram_bandwidth_gbs=spec.dram_bandwidth_gbs,
        interconnect_gbs=spec.interconnect_gbs,
        datacenter=spec.datacenter,
        eccn=None,
        prong=None,
        reasons=(),
        chip_id=chip_id,
        name=spec.name,
    )
    prongs = rules.get(PRONGS)
    reasons: list[Reason] = []
    if prongs is None:
        first = rules.rulebook.history(PRONGS)[0]
        reasons.append(
            Reason(
                rule="us.eccn_3a090",
                citation=first.citation,
                effective_from=first.effective_from,
                text=f"No ECCN 3A090 on this date: it was created with effect from {first.effective_from}.",
            )
        )
        return dataclasses.replace(base, reasons=tuple(reasons))

    reasons.append(_tpp_reason(spec, tpp, precisions, prongs.citation, prongs.effective_from))
    reasons.append(_density_reason(spec, tpp, density, prongs.citation, prongs.effective_from))

    if not precisions:
        # A catalogue entry without published throughput (e.g. a China SKU) cannot be placed.
        reasons.append(_undetermined_reason(["tpp"], prongs.citation, prongs.effective_from))
        return dataclasses.replace(base, reasons=tuple(reasons), undetermined=("tpp",))

    note = rules.get(DATACENTER_NOTE)
    if note is not None and not spec.datacenter and tpp < Decimal(str(note.value["tpp_below"])):
        reasons.append(
            Reason(
                rule="us.eccn_3a090.datacenter_note",
                citation=note.citation,
                effective_from=note.effective_from,
                text=(
                    f"Outside 3A090: not designed or marketed for datacenters and TPP "
                    f"{_fmt(tpp)} < {_fmt(note.value['tpp_below'])}."
                ),
                facts={"datacenter": False, "tpp": float(tpp)},
            )
        )
        return dataclasses.replace(base, reasons=tuple(reasons))

    undetermined: list[str] = []
    for prong in prongs.value:
        met, missing, comparisons = _evaluate(prong, facts)
        if met:
            reasons.append(
                Reason(
                    rule=str(prong["id"]),
                    citation=prongs.citation,
                    effective_from=prongs.effective_from,
                    text=f"{prong['id']}: " + " and ".join(comparisons) + ".",
                    facts={k: float(v) for k, v in facts.items() if v is not None},
                )
            )
            if undetermined:
                reasons.append(_undetermined_reason(undetermined, prongs.citation, prongs.effective_from))
            return dataclasses.replace(
                base, eccn=prong["eccn"], prong=prong["id"], reasons=tuple(reasons), undetermined=tuple(undetermined)
            )
        for fact in missing:
            if fact not in undetermined:
                undetermined.append(fact)

    if undetermined:
        reasons.append(_undetermined_reason(undetermined, prongs.citation, prongs.effective_from))
    else:
        tests = "; ".join(
            f"{p['id']} needs " + " and ".join(_criterion_text(k, v) for k, v in _criteria(p)) for p in prongs.value
        )
        reasons.append(
            Reason(
                rule="us.eccn_3a090",
                citation=prongs.citation,
                effective_from=prongs.effective_from,
                text=f"Not 3A090: meets none of its prongs ({tests}).",
                facts={k: float(v) for k, v in facts.items() if v is not None},
            )
        )
    return dataclasses.replace(base, reasons=tuple(reasons), undetermined=tuple(undetermined))


def _criteria(prong: Mapping[str, Any]) -> list[tuple[str, Any]]:
    unknown = [k for k in prong if k not in _CRITERIA and k not in ("id", "eccn")]
    if unknown:
        raise InputError(PRONGS, f"unknown criterion {unknown[0]!r} in prong {prong.get('id')}")
    return [(k, v) for k, v in prong.items() if k in _CRITERIA]


def _evaluate(prong: Mapping[str, Any], facts: Mapping[str, Decimal | None]) -> tuple[bool, list[str], list[str]]:
    """Whether every criterion holds; the facts that are unknown; the comparisons made."""
    missing: list[str] = []
    comparisons: list[str] = []
    met = True
    for key, threshold in _criteria(prong):
        fact, op = _CRITERIA[key]
        value = facts[fact]
        if value is None:
            missing.append(fact)
            met = False
            continue
        limit = Decimal(str(threshold))
        holds = value >= limit if op == ">=" else value < limit
        comparisons.append(f"{_FACT_LABEL[fact]} {_fmt(value)} {op} {_fmt(limit)}")
        met = met and holds
    return met and not missing, missing, comparisons


def _criterion_text(key: str, threshold: Any) -> str:
    fact, op = _CRITERIA[key]
    return f"{_FACT_LABEL[fact]} {op} {_fmt(threshold)}"


def _tpp_reason(spec: ChipSpec, tpp: Decimal, precisions: tuple[str, ...], citation: str, since: dt.date) -> Reason:
    if not precisions:
        text = "TPP 0: no dense throughput figure was given."
    else:
        p = precisions[0]
        text = (
            f"TPP {_fmt(tpp)} = {_fmt(spec.dense_tops[p])} dense TOPS at {p} x "
            f"{BIT_LENGTH[p]} bits, the highest over the precisions given."
        )
    return Reason(
        rule="us.eccn_3a090.technical_note.tpp",
        citation=citation,
        effective_from=since,
        text=text,
        facts={"tpp": float(tpp), "precisions": list(precisions)},
    )


def _density_reason(spec: ChipSpec, tpp: Decimal, density: Decimal | None, citation: str, since: dt.date) -> Reason:
    if density is None:
        text = (
            "Performance density unknown: no applicable die area was given, so only the "
            "prongs without a performance-density criterion can apply."
        )
    else:
        text = (
            f"Performance density {_fmt(density)} = TPP {_fmt(tpp)} / "
            f"{_fmt(spec.die_area_mm2)} mm2 of applicable die area."
        )
    return Reason(
        rule="us.eccn_3a090.technical_note.performance_density",
        citation=citation,
        effective_from=since,
        text=text,
        facts={"performance_density": float(density) if density is not None else None},
    )


def _undetermined_reason(missing: list[str], citation: str, since: dt.date) -> Reason:
    labels = ", ".join(_FACT_LABEL[m] for m in missing)
    return Reason(
        rule="us.eccn_3a090",
        citation=citation,
        effective_from=since,
        text=f"Cannot settle every prong without: {labels}; give it to classify fully.",
        facts={"undetermined": list(missing)},
    )


def _fmt(value: Any) -> str:
    """Numbers as a person reads them: thousands separators, at most four decimals."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return f"{int(number):,}"
    text = f"{number:,.4f}".rstrip("0").rstrip(".")
    return text
