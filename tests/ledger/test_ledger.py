"""Ledger behaviour on both backends: reserve, post, void, expire, amend, revoke, verify."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
import sqlite3

import psycopg
import pytest
from helpers import (
    ACTOR,
    H200,
    Clock,
    drop_pg_target,
    licence,
    pg_available,
    pg_target,
    seed_standard,
    shipment,
)

from chipgate.ledger import (
    Authorization,
    Ledger,
    LedgerError,
    ReserveRequest,
)
from chipgate.ledger.schema import LATEST_VERSION
from chipgate.ledger.store import open_store
from chipgate.rulebook import default_rulebook


def journal_and_balances(ledger: Ledger) -> tuple[int, list[dict[str, object]], int]:
    return (
        len(ledger.journal()),
        [b.to_dict() for b in ledger.balances()],
        len(ledger.reservations()),
    )


def test_reserve_holds_on_every_covering_authorisation_then_post_uses(ledger: Ledger) -> None:
    seed_standard(ledger)
    reservation = ledger.reserve("order-1", shipment(500), actor=ACTOR)
    assert reservation.status == "pending"
    assert set(reservation.authorizations) == {"LIC-ALI", "CAP-NVDA-H200", "CN-POOL", "PCC-ALI"}
    held = {b.authorization_id: b.held for b in ledger.balances()}
    assert held["LIC-ALI"] == held["CN-POOL"] == held["CAP-NVDA-H200"] == held["PCC-ALI"] == 500
    posted = ledger.post("order-1", actor=ACTOR)
    assert posted.status == "posted"
    lic = ledger.balance("LIC-ALI")
    assert (lic.held, lic.used, lic.available) == (0, 500, 1500)
    assert lic.value_used_usd == 500 * 27000
    assert ledger.verify().ok


def test_pool_sub_limit_is_drawn_with_the_pool(ledger: Ledger) -> None:
    seed_standard(ledger)
    reservation = ledger.reserve("t-1", shipment(800, "Tencent"), actor=ACTOR)
    assert "CN-POOL#Tencent" in reservation.authorizations
    with pytest.raises(LedgerError) as refused:
        ledger.reserve("t-2", shipment(300, "Tencent"), actor=ACTOR)
    assert refused.value.code == "insufficient_balance"
    assert "CN-POOL#Tencent" in str(refused.value)


def test_all_or_nothing_when_one_authorisation_lacks_room(ledger: Ledger) -> None:
    seed_standard(ledger)
    ledger.reserve("a", shipment(1400), actor=ACTOR)
    before = journal_and_balances(ledger)
    # LIC-ALI has 600 left and the pool plenty, but the per-customer cap only 100.
    with pytest.raises(LedgerError) as refused:
        ledger.reserve("b", shipment(200), actor=ACTOR)
    assert refused.value.code == "insufficient_balance"
    assert "PCC-ALI" in str(refused.value) and "100 available" in str(refused.value)
    assert journal_and_balances(ledger) == before


def test_idempotency_same_key_same_content_returns_first_result(ledger: Ledger) -> None:
    seed_standard(ledger)
    first = ledger.reserve("k", shipment(100), actor=ACTOR)
    count = len(ledger.journal())
    assert ledger.reserve("k", shipment(100), actor=ACTOR) == first
    assert len(ledger.journal()) == count
    with pytest.raises(LedgerError) as conflict:
        ledger.reserve("k", shipment(101), actor=ACTOR)
    assert conflict.value.code == "idempotency_conflict"
    assert ledger.post("k", actor=ACTOR) == ledger.post("k", actor=ACTOR)
    with pytest.raises(LedgerError) as posted:
        ledger.void("k", actor=ACTOR)
    assert posted.value.code == "already_posted"
    assert ledger.balance("LIC-ALI").used == 100


def test_void_frees_the_hold_and_cannot_then_be_posted(ledger: Ledger) -> None:
    seed_standard(ledger)
    ledger.reserve("v", shipment(300, "ByteDance"), actor=ACTOR)
    ledger.void("v", actor=ACTOR)
    assert ledger.balance("LIC-BYTE").held == 0
    with pytest.raises(LedgerError) as voided:
        ledger.post("v", actor=ACTOR)
    assert voided.value.code == "already_voided"


def test_pending_reservations_expire(ledger: Ledger, clock: Clock) -> None:
    seed_standard(ledger)
    ledger.reserve("e1", shipment(100), actor=ACTOR, ttl=dt.timedelta(hours=1))
    ledger.reserve("e2", shipment(100, "ByteDance"), actor=ACTOR, ttl=dt.timedelta(hours=3))
    clock.advance(hours=2)
    assert ledger.expire(actor=ACTOR) == ["e1"]
    assert ledger.balance("LIC-ALI").held == 0
    assert ledger.balance("LIC-BYTE").held == 100
    clock.advance(hours=2)
    with pytest.raises(LedgerError) as late:
        ledger.post("e2", actor=ACTOR)
    assert late.value.code == "reservation_expired"
    assert ledger.reservation("e2").status == "expired"
    assert ledger.balance("LIC-BYTE").held == 0
    assert ledger.verify().ok


def test_expired_holds_are_freed_when_room_is_needed(ledger: Ledger, clock: Clock) -> None:
    seed_standard(ledger)
    ledger.reserve("old", shipment(1500), actor=ACTOR, ttl=dt.timedelta(minutes=5))
    clock.advance(minutes=10)
    fresh = ledger.reserve("new", shipment(1500), actor=ACTOR)
    assert fresh.status == "pending"
    assert ledger.reservation("old").status == "expired"
    assert ledger.verify().ok


@pytest.mark.parametrize(
    ("make", "using", "code"),
    [
        (lambda: shipment(10), ["NOPE"], "unknown_authorization"),
        (lambda: dataclasses.replace(shipment(10), quantity=-5), None, "invalid_quantity"),
        (lambda: dataclasses.replace(shipment(10), quantity=0), None, "invalid_quantity"),
        (lambda: shipment(10, on=dt.date(2027, 6, 1)), ["LIC-ALI"], "authorization_expired"),
        (lambda: shipment(10, on=dt.date(2027, 6, 1)), None, "authorization_expired"),
        (lambda: shipment(10, chip="nvidia-h20"), ["LIC-ALI"], "product_not_covered"),
        (lambda: shipment(10, "Unknown Buyer"), None, "not_covered"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    ledger: Ledger, make: object, using: list[str] | None, code: str
) -> None:
    seed_standard(ledger)
    before = journal_and_balances(ledger)
    with pytest.raises(LedgerError) as refused:
        ledger.reserve("bad", make(), actor=ACTOR, using=using)  # type: ignore[operator]
    assert refused.value.code == code
    assert str(refused.value)
    assert journal_and_balances(ledger) == before
    assert ledger.verify().ok


def test_unknown_reservation_and_authorisation(ledger: Ledger) -> None:
    with pytest.raises(LedgerError) as missing:
        ledger.post("never", actor=ACTOR)
    assert missing.value.code == "unknown_reservation"
    with pytest.raises(LedgerError) as unknown:
        ledger.revoke("never", actor=ACTOR)
    assert unknown.value.code == "unknown_authorization"


def test_invalid_authorisation_names_the_field(ledger: Ledger) -> None:
    with pytest.raises(LedgerError) as bad:
        ledger.authorize(licence("L", "X", -3), actor=ACTOR)
    assert bad.value.code == "invalid_authorization" and "quantity" in str(bad.value)
    with pytest.raises(LedgerError) as pool:
        ledger.authorize(
            {"id": "P", "kind": "cn_import_approval", "holders": ["A"], "products": [H200], "status": "maybe"},
            actor=ACTOR,
        )
    assert "status" in str(pool.value)
    assert ledger.balances() == [] and ledger.journal() == []


def test_authorize_is_idempotent_and_refuses_different_terms(ledger: Ledger) -> None:
    first = ledger.authorize(licence("L1", "Alibaba Cloud", 10), actor=ACTOR)
    assert ledger.authorize(licence("L1", "Alibaba Cloud", 10), actor=ACTOR) == first
    assert len(ledger.journal()) == 1
    with pytest.raises(LedgerError) as exists:
        ledger.authorize(licence("L1", "Alibaba Cloud", 11), actor=ACTOR)
    assert exists.value.code == "authorization_exists"


def test_amend_keeps_history_and_refuses_a_limit_below_usage(ledger: Ledger) -> None:
    seed_standard(ledger)
    ledger.reserve("r", shipment(1200), actor=ACTOR)
    ledger.amend("LIC-ALI", {"quantity": 3000, "conditions": ["KYC"]}, actor="officer")
    assert ledger.balance("LIC-ALI").limit == 3000
    with pytest.raises(LedgerError) as below:
        ledger.amend("LIC-ALI", {"quantity": 1000}, actor="officer")
    assert below.value.code == "limit_below_usage"
    history = ledger.history("LIC-ALI")
    assert [e.op for e in history] == ["authorize", "amend"]
    assert history[1].actor == "officer"
    assert history[1].data["previous"]["quantity"] == 2000
    assert ledger.authorizations()["LIC-ALI"].conditions == ("KYC",)
    assert ledger.verify().ok


def test_revoked_authorisation_covers_nothing_new(ledger: Ledger) -> None:
    seed_standard(ledger)
    ledger.reserve("before", shipment(100), actor=ACTOR)
    ledger.revoke("LIC-ALI", actor="officer", reason="licence suspended")
    with pytest.raises(LedgerError) as after:
        ledger.reserve("after", shipment(100), actor=ACTOR)
    assert after.value.code == "authorization_revoked"
    with pytest.raises(LedgerError) as post:
        ledger.post("before", actor=ACTOR)
    assert post.value.code == "authorization_revoked"
    ledger.void("before", actor=ACTOR)
    assert ledger.balance("LIC-ALI").revoked
    assert ledger.verify().ok


def test_derived_cap_follows_us_shipments_at_the_ratio_in_the_rule_data(ledger: Ledger) -> None:
    seed_standard(ledger, us_shipped=1000)
    ratio = default_rulebook().at(dt.date(2026, 2, 1)).value("us.license_policy.h200_lane_volume_cap_ratio")
    assert ledger.balance("CAP-NVDA-H200").limit == math.floor(ratio * 1000)
    ledger.record_us_shipment(
        "us-2",
        exporter="NVIDIA Corporation",
        product=H200,
        quantity=501,
        shipped_on=dt.date(2026, 2, 20),
        actor=ACTOR,
    )
    assert ledger.balance("CAP-NVDA-H200").limit == math.floor(ratio * 1501)
    with pytest.raises(LedgerError) as conflict:
        ledger.record_us_shipment(
            "us-2",
            exporter="NVIDIA",
            product=H200,
            quantity=7,
            shipped_on=dt.date(2026, 2, 20),
            actor=ACTOR,
        )
    assert conflict.value.code == "idempotency_conflict"
    entry = ledger.journal()[-1]
    assert entry.data["rule"]["citation"]
    assert ledger.verify().ok


def test_case_by_case_lane_draws_the_volume_cap(ledger: Ledger) -> None:
    seed_standard(ledger, us_shipped=400)
    decision = ledger.check(shipment(150, "ByteDance"))
    assert decision.us_export.review_policy == "case_by_case"
    assert decision.outcome == "allowed"
    assert set(decision.covered_by) == {"LIC-BYTE", "CAP-NVDA-H200", "CN-POOL"}
    short = ledger.check(shipment(250, "ByteDance"))
    assert short.outcome == "needs_authorization"
    assert any("CAP-NVDA-H200" in m for m in short.missing)


def test_check_lists_what_is_missing(ledger: Ledger) -> None:
    ledger.authorize(licence("L", "Alibaba Cloud", 100), actor=ACTOR)
    decision = ledger.check(shipment(10))
    assert decision.outcome == "needs_authorization"
    assert decision.covered_by == ("L",)
    assert any(m.startswith("cn_import_approval") for m in decision.missing)


def test_duty_free_quota_follows_plant_status(ledger: Ledger) -> None:
    ledger.authorize(
        {
            "id": "Q-TSMC",
            "kind": "duty_free_quota",
            "company": "TSMC Arizona",
            "planned_capacity": 1000,
            "plant_status": "construction",
            "plant_status_on": "2026-01-15",
            "basis": "assumption",
        },
        actor=ACTOR,
    )
    rules = default_rulebook().at(dt.date(2026, 1, 15))
    multiplier = rules.value("tariffs.taiwan_232_quota.multiplier")
    assert ledger.balance("Q-TSMC").limit == math.floor(multiplier["construction"] * 1000)
    imported = shipment(600, "TSMC Arizona", kind="import", from_country="TW", to_country="US", exporter=None)
    reservation = ledger.reserve("imp-1", imported, actor=ACTOR)
    assert reservation.authorizations == ("Q-TSMC",)
    ledger.post("imp-1", actor=ACTOR)
    ledger.set_plant_status("Q-TSMC", "completed", dt.date(2026, 9, 1), actor=ACTOR)
    assert ledger.balance("Q-TSMC").limit == math.floor(multiplier["completed"] * 1000)
    # An earlier-dated record is kept in the journal but does not displace the later one.
    ledger.set_plant_status("Q-TSMC", "construction", dt.date(2026, 2, 1), actor=ACTOR)
    assert ledger.balance("Q-TSMC").limit == math.floor(multiplier["completed"] * 1000)
    assert ledger.verify().ok


def test_batch_reserve_is_all_or_nothing_per_shipment(ledger: Ledger) -> None:
    seed_standard(ledger)
    results = ledger.reserve_many(
        [
            ReserveRequest("b1", shipment(1000)),
            ReserveRequest("b2", shipment(1000)),  # would pass PCC-ALI's 1,500
            ReserveRequest("b3", shipment(500, "ByteDance")),
            ReserveRequest("b1", shipment(1000)),  # a retry inside the batch
            ReserveRequest("b3", shipment(7, "ByteDance")),  # a conflicting retry
        ],
        actor=ACTOR,
    )
    assert [r.code if isinstance(r, LedgerError) else r.status for r in results] == [
        "pending",
        "insufficient_balance",
        "pending",
        "pending",
        "idempotency_conflict",
    ]
    assert ledger.balance("LIC-ALI").held == 1000
    assert ledger.balance("CN-POOL").held == 1500
    assert ledger.verify().ok


def test_tampering_with_a_journal_byte_is_detected(target: str, clock: Clock) -> None:
    with Ledger(target, clock=clock) as ledger:
        seed_standard(ledger)
        ledger.reserve("t", shipment(100), actor=ACTOR)
        ledger.post("t", actor=ACTOR)
        entries = ledger.journal()
        victim = entries[len(entries) // 2]
        assert ledger.verify().ok
        store = ledger.store
        with store.transaction() as tx:
            altered = victim.payload.replace('"', "'", 1)
            tx.execute("UPDATE journal SET payload = ? WHERE seq = ?", (altered, victim.seq))
        report = ledger.verify()
        assert not report.ok and report.problem is not None
        assert report.problem.seq == victim.seq
        assert f"journal entry {victim.seq}" in str(report.problem)


def test_tampering_with_a_stored_hash_or_balance_is_detected(ledger: Ledger) -> None:
    seed_standard(ledger)
    ledger.reserve("t", shipment(100), actor=ACTOR)
    last = ledger.journal()[-1]
    with ledger.store.transaction() as tx:
        tx.execute("UPDATE authorizations SET held = held - 1 WHERE id = 'CN-POOL'")
    report = ledger.verify()
    assert not report.ok and report.problem is not None
    assert report.problem.authorization_id == "CN-POOL"
    with ledger.store.transaction() as tx:
        tx.execute("UPDATE authorizations SET held = held + 1 WHERE id = 'CN-POOL'")
        flipped = bytes([last.hash[0] ^ 1]) + last.hash[1:]
        tx.execute("UPDATE journal SET hash = ? WHERE seq = ?", (flipped, last.seq))
    report = ledger.verify()
    assert report.problem is not None and report.problem.seq == last.seq


def test_journal_records_the_actor_and_links_each_entry(ledger: Ledger) -> None:
    seed_standard(ledger)
    ledger.reserve("j", shipment(5), actor="api-key:ops")
    entries = ledger.journal()
    assert entries[-1].actor == "api-key:ops" and entries[-1].op == "reserve"
    for previous, entry in itertools.pairwise(entries):
        assert entry.prev_hash == previous.hash


def test_schema_migrates_forward(target: str) -> None:
    store = open_store(target)
    assert store.migrate(upto=1) == 1
    store.close()
    with Ledger(target) as ledger:
        assert ledger.schema_version == LATEST_VERSION
        assert ledger.store.schema_version() == LATEST_VERSION


def test_a_database_from_a_newer_chipgate_is_refused(target: str) -> None:
    with Ledger(target) as ledger, ledger.store.transaction() as tx:
        tx.execute(
            "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
            (LATEST_VERSION + 1, "future", "2030-01-01"),
        )
    with pytest.raises(LedgerError) as newer:
        Ledger(target)
    assert newer.value.code == "schema_too_new"


def test_authorization_round_trips_through_json() -> None:
    raw = licence("L", "Alibaba Cloud", 10, value_usd="270000.50", conditions=["KYC"])
    auth = Authorization.from_dict(raw)
    assert Authorization.from_dict(auth.to_dict()) == auth


def test_default_location_honours_chipgate_home(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHIPGATE_HOME", str(tmp_path))
    with Ledger() as ledger:
        assert ledger.location == str(tmp_path) + "/ledger.sqlite"


def test_errors_are_database_independent() -> None:
    # The refusals a client sees are chipgate's, never a driver's.
    assert not issubclass(LedgerError, sqlite3.Error | psycopg.Error)


def test_a_second_process_sees_terms_changed_by_another(target: str, clock: Clock) -> None:
    with Ledger(target, clock=clock) as first, Ledger(target, clock=clock) as second:
        seed_standard(first)
        second.reserve("warm", shipment(10), actor=ACTOR)  # caches the terms
        first.revoke("LIC-ALI", actor="officer")
        with pytest.raises(LedgerError) as refused:
            second.reserve("after", shipment(10), actor=ACTOR)
        assert refused.value.code == "authorization_revoked"
        first.amend("LIC-BYTE", {"quantity": 50}, actor="officer")
        with pytest.raises(LedgerError) as short:
            second.reserve("byte", shipment(60, "ByteDance"), actor=ACTOR)
        assert short.value.code == "insufficient_balance"
        assert second.verify().ok


@pytest.mark.postgres
@pytest.mark.skipif(not pg_available(), reason="PostgreSQL is not reachable")
def test_postgres_url_options_reach_the_server() -> None:
    target = pg_target()
    try:
        url = target.replace("?", "?options=-c%20synchronous_commit%3Doff&", 1)
        with Ledger(url) as ledger, ledger.store.transaction() as tx:
            assert tx.one("SHOW synchronous_commit") == ("off",)
    finally:
        drop_pg_target(target)
