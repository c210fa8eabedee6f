"""Ledger values: authorisations, balances, reservations and journal entries.

All are frozen. Quantities are integers (units); money is kept as integer US cents
inside the ledger and shown as `Decimal` dollars.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, cast

import orjson

from chipgate.inputs import MAX_UNITS, MAX_USD, is_text
from chipgate.ledger.errors import InvalidAuthorization

AuthorizationKind = Literal[
    "us_export_license",
    "cn_import_approval",
    "per_customer_cap",
    "derived_volume_cap",
    "duty_free_quota",
]
AUTHORIZATION_KINDS: tuple[str, ...] = (
    "us_export_license",
    "cn_import_approval",
    "per_customer_cap",
    "derived_volume_cap",
    "duty_free_quota",
)
# How firm a figure is; same vocabulary as the rule data (chipgate.rulebook.loader.STATUSES).
BASES: tuple[str, ...] = ("enacted", "reported", "assumption")
APPROVAL_STATUSES: tuple[str, ...] = ("conditional", "final")
PLANT_STATUSES: tuple[str, ...] = ("construction", "completed")
ReservationStatus = Literal["pending", "posted", "voided", "expired"]

_FIELDS = frozenset(
    {
        "id",
        "kind",
        "products",
        "quantity",
        "value_usd",
        "licensee",
        "exporter",
        "company",
        "consignees",
        "end_users",
        "holders",
        "sub_limits",
        "valid_from",
        "valid_until",
        "status",
        "conditions",
        "reference",
        "issuer",
        "planned_capacity",
        "plant_status",
        "plant_status_on",
        "basis",
        "note",
    }
)


def cents(amount: Decimal) -> int:
    """US dollars to whole cents (values are stored exactly, never as floats)."""
    return int((amount * 100).to_integral_value())


def dollars(amount_cents: int | None) -> Decimal | None:
    return None if amount_cents is None else Decimal(amount_cents) / 100


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """The one JSON spelling of a value: sorted keys, no spaces; what hashes are taken over."""
    return _CANONICAL.encode(value)


def canonical_json_plain(value: Any) -> str:
    """`canonical_json` of a value made only of text, integers, booleans, None, lists and
    dicts with text keys: the same text, several times faster.

    orjson writes that subset exactly as the standard encoder configured above does
    (sorted keys by code point, no spaces, UTF-8 kept, the same escapes); floats are
    spelled differently (1e+16 against 1e16), so callers pass no floats. Anything orjson
    refuses (an integer beyond 64 bits, another type) goes to the standard encoder.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return canonical_json(value)


def request_digest(shipment_text: str, on: str, using: Sequence[str] | None) -> str:
    """What makes two reservation requests the same: shipment, decision date, named authorisations."""
    material = f"{shipment_text}\n{on}\n{','.join(sorted(using)) if using else ''}"
    return hashlib.sha256(material.encode()).hexdigest()


