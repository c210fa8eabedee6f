"""Duties owed on an import: the Section 232 semiconductor duty (Proclamation 11002)."""

from __future__ import annotations

from decimal import Decimal

from chipgate.decide.context import Facts
from chipgate.model import Duty, Reason

RATE = "tariffs.section_232_semiconductors.rate"
HEADING = "tariffs.section_232_semiconductors.heading"
BANDS = "tariffs.section_232_semiconductors.bands"
EXEMPT = "tariffs.section_232_semiconductors.exempt_end_uses"
IMPORTING = "tariffs.section_232_semiconductors.importing_countries"
TARIFF = "section-232-semiconductors"


def covered_band(tpp: float, dram: float | None, bands: list[dict[str, float]]) -> str | None:
    """The band whose strict bounds contain the chip, or None."""
    if dram is None:
        return None
    for band in bands:
        if band["tpp_above"] < tpp < band["tpp_below"] and band["dram_above_gbs"] < dram < band["dram_below_gbs"]:
            return str(band["id"])
    return None


def duties(facts: Facts) -> tuple[list[Duty], list[Reason]]:
    s = facts.shipment
    rules = facts.rules
    rate = rules.get(RATE)
    # The duty falls on entry into the importing country, however the sender labels the
    # movement (an "export" from Taiwan to the US is an import into the US).
    enters = s.kind != "in_country_transfer" and s.from_country != s.to_country
    if not enters or rate is None or s.to_country not in rules.value(IMPORTING, ()):
        return [], []
    cls = facts.classification
    bands = rules.value(BANDS, [])
    band = covered_band(cls.tpp, cls.dram_bandwidth_gbs, bands)
    heading = rules.value(HEADING)
    exempt = rules.value(EXEMPT, ())

    def reason(text: str) -> Reason:
        return Reason(
            rule="tariffs.section_232_semiconductors",
            citation=rate.citation,
            effective_from=rate.effective_from,
            text=text,
            facts={"band": band, "tpp": cls.tpp, "dram_bandwidth_gbs": cls.dram_bandwidth_gbs},
        )

    if band is None:
        if cls.dram_bandwidth_gbs is None:
            text = (
                "No Section 232 duty established: total DRAM bandwidth unknown, so the bands cannot be shown to apply."
            )
        else:
            text = (
                f"No Section 232 duty: TPP {cls.tpp:,.1f} with {cls.dram_bandwidth_gbs:,.0f} GB/s is in "
                "none of the covered bands (all bounds strict)."
            )
        return [Duty(TARIFF, Decimal(0), Decimal(0), heading)], [reason(text)]
    if s.end_use in exempt:
        text = f"No Section 232 duty: covered ({band}) but imported for an exempt end use ({s.end_use})."
        return [Duty(TARIFF, Decimal(0), Decimal(0), heading)], [reason(text)]
    rate_value = Decimal(str(rate.value))
    amount = rate_value * s.quantity * s.unit_value_usd if s.unit_value_usd is not None else None
    owed = f"USD {amount:,.2f}" if amount is not None else "an amount that needs the unit value"
    note = " Import for third-party testing before export is not exempt." if s.end_use == "testing" else ""
    text = (
        f"Section 232 duty {rate_value * 100:.0f}% (heading {heading}): covered article in {band}, "
        f"end use {s.end_use!r} is not exempt; {owed}.{note}"
    )
    return [Duty(TARIFF, rate_value, amount, heading)], [reason(text)]
