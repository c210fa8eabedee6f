"""Shared test material: shipments, a standard set of authorisations, backends, a clock."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from decimal import Decimal
from typing import Any

import psycopg

from chipgate.ledger import Ledger
from chipgate.model import Item, Party, Shipment

PG_URL = os.environ.get("CHIPGATE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
H200 = "nvidia-h200-sxm"
START = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
ACTOR = "tester"


class Clock:
    """A settable clock: the ledger reads the time from it instead of the system."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def pg_available() -> bool:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def pg_target() -> str:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    joiner = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{joiner}schema={schema}"


def drop_pg_target(url: str) -> None:
    schema = url.rsplit("schema=", 1)[1]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def shipment(
    quantity: int,
    buyer: str = "Alibaba Cloud",
    *,
    on: dt.date = dt.date(2026, 3, 2),
    chip: str = H200,
    exporter: str | None = "NVIDIA",
    unit_value: str | None = "27000",
    kind: str = "export",
    from_country: str = "US",
    to_country: str = "CN",
) -> Shipment:
    party = Party(name=buyer, country=to_country)
    return Shipment(
        date=on,
        kind=kind,  # type: ignore[arg-type]
        from_country=from_country,
        to_country=to_country,
        item=Item(chip=chip),
        quantity=quantity,
        consignee=party,
        end_user=party,
        unit_value_usd=Decimal(unit_value) if unit_value else None,
        exporter=exporter,
    )


def licence(auth_id: str, consignee: str, quantity: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": auth_id,
        "kind": "us_export_license",
        "licensee": "NVIDIA",
        "consignees": [consignee],
        "products": [H200],
        "quantity": quantity,
        "valid_from": "2026-02-01",
        "valid_until": "2027-01-31",
        "reference": f"D{auth_id}",
        **extra,
    }


def seed_standard(
    ledger: Ledger,
    *,
    pool: int = 3000,
    us_shipped: int = 8000,
    licence_quantity: int = 2000,
    customer_cap: int = 1500,
) -> None:
    """Two licences, a pooled China approval with a sub-limit for Tencent, the derived
    volume cap fed by US shipments, and a per-customer cap for Alibaba Cloud."""
    for auth_id, consignee in (("LIC-ALI", "Alibaba Cloud"), ("LIC-BYTE", "ByteDance"), ("LIC-TEN", "Tencent")):
        ledger.authorize(licence(auth_id, consignee, licence_quantity), actor=ACTOR)
    ledger.authorize(
        {
            "id": "CN-POOL",
            "kind": "cn_import_approval",
            "holders": ["ByteDance", "Alibaba Cloud", "Tencent"],
            "sub_limits": {"Tencent": 1000},
            "products": [H200],
            "quantity": pool,
            "status": "conditional",
        },
        actor=ACTOR,
    )
    ledger.authorize(
        {
            "id": "CAP-NVDA-H200",
            "kind": "derived_volume_cap",
            "exporter": "NVIDIA",
            "products": [H200],
            "valid_from": "2026-01-15",
        },
        actor=ACTOR,
    )
    ledger.record_us_shipment(
        "us-1",
        exporter="NVIDIA",
        product=H200,
        quantity=us_shipped,
        shipped_on=dt.date(2026, 2, 1),
        actor=ACTOR,
    )
    ledger.authorize(
        {
            "id": "PCC-ALI",
            "kind": "per_customer_cap",
            "consignees": ["Alibaba Cloud"],
            "products": [H200],
            "quantity": customer_cap,
            "basis": "reported",
        },
        actor=ACTOR,
    )


def assert_within_limits(ledger: Ledger) -> None:
    for balance in ledger.balances():
        assert balance.held >= 0 and balance.used >= 0, balance
        if balance.limit is not None:
            assert balance.held + balance.used <= balance.limit, balance


def legs_match_balances(ledger: Ledger) -> None:
    """held/used per authorisation equal the sums over pending/posted reservation legs."""
    held: dict[str, int] = {}
    used: dict[str, int] = {}
    for reservation in ledger.reservations():
        for leg in reservation.legs:
            if reservation.status == "pending":
                held[leg.authorization_id] = held.get(leg.authorization_id, 0) + leg.quantity
            elif reservation.status == "posted":
                used[leg.authorization_id] = used.get(leg.authorization_id, 0) + leg.quantity
    for balance in ledger.balances():
        assert balance.held == held.get(balance.authorization_id, 0), balance
        assert balance.used == used.get(balance.authorization_id, 0), balance
