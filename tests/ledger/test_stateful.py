"""Random operation sequences (hypothesis) with the ledger's invariants checked after every step."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from helpers import (
    ACTOR,
    H200,
    Clock,
    assert_within_limits,
    drop_pg_target,
    legs_match_balances,
    pg_available,
    pg_target,
    seed_standard,
    shipment,
)
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)

from chipgate.ledger import Ledger, LedgerError

BUYERS = ("Alibaba Cloud", "ByteDance", "Tencent")
# Refusals a valid random operation may meet; anything else is a defect.
EXPECTED = {
    "insufficient_balance",
    "already_posted",
    "already_voided",
    "reservation_expired",
    "limit_below_usage",
}


def machine(backend: str) -> type[RuleBasedStateMachine]:
    class LedgerMachine(RuleBasedStateMachine):
        keys = Bundle("keys")

        def __init__(self) -> None:
            super().__init__()
            self.clock = Clock()
            if backend == "sqlite":
                self._dir = tempfile.TemporaryDirectory()
                self.target = str(Path(self._dir.name) / "ledger.sqlite")
            else:
                self.target = pg_target()
            self.ledger = Ledger(self.target, clock=self.clock)
            self.sent: dict[str, tuple[int, str]] = {}
            self.status: dict[str, str] = {}
            self.counter = 0

        @initialize()
        def seed(self) -> None:
            seed_standard(self.ledger, pool=2500, us_shipped=4000)

        def _refused(self, exc: LedgerError, before: int) -> None:
            assert exc.code in EXPECTED, exc
            assert len(self.ledger.journal()) == before, "a refusal wrote to the journal"

        @rule(target=keys, buyer=st.sampled_from(BUYERS), quantity=st.integers(1, 900), hours=st.integers(1, 6))
        def reserve(self, buyer: str, quantity: int, hours: int) -> str:
            self.counter += 1
            key = f"k{self.counter}"
            before = len(self.ledger.journal())
            try:
                got = self.ledger.reserve(key, shipment(quantity, buyer), actor=ACTOR, ttl=dt.timedelta(hours=hours))
            except LedgerError as exc:
                self._refused(exc, before)
                return key
            assert got.quantity == quantity
            assert all(leg.quantity == quantity for leg in got.legs)
            self.sent[key] = (quantity, buyer)
            self.status[key] = "pending"
            return key

        @rule(key=keys)
        def retry(self, key: str) -> None:
            if key not in self.sent:
                return
            quantity, buyer = self.sent[key]
            first = self.ledger.reservation(key)
            assert self.ledger.reserve(key, shipment(quantity, buyer), actor=ACTOR) == first
            with pytest.raises(LedgerError) as conflict:
                self.ledger.reserve(key, shipment(quantity + 1, buyer), actor=ACTOR)
            assert conflict.value.code == "idempotency_conflict"

        @rule(key=consumes(keys))
        def post(self, key: str) -> None:
            if key not in self.sent:
                return
            before = len(self.ledger.journal())
            try:
                self.ledger.post(key, actor=ACTOR)
                self.status[key] = "posted"
            except LedgerError as exc:
                assert exc.code in EXPECTED, exc
                if exc.code == "reservation_expired":
                    self.status[key] = "expired"
                else:
                    assert len(self.ledger.journal()) == before

        @rule(key=consumes(keys))
        def void(self, key: str) -> None:
            if key not in self.sent:
                return
            try:
                got = self.ledger.void(key, actor=ACTOR)
                self.status[key] = got.status
            except LedgerError as exc:
                assert exc.code == "already_posted" and self.status[key] == "posted"

        @rule(hours=st.integers(0, 8))
        def time_passes(self, hours: int) -> None:
            self.clock.advance(hours=hours)
            for key in self.ledger.expire(actor=ACTOR):
                assert self.status[key] == "pending"
                self.status[key] = "expired"

        @rule(quantity=st.integers(1, 2000))
        def us_shipment(self, quantity: int) -> None:
            self.counter += 1
            before = self.ledger.balance("CAP-NVDA-H200").limit or 0
            self.ledger.record_us_shipment(
                f"us-sm-{self.counter}",
                exporter="NVIDIA",
                product=H200,
                quantity=quantity,
                shipped_on=dt.date(2026, 2, 15),
                actor=ACTOR,
            )
            assert (self.ledger.balance("CAP-NVDA-H200").limit or 0) >= before

        @rule(licence=st.sampled_from(["LIC-ALI", "LIC-BYTE", "LIC-TEN"]), quantity=st.integers(0, 3000))
        def amend(self, licence: str, quantity: int) -> None:
            before = len(self.ledger.journal())
            try:
                self.ledger.amend(licence, {"quantity": quantity}, actor=ACTOR)
            except LedgerError as exc:
                self._refused(exc, before)
                balance = self.ledger.balance(licence)
                assert quantity < balance.held + balance.used

        @invariant()
        def balances_hold(self) -> None:
            assert_within_limits(self.ledger)
            legs_match_balances(self.ledger)
            for key, status in self.status.items():
                assert self.ledger.reservation(key).status == status

        @invariant()
        def journal_verifies(self) -> None:
            report = self.ledger.verify()
            assert report.ok, report.problem

        def teardown(self) -> None:
            self.ledger.close()
            if backend == "sqlite":
                self._dir.cleanup()
            else:
                drop_pg_target(self.target)

    LedgerMachine.__name__ = f"LedgerMachine_{backend}"
    return LedgerMachine


_SETTINGS = settings(
    deadline=None,
    stateful_step_count=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

TestLedgerSqlite = machine("sqlite").TestCase
TestLedgerSqlite.settings = settings(_SETTINGS, max_examples=30)


@pytest.mark.postgres
@pytest.mark.skipif(not pg_available(), reason="PostgreSQL is not reachable")
class TestLedgerPostgres(machine("postgres").TestCase):  # type: ignore[name-defined,misc]
    settings = settings(_SETTINGS, max_examples=15)
