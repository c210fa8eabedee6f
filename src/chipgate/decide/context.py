"""The facts every part of a decision reads, gathered once per shipment."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from chipgate.model import Chip, Classification, Party, PartyHit, Shipment
from chipgate.rulebook import RuleSet


@dataclass(frozen=True, slots=True)
class Facts:
    shipment: Shipment
    on: dt.date
    rules: RuleSet
    chip: Chip | None
    classification: Classification
    party_hits: tuple[PartyHit, ...]

    @property
    def chip_id(self) -> str | None:
        return self.chip.id if self.chip else None

    @property
    def parties(self) -> tuple[tuple[str, Party], ...]:
        s = self.shipment
        if s.end_user is s.consignee or s.end_user == s.consignee:
            return (("consignee", s.consignee),)
        return (("consignee", s.consignee), ("end_user", s.end_user))
