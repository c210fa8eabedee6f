"""Parse the JSON contracts (a chip spec, a shipment) into domain values, naming any bad field."""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, cast

from chipgate.errors import InputError
from chipgate.model import BIT_LENGTH, END_USES, SHIPMENT_KINDS, ChipSpec, Item, Party, Shipment
from chipgate.rulebook import package_path

# No datasheet figure (TOPS, mm2, GB/s) comes near this; larger numbers are typing errors
# and would overflow the arithmetic downstream.
MAX_FIGURE = 1e9
# Units in one shipment or authorisation, and US dollars in one amount: far above any real
# order, and inside what every database stores exactly as a 64-bit integer or decimal.
MAX_UNITS = 10**12
MAX_USD = Decimal(10) ** 15


def is_text(value: str) -> bool:
    """Whether a string can be stored and sent as UTF-8: no unpaired surrogates, no NUL."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def require_text(value: str, field: str) -> str:
    if not is_text(value):
        raise InputError(field, "contains characters that are not valid text (unpaired surrogates or NUL)")
    return value


SPEC_KEYS = ("name", "dense_tops", "die_area_mm2", "dram_bandwidth_gbs", "interconnect_gbs", "datacenter")
SHIPMENT_KEYS = (
    "date",
    "kind",
    "from_country",
    "to_country",
    "item",
    "quantity",
    "unit_value_usd",
    "consignee",
    "end_user",
    "end_use",
    "exporter",
)
PARTY_KEYS = ("name", "country", "headquarters_country", "parent_headquarters_country", "identifiers")


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (the packaged table), for validating country fields."""
    path = package_path("data") / "countries.csv"
    with path.open(encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return frozenset(row["code"] for row in rows)


def _require_mapping(raw: Any, field: str) -> Mapping[str, Any]:
    # A dict, as parsed JSON always is, passes without the slower abstract-class check.
    if not isinstance(raw, dict) and not isinstance(raw, Mapping):
        raise InputError(field or "input", f"expected a JSON object, found {_kind(raw)}")
    return raw


def _reject_unknown(raw: Mapping[str, Any], allowed: tuple[str, ...], prefix: str) -> None:
    for key in raw:
        if key not in allowed:
            raise InputError(_join(prefix, str(key)), f"unknown field; allowed: {', '.join(allowed)}")


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _kind(raw: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(raw), "null" if raw is None else "a number"
    )


def _non_negative(raw: Any, field: str, *, required: bool = False) -> float | None:
    if raw is None:
        if required:
            raise InputError(field, "is required: a number >= 0")
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise InputError(field, f"expected a number >= 0, found {_kind(raw)}")
    value = float(raw)
    if math.isnan(value) or math.isinf(value) or value < 0 or value > MAX_FIGURE:
        raise InputError(field, f"expected a number from 0 to {MAX_FIGURE:.0e}, found {raw!r}")
    return value


def parse_spec(raw: Any, prefix: str = "") -> ChipSpec:
    """A chip spec from the classify contract; only `dense_tops` is required."""
    body = _require_mapping(raw, prefix)
    _reject_unknown(body, SPEC_KEYS, prefix)
    field = _join(prefix, "dense_tops")
    tops = body.get("dense_tops")
    if tops is None:
        raise InputError(field, f"is required: an object of precision -> dense TOPS ({', '.join(BIT_LENGTH)})")
    tops = _require_mapping(tops, field)
    if not tops:
        raise InputError(field, f"needs at least one precision ({', '.join(BIT_LENGTH)})")
    dense: dict[str, float] = {}
    for precision, value in tops.items():
        if precision not in BIT_LENGTH:
            raise InputError(f"{field}.{precision}", f"unknown precision; allowed: {', '.join(BIT_LENGTH)}")
        number = _non_negative(value, f"{field}.{precision}", required=True)
        assert number is not None
        dense[precision] = number
    datacenter = body.get("datacenter", True)
    if not isinstance(datacenter, bool):
        raise InputError(_join(prefix, "datacenter"), f"expected true or false, found {_kind(datacenter)}")
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise InputError(_join(prefix, "name"), f"expected a string, found {_kind(name)}")
    if name is not None:
        require_text(name, _join(prefix, "name"))
    die = _non_negative(body.get("die_area_mm2"), _join(prefix, "die_area_mm2"))
    if die == 0:
        raise InputError(_join(prefix, "die_area_mm2"), "must be > 0 (leave it out when unknown)")
    return ChipSpec(
        dense_tops=dense,
        die_area_mm2=die,
        dram_bandwidth_gbs=_non_negative(body.get("dram_bandwidth_gbs"), _join(prefix, "dram_bandwidth_gbs")),
        interconnect_gbs=_non_negative(body.get("interconnect_gbs"), _join(prefix, "interconnect_gbs")),
        datacenter=datacenter,
        name=name,
    )


def parse_date(raw: Any, field: str) -> dt.date:
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass
    raise InputError(field, f"expected a date as YYYY-MM-DD, found {raw!r}")


def parse_country(raw: Any, field: str, *, required: bool = True) -> str | None:
    if raw is None and not required:
        return None
    if not isinstance(raw, str) or raw.upper() not in country_codes():
        raise InputError(field, f"expected an ISO 3166 alpha-2 country code (e.g. US, CN, MO), found {raw!r}")
    return raw.upper()


def parse_party(raw: Any, field: str) -> Party:
    body = _require_mapping(raw, field)
    _reject_unknown(body, PARTY_KEYS, field)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{field}.name", "is required: the party's name")
    require_text(name, f"{field}.name")
    country = parse_country(body.get("country"), f"{field}.country")
    assert country is not None
    identifiers = body.get("identifiers") or {}
    if identifiers:
        identifiers = _require_mapping(identifiers, f"{field}.identifiers")
    return Party(
        name=name.strip(),
        country=country,
        headquarters_country=parse_country(
            body.get("headquarters_country"), f"{field}.headquarters_country", required=False
        ),
        parent_headquarters_country=parse_country(
            body.get("parent_headquarters_country"), f"{field}.parent_headquarters_country", required=False
        ),
        identifiers={
            require_text(str(k), f"{field}.identifiers"): require_text(str(v), f"{field}.identifiers.{k}")
            for k, v in identifiers.items()
        },
    )


def parse_item(raw: Any, field: str = "item") -> Item:
    body = _require_mapping(raw, field)
    _reject_unknown(body, ("chip", "spec"), field)
    if ("chip" in body) == ("spec" in body):
        raise InputError(field, 'give exactly one of {"chip": ID} or {"spec": {...}}')
    if "chip" in body:
        chip = body["chip"]
        if not isinstance(chip, str) or not chip.strip():
            raise InputError(f"{field}.chip", "expected a chip id such as nvidia-h200-sxm")
        return Item(chip=chip.strip())
    return Item(spec=parse_spec(body["spec"], f"{field}.spec"))


def parse_quantity(raw: Any, field: str = "quantity") -> int:
    if (
        isinstance(raw, bool)
        or not isinstance(raw, int | float)
        or (isinstance(raw, float) and not math.isfinite(raw))
        or raw != int(raw)
        or not 1 <= raw <= MAX_UNITS
    ):
        raise InputError(field, f"expected a whole number of units from 1 to {MAX_UNITS:,}, found {raw!r}")
    return int(raw)


def parse_money(raw: Any, field: str) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise InputError(field, "expected an amount in USD >= 0")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise InputError(field, f"expected an amount in USD >= 0, found {raw!r}") from None
    if not value.is_finite() or value < 0 or value > MAX_USD:
        raise InputError(field, f"expected an amount in USD from 0 to {MAX_USD:,.0f}, found {raw!r}")
    return value


def parse_shipment(raw: Any) -> Shipment:
    """A shipment from the decide contract (see docs/contracts.md)."""
    body = _require_mapping(raw, "")
    _reject_unknown(body, SHIPMENT_KEYS, "")
    for required in ("date", "kind", "to_country", "item", "quantity", "consignee"):
        if required not in body:
            raise InputError(required, "is required")
    kind = body["kind"]
    if kind not in SHIPMENT_KINDS:
        raise InputError("kind", f"{kind!r} is not allowed; allowed: {', '.join(SHIPMENT_KINDS)}")
    end_use = body.get("end_use", "datacenter")
    if end_use not in END_USES:
        raise InputError("end_use", f"{end_use!r} is not allowed; allowed: {', '.join(END_USES)}")
    consignee = parse_party(body["consignee"], "consignee")
    end_user = parse_party(body["end_user"], "end_user") if body.get("end_user") else consignee
    to_country = parse_country(body["to_country"], "to_country")
    assert to_country is not None
    from_default = to_country if kind == "in_country_transfer" else "US"
    from_country = parse_country(body.get("from_country", from_default), "from_country")
    assert from_country is not None
    exporter = body.get("exporter")
    if exporter is not None and (not isinstance(exporter, str) or not exporter.strip()):
        raise InputError("exporter", "expected the exporter's name as a string")
    if exporter is not None:
        require_text(exporter, "exporter")
    return Shipment(
        date=parse_date(body["date"], "date"),
        kind=cast(Any, kind),
        from_country=from_country,
        to_country=to_country,
        item=parse_item(body["item"]),
        quantity=parse_quantity(body["quantity"]),
        unit_value_usd=parse_money(body.get("unit_value_usd"), "unit_value_usd"),
        consignee=consignee,
        end_user=end_user,
        end_use=end_use,
        exporter=exporter.strip() if exporter else None,
    )