def content_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Authorization:
    """Something on file that permits shipments, kept as an account with a limit.

    Which fields apply depends on `kind`:
    - us_export_license: licensee, consignees, end_users, products (chip ids or ECCNs),
      quantity, optional value_usd, valid_from/valid_until, conditions, reference.
    - cn_import_approval: holders (several = a pool), optional sub_limits per holder,
      products, quantity (None when not published), status conditional|final, conditions.
    - per_customer_cap: consignees (one), products, quantity.
    - derived_volume_cap: exporter, products (one); the limit follows recorded US shipments.
    - duty_free_quota: company, planned_capacity, plant_status (+ plant_status_on), products
      (empty = any); the limit follows the plant's status.
    """

    id: str
    kind: AuthorizationKind
    products: tuple[str, ...] = ()
    quantity: int | None = None
    value_usd: Decimal | None = None
    licensee: str | None = None
    exporter: str | None = None
    company: str | None = None
    consignees: tuple[str, ...] = ()
    end_users: tuple[str, ...] = ()
    holders: tuple[str, ...] = ()
    sub_limits: Mapping[str, int] = field(default_factory=dict)
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    status: str | None = None
    conditions: tuple[str, ...] = ()
    reference: str | None = None
    issuer: str | None = None
    planned_capacity: int | None = None
    plant_status: str | None = None
    plant_status_on: dt.date | None = None
    basis: str = "enacted"
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind}
        for name in sorted(_FIELDS - {"id", "kind"}):
            value = getattr(self, name)
            if value is None or value == () or (isinstance(value, Mapping) and not value):
                continue
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[name] = value
        if self.basis == "enacted":
            out.pop("basis", None)
        return out

    @classmethod
    def from_dict(cls, raw: Any) -> Authorization:
        """Parse and validate an authorisation from its JSON form; errors name the field."""
        if not isinstance(raw, Mapping):
            raise InvalidAuthorization("authorization", "expected a JSON object")
        unknown = sorted(set(raw) - _FIELDS)
        if unknown:
            raise InvalidAuthorization(unknown[0], f"unknown field; allowed: {', '.join(sorted(_FIELDS))}")
        auth_id = raw.get("id")
        if not isinstance(auth_id, str) or not auth_id.strip() or "#" in auth_id or not is_text(auth_id):
            raise InvalidAuthorization("id", "a non-empty text id without '#' is required")
        kind = raw.get("kind")
        if kind not in AUTHORIZATION_KINDS:
            raise InvalidAuthorization("kind", f"{kind!r}; allowed: {', '.join(AUTHORIZATION_KINDS)}")
        auth = cls(
            id=auth_id.strip(),
            kind=cast(AuthorizationKind, kind),
            products=_texts(raw, "products"),
            quantity=_opt_int(raw, "quantity"),
            value_usd=_opt_decimal(raw, "value_usd"),
            licensee=_opt_text(raw, "licensee"),
            exporter=_opt_text(raw, "exporter"),
            company=_opt_text(raw, "company"),
            consignees=_texts(raw, "consignees"),
            end_users=_texts(raw, "end_users"),
            holders=_texts(raw, "holders"),
            sub_limits=_sub_limits(raw),
            valid_from=_opt_date(raw, "valid_from"),
            valid_until=_opt_date(raw, "valid_until"),
            status=_opt_text(raw, "status"),
            conditions=_texts(raw, "conditions"),
            reference=_opt_text(raw, "reference"),
            issuer=_opt_text(raw, "issuer"),
            planned_capacity=_opt_int(raw, "planned_capacity"),
            plant_status=_opt_text(raw, "plant_status"),
            plant_status_on=_opt_date(raw, "plant_status_on"),
            basis=_opt_text(raw, "basis") or "enacted",
            note=_opt_text(raw, "note"),
        )
        auth.validate()
        return auth

    def validate(self) -> None:
        """Refuse an authorisation that lacks what its kind needs, naming the field."""
        if self.basis not in BASES:
            raise InvalidAuthorization("basis", f"{self.basis!r}; allowed: {', '.join(BASES)}")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise InvalidAuthorization("valid_until", "is before valid_from")
        for name in ("quantity", "planned_capacity"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidAuthorization(name, f"{value} is negative; use 0 or more")
        if self.value_usd is not None and self.value_usd < 0:
            raise InvalidAuthorization("value_usd", "is negative")
        kind = self.kind
        if kind == "us_export_license":
            if not self.products:
                raise InvalidAuthorization("products", "a licence names its chips or ECCN")
            if self.quantity is None:
                raise InvalidAuthorization("quantity", "a licence states its quantity")
            if not self.consignees:
                raise InvalidAuthorization("consignees", "a licence names its consignee(s)")
        elif kind == "cn_import_approval":
            if not self.holders:
                raise InvalidAuthorization("holders", "an approval names its holder(s)")
            if not self.products:
                raise InvalidAuthorization("products", "an approval names its chips")
            if self.status not in APPROVAL_STATUSES:
                raise InvalidAuthorization("status", f"{self.status!r}; allowed: {', '.join(APPROVAL_STATUSES)}")
            for holder, limit in self.sub_limits.items():
                if holder not in self.holders:
                    raise InvalidAuthorization(f"sub_limits.{holder}", "is not one of the holders")
                if limit < 0:
                    raise InvalidAuthorization(f"sub_limits.{holder}", "is negative")
        elif kind == "per_customer_cap":
            if len(self.consignees) != 1:
                raise InvalidAuthorization("consignees", "a per-customer cap names one consignee")
            if not self.products or self.quantity is None:
                raise InvalidAuthorization("quantity", "a cap states its products and quantity")
        elif kind == "derived_volume_cap":
            if not self.exporter:
                raise InvalidAuthorization("exporter", "a volume cap names its exporter")
            if len(self.products) != 1:
                raise InvalidAuthorization("products", "a volume cap is per product: name one")
            if self.quantity is not None:
                raise InvalidAuthorization("quantity", "a derived cap's limit follows recorded US shipments; omit it")
        elif kind == "duty_free_quota":
            if not self.company:
                raise InvalidAuthorization("company", "a quota names its company")
            if self.planned_capacity is None:
                raise InvalidAuthorization("planned_capacity", "the planned US capacity in units")
            if self.plant_status not in PLANT_STATUSES:
                raise InvalidAuthorization(
                    "plant_status", f"{self.plant_status!r}; allowed: {', '.join(PLANT_STATUSES)}"
                )
            if self.plant_status_on is None:
                raise InvalidAuthorization("plant_status_on", "the date the status took effect")
            if self.quantity is not None:
                raise InvalidAuthorization("quantity", "a quota's limit follows the plant status; omit it")


@dataclass(frozen=True, slots=True)
class Balance:
    """Where one authorisation stands: limit, held by pending reservations, used, available."""

    authorization_id: str
    kind: str
    limit: int | None
    held: int
    used: int
    value_limit_usd: Decimal | None = None
    value_held_usd: Decimal = Decimal(0)
    value_used_usd: Decimal = Decimal(0)
    revoked: bool = False
    parent: str | None = None
    basis: str = "enacted"

    @property
    def available(self) -> int | None:
        """None when the limit is not published (the holding is tracked, not capped)."""
        if self.limit is None:
            return None
        return max(0, self.limit - self.held - self.used)

    def to_dict(self) -> dict[str, Any]:
        return {
            "authorization": self.authorization_id,
            "kind": self.kind,
            "limit": self.limit,
            "held": self.held,
            "used": self.used,
            "available": self.available,
            "value_limit_usd": _money(self.value_limit_usd),
            "value_held_usd": _money(self.value_held_usd),
            "value_used_usd": _money(self.value_used_usd),
            "revoked": self.revoked,
            "parent": self.parent,
            "basis": self.basis,
        }


@dataclass(frozen=True, slots=True)
class Leg:
    """The part of a reservation held on one authorisation."""

    authorization_id: str
    quantity: int
    value_cents: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "authorization": self.authorization_id,
            "quantity": self.quantity,
            "value_usd": _money(dollars(self.value_cents)),
        }


