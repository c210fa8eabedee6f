"""The chip catalogue: datasheet facts per chip, with sources, and lookup by id or common name."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from rapidfuzz import fuzz, process

from chipgate.errors import UnknownChipError
from chipgate.model import BIT_LENGTH, Chip, ChipSpec

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _key(name: str) -> str:
    """Names compare without case, spaces or punctuation: 'H200 SXM' == 'h200-sxm'."""
    return _NON_ALNUM.sub("", name.casefold())


def _number(raw: str) -> float | None:
    raw = raw.strip()
    return float(raw) if raw else None


class Catalogue:
    """Chips by id; `resolve` also accepts common names where they are unambiguous."""

    def __init__(self, chips: list[Chip]) -> None:
        self._by_id = {chip.id: chip for chip in chips}
        # An explicit common name (e.g. "H200") names exactly one chip; a model name
        # shared by several variants (e.g. "A100") is ambiguous unless an alias claims it.
        self._by_alias: dict[str, str] = {}
        self._by_name: dict[str, set[str]] = {}
        for chip in chips:
            self._by_alias[_key(chip.id)] = chip.id
            for alias in chip.aliases:
                self._by_alias[_key(alias)] = chip.id
            for name in (chip.model, f"{chip.vendor} {chip.model}", chip.display_name):
                self._by_name.setdefault(_key(name), set()).add(chip.id)
        self._choices = {chip.id: " ".join((chip.id, chip.display_name, *chip.aliases)) for chip in chips}

    @classmethod
    def from_csv(cls, path: Path) -> Catalogue:
        with path.open(newline="", encoding="utf-8") as fh:
            return cls([_chip_from_row(row) for row in csv.DictReader(fh)])

    def __iter__(self) -> Iterator[Chip]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, chip_id: object) -> bool:
        return chip_id in self._by_id

    def get(self, chip_id: str) -> Chip | None:
        return self._by_id.get(chip_id)

    def resolve(self, query: str, field: str = "chip") -> Chip:
        """The chip an id or a common name names; UnknownChipError lists the closest ids."""
        chip = self._by_id.get(query)
        if chip is not None:
            return chip
        key = _key(query)
        chip_id = self._by_alias.get(key)
        if chip_id is not None:
            return self._by_id[chip_id]
        named = self._by_name.get(key, set())
        if len(named) == 1:
            return self._by_id[next(iter(named))]
        if named:
            raise UnknownChipError(field, query, sorted(named), ambiguous=True)
        raise UnknownChipError(field, query, self.closest(query), ambiguous=False)

    def closest(self, query: str, limit: int = 5) -> list[str]:
        found = process.extract(query, self._choices, scorer=fuzz.WRatio, limit=limit)
        return [chip_id for _, _, chip_id in found]

    def vendors(self) -> list[str]:
        return sorted({chip.vendor for chip in self._by_id.values()})


def _chip_from_row(row: dict[str, str]) -> Chip:
    dense = {p: v for p in BIT_LENGTH if (v := _number(row.get(p, ""))) is not None}
    spec = ChipSpec(
        dense_tops=dense,
        die_area_mm2=_number(row["die_area_mm2"]),
        dram_bandwidth_gbs=_number(row["dram_bandwidth_gbs"]),
        interconnect_gbs=_number(row["interconnect_gbs"]),
        datacenter=row["datacenter"] == "true",
        name=f"{row['vendor']} {row['model']} {row['variant']}".strip(),
    )
    year = _number(row["release_year"])
    return Chip(
        id=row["id"],
        vendor=row["vendor"],
        model=row["model"],
        variant=row["variant"],
        spec=spec,
        sources=tuple(row["sources"].split()),
        aliases=tuple(a for a in row["aliases"].split(";") if a),
        release_year=int(year) if year is not None else None,
        memory_gb=_number(row["memory_gb"]),
        confidence=row["confidence"],
        reported_classification=row["reported_classification"],
        notes=row["notes"],
    )