@dataclass(frozen=True, slots=True)
class Reservation:
    """Quantity held against one or more authorisations for one shipment."""

    key: str
    status: ReservationStatus
    quantity: int
    legs: tuple[Leg, ...]
    shipment: Mapping[str, Any]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    actor: str
    finished_at: dt.datetime | None = None

    @property
    def authorizations(self) -> tuple[str, ...]:
        return tuple(leg.authorization_id for leg in self.legs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "status": self.status,
            "quantity": self.quantity,
            "legs": [leg.to_dict() for leg in self.legs],
            "shipment": dict(self.shipment),
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "actor": self.actor,
        }


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One change, chained to the previous entry by its hash."""

    seq: int
    at: str
    actor: str
    op: str
    subject: str
    payload: str
    prev_hash: bytes
    hash: bytes

    @property
    def data(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.payload)
        return loaded

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "op": self.op,
            "subject": self.subject,
            "data": self.data,
            "prev_hash": self.prev_hash.hex(),
            "hash": self.hash.hex(),
        }


@dataclass(frozen=True, slots=True)
class Clearance:
    """An analyst's finding that a party is not the restricted-party list entry it possibly
    matched, for that entry exactly as it read when cleared (`entry_fingerprint`).

    `revoked_at` is set when the clearance is withdrawn; a withdrawn clearance never
    applies again (record a new one instead).
    """

    id: str
    party: str
    record_id: str
    list_code: str
    entry_fingerprint: str
    snapshot: str
    reason: str
    actor: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None

    @property
    def live(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "party": self.party,
            "record_id": self.record_id,
            "list_code": self.list_code,
            "entry_fingerprint": self.entry_fingerprint,
            "snapshot": self.snapshot,
            "reason": self.reason,
            "actor": self.actor,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoked_by": self.revoked_by,
            "revoke_reason": self.revoke_reason,
        }


@dataclass(frozen=True, slots=True)
class Problem:
    """The first discrepancy `verify` found: which entry (or authorisation) and what."""

    seq: int | None
    authorization_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"journal entry {self.seq}" if self.seq is not None else "ledger"
        if self.authorization_id:
            where += f" (authorisation {self.authorization_id})"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    entries: int
    authorizations: int
    problem: Problem | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "authorizations": self.authorizations,
            "problem": str(self.problem) if self.problem else None,
            "seq": self.problem.seq if self.problem else None,
        }


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


# ---- parsing helpers, errors name the field ------------------------------------------


def _texts(raw: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = raw.get(name)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() and is_text(v) for v in value):
        raise InvalidAuthorization(name, "expected a list of non-empty texts")
    return tuple(v.strip() for v in value)


def _opt_text(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not is_text(value):
        raise InvalidAuthorization(name, "expected text")
    return value.strip() or None


def _opt_int(raw: Mapping[str, Any], name: str) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAuthorization(name, f"{value!r} is not a whole number of units")
    if value > MAX_UNITS:
        raise InvalidAuthorization(name, f"{value} is more than {MAX_UNITS:,} units")
    return value


def _opt_decimal(raw: Mapping[str, Any], name: str) -> Decimal | None:
    value = raw.get(name)
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidAuthorization(name, f"{value!r} is not an amount") from None
    if not amount.is_finite() or amount > MAX_USD:
        raise InvalidAuthorization(name, f"{value!r} is not an amount from 0 to {MAX_USD:,.0f}")
    return amount


def _opt_date(raw: Mapping[str, Any], name: str) -> dt.date | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidAuthorization(name, f"{value!r} is not a date; use YYYY-MM-DD") from None


def _sub_limits(raw: Mapping[str, Any]) -> dict[str, int]:
    value = raw.get("sub_limits")
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidAuthorization("sub_limits", "expected an object of holder: units")
    out: dict[str, int] = {}
    for holder, limit in value.items():
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise InvalidAuthorization(f"sub_limits.{holder}", "expected whole units")
        out[str(holder)] = limit
    return out
