"""Analyst clearances of possible restricted-party matches: recorded, journalled, applied by
`check` and `reserve`, lapsed when the list entry changes, withdrawn; on both backends.

Decisions come from `chipgate.decide` screening the shipped list snapshot: "Huawei Cloud" is
a possible match of the Entity List entry "Huawei Cloud Beijing" (one hit when the party is
in Germany, five sister entries when it is in China).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ACTOR, Clock, drop_pg_target, licence, pg_available, pg_target
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.clearance_case import PARTY, RECORD, SHIPMENT
from typer.testing import CliRunner

from chipgate.cli import app as chipgate_app
from chipgate.decide import decide
from chipgate.inputs import parse_shipment
from chipgate.ledger import (
    Clearance,
    Ledger,
    LedgerError,
    LedgerInputError,
    ReserveRequest,
    apply_clearances,
)
from chipgate.ledger.cli import app
from chipgate.ledger.schema import LATEST_VERSION
from chipgate.ledger.store import open_store
from chipgate.model import Decision, PartyHit, Shipment
from chipgate.parties import ListEntry, RestrictedPartyList
from chipgate.rulebook import Rulebook, default_rulebook

# The same company as the ledger compares names (case, punctuation, legal form).
PARTY_SPELT_OTHERWISE = "HUAWEI CLOUD Co., Ltd."
OTHER_PARTY = "Cloud Harbour GmbH"
SISTER_RECORD = "rpl-6a801a84fab52ec8ee3c"

APPROVAL: dict[str, Any] = {
    "id": "CN-HWC",
    "kind": "cn_import_approval",
    "holders": [PARTY],
    "products": ["nvidia-h200-sxm"],
    "quantity": 1000,
    "status": "final",
}

runner = CliRunner()


def germany(**changes: Any) -> Shipment:
    """Needs nothing but the clearance of one possible hit."""
    return parse_shipment({**SHIPMENT, **changes})


def china() -> Shipment:
    """Needs a US licence, a China approval, and clearances of five possible hits."""
    return germany(to_country="CN", consignee={"name": PARTY, "country": "CN"})


def decided(shipment: Shipment) -> Decision:
    return decide(shipment)


def listed(record_id: str = RECORD) -> ListEntry:
    return next(e for e in default_rulebook().restricted_parties.entries if e.record_id == record_id)


def changed_entry() -> ListEntry:
    """The entry after the list added an alias: a new fingerprint."""
    entry = listed()
    return dataclasses.replace(entry, aliases=(*entry.aliases, "Huawei Cloud Computing Beijing"))


@functools.cache
def changed_rulebook() -> Rulebook:
    """The shipped rules with a list snapshot in which the entry has changed."""
    book = default_rulebook()
    shipped = book.restricted_parties
    entries = [changed_entry() if e.record_id == RECORD else e for e in shipped.entries]
    snapshot = RestrictedPartyList(
        entries,
        snapshot_date=shipped.snapshot_date,
        source="test: one entry changed",
        snapshot_id=f"{shipped.snapshot_id}-changed",
    )
    return book.with_restricted_parties(snapshot)


def seed(ledger: Ledger) -> None:
    ledger.authorize(licence("LIC-HWC", PARTY, 1000), actor=ACTOR)
    ledger.authorize(APPROVAL, actor=ACTOR)


def clear(ledger: Ledger, party: str = PARTY, entry: ListEntry | None = None, **changes: Any) -> Clearance:
    entry = entry or listed()
    given: dict[str, Any] = {
        "entry_fingerprint": entry.fingerprint,
        "list_code": entry.list_code,
        "reason": "a Frankfurt cloud reseller; its register number differs from the listed entity's",
        "actor": "ana",
        **changes,
    }
    return ledger.record_clearance(party, entry.record_id, **given)


def clear_every_hit(ledger: Ledger, decision: Decision) -> list[Clearance]:
    return [
        ledger.record_clearance(
            hit.query,
            hit.record_id,
            entry_fingerprint=hit.entry_fingerprint,
            list_code=hit.list_code,
            reason="not the listed entity",
            actor="ana",
            snapshot=hit.snapshot,
        )
        for hit in decision.party_hits
        if hit.strength == "possible"
    ]


def ops(ledger: Ledger) -> list[tuple[str, str]]:
    return [(e.op, e.subject) for e in ledger.journal()]


def test_screening_grades_the_parties_as_these_tests_expect() -> None:
    hits = decided(germany()).party_hits
    assert [(h.record_id, h.strength, h.entry_fingerprint) for h in hits] == [
        (RECORD, "possible", listed().fingerprint)
    ]
    assert [r.kind for r in decided(germany()).requirements] == ["screening_clearance"]
    assert len(decided(china()).party_hits) == 5 and SISTER_RECORD in {h.record_id for h in decided(china()).party_hits}


# ---- the pure rule: decision + clearances -> decision -----------------------------------


def stored(party: str = PARTY, entry: ListEntry | None = None, number: int = 1, **changes: Any) -> Clearance:
    entry = entry or listed()
    values: dict[str, Any] = {
        "id": f"CLR-{number}",
        "party": party,
        "record_id": entry.record_id,
        "list_code": entry.list_code,
        "entry_fingerprint": entry.fingerprint,
        "snapshot": "",
        "reason": "not the same company",
        "actor": "ana",
        "created_at": dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        **changes,
    }
    return Clearance(**values)


def test_a_live_clearance_of_the_same_party_entry_and_version_clears_the_hit() -> None:
    decision = decided(germany())
    assert decision.outcome == "needs_authorization"
    cleared = apply_clearances(decision, [stored(PARTY_SPELT_OTHERWISE)])
    assert cleared.outcome == "allowed"
    assert cleared.missing == ()
    last = cleared.reasons[-1]
    assert last.text.startswith("Possible match cleared by CLR-1 (ana, 2026-03-01)") and RECORD in last.text
    assert last.citation.startswith("15 CFR Part 732, Supplement No. 3")


@pytest.mark.parametrize(
    "clearance",
    [
        pytest.param(stored(OTHER_PARTY), id="another party"),
        pytest.param(stored(record_id=SISTER_RECORD), id="another entry"),
        pytest.param(stored(revoked_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC)), id="withdrawn"),
    ],
)
def test_a_clearance_of_something_else_leaves_the_hit_open(clearance: Clearance) -> None:
    checked = apply_clearances(decided(germany()), [clearance])
    assert checked.outcome == "needs_authorization"
    (missing,) = checked.missing
    assert missing.startswith("screening_clearance:")
    assert repr(PARTY) in missing and "EL" in missing and RECORD in missing
    assert "lapsed" not in missing


def test_a_clearance_lapses_when_the_entry_changed_since() -> None:
    decision = decide(germany(), rulebook=changed_rulebook())
    assert decision.party_hits[0].entry_fingerprint == changed_entry().fingerprint
    checked = apply_clearances(decision, [stored()])
    assert checked.outcome == "needs_authorization"
    (missing,) = checked.missing
    assert RECORD in missing and "CLR-1 lapsed" in missing
    assert checked.reasons[-1].text.startswith("Clearance CLR-1 lapsed")
    # Cleared again for the entry as it now reads, it applies.
    again = apply_clearances(decision, [stored(), stored(entry=changed_entry(), number=2)])
    assert again.outcome == "allowed" and "CLR-2" in again.reasons[-1].text


def test_a_clearance_never_overrides_a_match() -> None:
    # The end user is the listed entity itself (a match); the consignee only resembles it.
    decision = decide(germany(end_user={"name": "Huawei Cloud Beijing", "country": "CN"}))
    strengths = {(h.role, h.record_id): h.strength for h in decision.party_hits}
    assert strengths == {("consignee", RECORD): "possible", ("end_user", RECORD): "match"}
    cleared = apply_clearances(decision, [stored(), stored("Huawei Cloud Beijing", number=2)])
    # The clearance requirement is met; the Entity List licence the match requires is not.
    assert cleared.outcome == "needs_authorization"
    assert cleared.us_export.license_required
    assert cleared.missing == ()  # nothing is missing from the clearances (coverage adds the licence)
    assert [r.text.split(" (")[0] for r in cleared.reasons[len(decision.reasons) :]] == [
        "Possible match cleared by CLR-1"
    ]


def test_missing_names_each_uncleared_hit_and_keeps_what_the_authorisations_lack() -> None:
    decision = decided(china())
    lacking = dataclasses.replace(decision, missing=("us_export_license: no licence on file",))
    checked = apply_clearances(lacking, [stored()])
    assert checked.outcome == "needs_authorization"
    assert checked.missing[0] == "us_export_license: no licence on file"
    open_ = checked.missing[1:]
    assert len(open_) == 4 and all(m.startswith("screening_clearance:") for m in open_)
    assert {h.record_id for h in decision.party_hits} - {RECORD} == {
        next(r for r in (h.record_id for h in decision.party_hits) if r in m) for m in open_
    }


def test_a_hit_without_a_fingerprint_cannot_be_cleared() -> None:
    decision = decided(germany())
    hit = dataclasses.replace(decision.party_hits[0], entry_fingerprint="")
    blank = dataclasses.replace(decision, party_hits=(hit,))
    assert apply_clearances(blank, [stored(entry_fingerprint="")]).outcome == "needs_authorization"


def test_a_clearance_requirement_without_a_possible_hit_stays_open() -> None:
    decision = decided(germany())
    no_hits = dataclasses.replace(decision, party_hits=())
    assert apply_clearances(no_hits, [stored()]).outcome == "needs_authorization"


def test_hits_are_cleared_party_by_party() -> None:
    hit: PartyHit = decided(germany()).party_hits[0]
    as_end_user = dataclasses.replace(hit, role="end_user", query=OTHER_PARTY)
    decision = dataclasses.replace(decided(germany()), party_hits=(hit, as_end_user))
    checked = apply_clearances(decision, [stored()])
    (missing,) = checked.missing
    assert "end user" in missing and OTHER_PARTY in missing


# ---- the ledger: check, journal, withdrawal ---------------------------------------------


def test_check_applies_a_recorded_clearance_and_the_journal_records_it(ledger: Ledger) -> None:
    before = ledger.check(germany())
    assert before.outcome == "needs_authorization"
    assert len(before.missing) == 1 and RECORD in before.missing[0] and repr(PARTY) in before.missing[0]

    made = clear(ledger, PARTY_SPELT_OTHERWISE, snapshot="2026-08-18-test")
    assert made.id == "CLR-1" and made.live and made.actor == "ana"
    after = ledger.check(germany())
    assert after.outcome == "allowed" and after.missing == ()
    assert after.reasons[-1].text.startswith("Possible match cleared by CLR-1")

    entry = ledger.journal()[-1]
    assert (entry.op, entry.subject, entry.actor) == ("clear", "CLR-1", "ana")
    assert entry.data["record_id"] == RECORD and entry.data["entry_fingerprint"] == listed().fingerprint
    assert entry.data["party"] == PARTY_SPELT_OTHERWISE and entry.data["reason"] == made.reason
    assert ledger.clearances() == [made]
    assert ledger.verify().ok


def test_withdrawing_reopens_the_hit_and_is_journalled(ledger: Ledger, clock: Clock) -> None:
    made = clear(ledger)
    clock.advance(hours=2)
    withdrawn = ledger.revoke_clearance(made.id, reason="register number was misread", actor="bob")
    assert not withdrawn.live and withdrawn.revoked_by == "bob" and withdrawn.revoked_at == clock.now
    assert ledger.check(germany()).outcome == "needs_authorization"
    assert ops(ledger) == [("clear", "CLR-1"), ("unclear", "CLR-1")]
    assert ledger.journal()[-1].data == {"reason": "register number was misread"}
    # Withdrawing again changes nothing and writes nothing.
    assert ledger.revoke_clearance("CLR-1", reason="again", actor="bob") == withdrawn
    assert len(ledger.journal()) == 2
    assert ledger.clearances(live_only=True) == []
    assert ledger.clearance("CLR-1") == withdrawn
    # A new clearance gets a new id.
    assert clear(ledger).id == "CLR-2"
    assert ledger.check(germany()).outcome == "allowed"
    assert ledger.verify().ok


def test_a_clearance_lapses_when_the_list_in_use_changes_the_entry(target: str, clock: Clock) -> None:
    with Ledger(target, clock=clock) as ledger:
        made = clear(ledger)
        assert ledger.check(germany()).outcome == "allowed"
    with Ledger(target, clock=clock, rulebook=changed_rulebook()) as ledger:
        checked = ledger.check(germany())
        assert checked.outcome == "needs_authorization"
        assert f"{made.id} lapsed" in checked.missing[0]
        assert any(r.text.startswith(f"Clearance {made.id} lapsed") for r in checked.reasons)
        clear(ledger, entry=changed_entry())
        assert ledger.check(germany()).outcome == "allowed"


def test_a_cleared_hit_still_needs_the_authorisations(ledger: Ledger) -> None:
    found = clear_every_hit(ledger, decided(china()))
    assert [c.id for c in found] == [f"CLR-{i}" for i in range(1, 6)]
    checked = ledger.check(china())
    assert checked.outcome == "needs_authorization"
    assert [m.split(":")[0] for m in checked.missing] == ["us_export_license", "cn_import_approval"]
    ledger.revoke_clearance("CLR-3", reason="r", actor="a")
    checked = ledger.check(china())
    assert [m.split(":")[0] for m in checked.missing] == [
        "us_export_license",
        "cn_import_approval",
        "screening_clearance",
    ]
    seed(ledger)
    checked = ledger.check(china())
    assert checked.outcome == "needs_authorization" and len(checked.missing) == 1
    assert found[2].record_id in checked.missing[0]


def test_recording_again_returns_the_first_and_another_reason_is_refused(ledger: Ledger) -> None:
    first = clear(ledger)
    assert clear(ledger, PARTY_SPELT_OTHERWISE, actor="bob") == first
    with pytest.raises(LedgerError) as exists:
        clear(ledger, reason="another reason")
    assert exists.value.code == "clearance_exists" and "CLR-1" in str(exists.value)
    assert ops(ledger) == [("clear", "CLR-1")]
    # Another version of the entry is another clearance.
    assert clear(ledger, entry=changed_entry()).id == "CLR-2"


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("party", {"party": "  "}),
        ("record_id", {"record_id": ""}),
        ("entry_fingerprint", {"entry_fingerprint": ""}),
        ("list_code", {"list_code": ""}),
        ("reason", {"reason": ""}),
        ("reason", {"reason": "x" * 5000}),
        ("actor", {"actor": " "}),
        ("actor", {"actor": "a\x00b"}),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(ledger: Ledger, field: str, changes: dict[str, Any]) -> None:
    given: dict[str, Any] = {
        "party": PARTY,
        "record_id": RECORD,
        "entry_fingerprint": listed().fingerprint,
        "list_code": "EL",
        "reason": "not the same company",
        "actor": "ana",
        **changes,
    }
    party, record_id = given.pop("party"), given.pop("record_id")
    with pytest.raises(LedgerInputError) as bad:
        ledger.record_clearance(party, record_id, **given)
    assert bad.value.field == field
    assert ledger.journal() == [] and ledger.clearances() == []


def test_withdrawing_needs_a_known_id_a_reason_and_who(ledger: Ledger) -> None:
    with pytest.raises(LedgerError) as unknown:
        ledger.revoke_clearance("CLR-9", reason="r", actor="a")
    assert unknown.value.code == "unknown_clearance"
    clear(ledger)
    for field, reason, actor in (("reason", "", "a"), ("actor", "r", "")):
        with pytest.raises(LedgerInputError) as bad:
            ledger.revoke_clearance("CLR-1", reason=reason, actor=actor)
        assert bad.value.field == field
    assert ops(ledger) == [("clear", "CLR-1")]


# ---- reservations -------------------------------------------------------------------------


def test_reserve_is_refused_until_every_hit_is_cleared_and_post_after_a_withdrawal(ledger: Ledger) -> None:
    seed(ledger)
    entries = len(ledger.journal())
    with pytest.raises(LedgerError) as refused:
        ledger.reserve("po-1", china(), actor=ACTOR)
    assert refused.value.code == "not_covered" and RECORD in str(refused.value)
    assert str(refused.value).count("screening_clearance") == 5
    assert len(ledger.journal()) == entries

    found = clear_every_hit(ledger, decided(china()))
    held = ledger.reserve("po-1", china(), actor=ACTOR)
    assert held.status == "pending" and set(held.authorizations) == {"LIC-HWC", "CN-HWC"}
    assert ledger.journal()[-1].data["clearances"] == sorted(c.id for c in found)

    ledger.revoke_clearance("CLR-2", reason="misread", actor="bob")
    with pytest.raises(LedgerError) as withdrawn:
        ledger.post("po-1", actor=ACTOR)
    assert withdrawn.value.code == "clearance_withdrawn" and "CLR-2" in str(withdrawn.value)
    assert ledger.reservation("po-1").status == "pending"
    assert ledger.void("po-1", actor=ACTOR).status == "voided"
    assert ledger.verify().ok


def test_a_cleared_reservation_posts(ledger: Ledger) -> None:
    seed(ledger)
    clear_every_hit(ledger, decided(china()))
    ledger.reserve("po-2", china(), actor=ACTOR)
    assert ledger.post("po-2", actor=ACTOR).status == "posted"
    assert ledger.balance("LIC-HWC").used == 100
    assert ledger.verify().ok


def test_reserve_many_clears_each_shipment_on_its_own(ledger: Ledger) -> None:
    # One clearance: the German shipment's single hit is cleared, four of the Chinese one's are not.
    seed(ledger)
    clear(ledger)
    results = ledger.reserve_many([ReserveRequest("a", germany()), ReserveRequest("b", china())], actor=ACTOR)
    assert not isinstance(results[0], LedgerError) and results[0].status == "pending"
    assert isinstance(results[1], LedgerError) and results[1].code == "not_covered"
    assert str(results[1]).count("screening_clearance") == 4 and SISTER_RECORD in str(results[1])
    assert ledger.verify().ok


# ---- tamper evidence and storage ---------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE clearances SET entry_fingerprint = 'ffffffffffffffff'",
        "UPDATE clearances SET revoked_at = NULL, revoked_by = NULL, revoke_reason = NULL",
        "UPDATE clearances SET party = 'Huawei Cloud Beijing'",
        "DELETE FROM reservation_clearances",
    ],
)
def test_verify_finds_a_clearance_changed_outside_the_ledger(ledger: Ledger, statement: str) -> None:
    clear(ledger)
    ledger.reserve("po-1", germany(), actor=ACTOR)
    ledger.revoke_clearance("CLR-1", reason="misread", actor="bob")
    assert ledger.verify().ok
    with ledger.store.transaction() as tx:
        tx.execute(statement)
    report = ledger.verify()
    assert not report.ok and report.problem is not None
    assert "CLR-1" in str(report.problem) or "po-1" in str(report.problem)


def test_verify_finds_a_clearance_never_journalled(ledger: Ledger) -> None:
    with ledger.store.transaction() as tx:
        tx.execute(
            "INSERT INTO clearances (id, number, party, record_id, list_code, entry_fingerprint, snapshot,"
            " reason, actor, created_at) VALUES ('CLR-1', 1, ?, ?, 'EL', ?, '', 'r', 'mallory', ?)",
            (PARTY, RECORD, listed().fingerprint, "2026-03-01T00:00:00+00:00"),
        )
    report = ledger.verify()
    assert not report.ok and "never journalled" in str(report.problem)


def test_a_ledger_from_before_clearances_upgrades(target: str, clock: Clock) -> None:
    store = open_store(target)
    assert store.migrate(upto=3) == 3
    store.close()
    with Ledger(target, clock=clock) as ledger:
        assert ledger.schema_version == LATEST_VERSION >= 4
        clear(ledger)
        assert ledger.check(germany()).outcome == "allowed"
        assert ledger.verify().ok


def test_concurrent_recorders_get_distinct_ids_and_one_clearance_per_party(target: str) -> None:
    parties = [f"Cloud Reseller {i}" for i in range(6)]
    errors: list[Exception] = []

    def record(party: str) -> None:
        try:
            with Ledger(target) as own:
                clear(own, party)
                clear(own, party)  # a retry of the same returns the first
        except Exception as exc:  # reported by the assertion below, with the thread's error
            errors.append(exc)

    with Ledger(target):
        pass  # migrate once, before the threads
    threads = [threading.Thread(target=record, args=(p,)) for p in parties + parties]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Ledger(target) as ledger:
        found = ledger.clearances()
        assert sorted(c.party for c in found) == sorted(parties)
        assert sorted(int(c.id.removeprefix("CLR-")) for c in found) == list(range(1, 7))
        assert ledger.verify().ok


# ---- property: cleared iff a live matching clearance exists --------------------------------

# Parties 0 and 1 are one company spelt two ways; 2 is another company.
PARTIES = (PARTY, PARTY_SPELT_OTHERWISE, OTHER_PARTY)
Op = tuple[str, int, int, int]


def _company(party: int) -> int:
    return 0 if party < 2 else 1


def _entry(which: int) -> ListEntry:
    """0: the entry as the shipped list reads it; 1: another version of it; 2: another entry."""
    return (listed, changed_entry, functools.partial(listed, SISTER_RECORD))[which]()


def _check_sequence(target: str, steps: list[Op]) -> None:
    clock = Clock()
    with Ledger(target, clock=clock) as ledger:
        model: list[dict[str, Any]] = []
        for kind, a, b, c in steps:
            clock.advance(minutes=1)
            if kind == "record":
                reason = f"reason {c}"
                same = [m for m in model if m["live"] and _company(m["party"]) == _company(a) and m["entry"] == b]
                try:
                    got = clear(ledger, PARTIES[a], _entry(b), reason=reason)
                except LedgerError as exc:
                    assert exc.code == "clearance_exists" and same and same[0]["reason"] != reason
                else:
                    if same:
                        assert got.id == same[0]["id"] and same[0]["reason"] == reason
                    else:
                        assert got.id == f"CLR-{len(model) + 1}"
                        model.append({"id": got.id, "party": a, "entry": b, "reason": reason, "live": True})
            else:
                try:
                    ledger.revoke_clearance(f"CLR-{a + 1}", reason="withdrawn", actor="bob")
                except LedgerError as exc:
                    assert exc.code == "unknown_clearance" and a >= len(model)
                else:
                    model[a]["live"] = False
            # The shipped list reads the entry as `_entry(0)`: only clearances of it apply.
            expected = any(m["live"] and _company(m["party"]) == 0 and m["entry"] == 0 for m in model)
            checked = ledger.check(germany())
            assert (checked.outcome == "allowed") is expected, (steps, model, checked.missing)
            if not expected:
                assert any(RECORD in m for m in checked.missing)
        report = ledger.verify()
        assert report.ok, report.problem
        assert [c.live for c in ledger.clearances()] == [m["live"] for m in model]


operations = st.lists(
    st.one_of(
        st.tuples(st.just("record"), st.integers(0, 2), st.integers(0, 2), st.integers(0, 1)),
        st.tuples(st.just("revoke"), st.integers(0, 4), st.just(0), st.just(0)),
    ),
    max_size=10,
)
_PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@given(steps=operations)
@settings(_PROPERTY, max_examples=40)
def test_property_cleared_iff_a_live_matching_clearance_exists_sqlite(steps: list[Op]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        _check_sequence(str(Path(scratch) / "ledger.sqlite"), steps)


@pytest.mark.postgres
@pytest.mark.skipif(not pg_available(), reason="PostgreSQL is not reachable")
@given(steps=operations)
@settings(_PROPERTY, max_examples=12)
def test_property_cleared_iff_a_live_matching_clearance_exists_postgres(steps: list[Op]) -> None:
    target = pg_target()
    try:
        _check_sequence(target, steps)
    finally:
        drop_pg_target(target)


# ---- the command line ---------------------------------------------------------------------


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


@pytest.fixture
def db(tmp_path: Path) -> Iterator[str]:
    yield str(tmp_path / "l.sqlite")


def test_cli_clear_looks_the_entry_up_lists_and_withdraws(db: str) -> None:
    code, out = run(
        "clear", "--party", PARTY, "--entry", RECORD, "--reason", "cloud reseller", "--by", "ana", "--ledger", db,
        "--json",
    )  # fmt: skip
    assert code == 0, out
    made = json.loads(out)
    assert made["id"] == "CLR-1" and made["entry_fingerprint"] == listed().fingerprint
    assert made["list_code"] == "EL" and made["snapshot"] == default_rulebook().restricted_parties.snapshot_id
    code, out = run("clearances", "--ledger", db, "--json")
    assert code == 0 and [(c["id"], c["status"], c["actor"]) for c in json.loads(out)] == [("CLR-1", "live", "ana")]
    code, out = run("unclear", "CLR-1", "--reason", "misread", "--by", "bob", "--ledger", db)
    assert code == 0 and "withdrawn" in out
    code, out = run("clearances", "--ledger", db, "--json")
    assert json.loads(out)[0]["status"] == "withdrawn" and json.loads(out)[0]["revoked_by"] == "bob"
    code, out = run("journal", "--ledger", db, "--json")
    assert [(e["op"], e["actor"]) for e in json.loads(out)] == [("clear", "ana"), ("unclear", "bob")]
    assert run("verify", "--ledger", db)[0] == 0


def test_cli_decide_and_check_with_the_ledger_follow_the_clearance(db: str) -> None:
    shipment = json.dumps(SHIPMENT)

    def decided_with_ledger() -> dict[str, Any]:
        result = runner.invoke(chipgate_app, ["decide", "-", "--ledger", db, "--json"], input=shipment)
        assert result.exit_code == 0, result.output
        found: dict[str, Any] = json.loads(result.output)
        return found

    run("balances", "--ledger", db)  # creates the ledger
    held = decided_with_ledger()
    assert held["outcome"] == "needs_authorization" and RECORD in held["missing"][0]
    code, out = run("check", "-", "--ledger", db, stdin=shipment)
    assert code == 0 and "needs_authorization" in out and RECORD in out
    assert run("clear", "--party", PARTY, "--entry", RECORD, "--reason", "r", "--by", "ana", "--ledger", db)[0] == 0
    assert decided_with_ledger()["outcome"] == "allowed"
    code, out = run("check", "-", "--ledger", db, "--json", stdin=shipment)
    assert code == 0 and json.loads(out)["outcome"] == "allowed"


def test_cli_shows_a_clearance_of_another_entry_version_as_lapsed(db: str) -> None:
    other = changed_entry().fingerprint
    code, out = run(
        "clear", "--party", PARTY, "--entry", RECORD, "--fingerprint", other, "--reason", "r", "--by", "ana",
        "--ledger", db,
    )  # fmt: skip
    assert code == 0, out
    code, out = run("clearances", "--ledger", db)
    assert code == 0 and "CLR-1 (lapsed)" in out
    # The snapshot in use does not hold that version, so none is recorded.
    assert json.loads(run("clearances", "--ledger", db, "--json")[1])[0]["snapshot"] == ""


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--party", PARTY, "--entry", "rpl-not-on-any-list", "--reason", "r", "--by", "ana"], "--entry"),
        (["--party", PARTY, "--entry", RECORD, "--reason", "  ", "--by", "ana"], "--reason"),
        (["--party", PARTY, "--entry", RECORD, "--reason", "r", "--by", ""], "--by"),
        (["--party", "", "--entry", RECORD, "--reason", "r", "--by", "ana"], "--party"),
        (["--party", PARTY, "--entry", RECORD, "--reason", "r"], "--by"),
        (["--party", PARTY, "--entry", "rpl-x", "--fingerprint", "abc", "--reason", "r", "--by", "a"], "--list"),
    ],
)
def test_cli_bad_input_exits_2_naming_the_option_and_writes_nothing(db: str, args: list[str], named: str) -> None:
    code, out = run("clear", *args, "--ledger", db)
    assert code == 2 and named in out, out
    assert not Path(db).exists()


def test_cli_unclear_of_an_unknown_id_exits_2(db: str) -> None:
    code, out = run("unclear", "CLR-4", "--reason", "r", "--by", "bob", "--ledger", db)
    assert code == 2 and "CLR-4" in out
    code, out = run("unclear", "four", "--reason", "r", "--by", "bob", "--ledger", db)
    assert code == 2 and "ID" in out


def test_batch_with_the_ledger_follows_the_clearance(tmp_path: Path, db: str) -> None:
    book = tmp_path / "book.jsonl"
    clean_row = {**SHIPMENT, "consignee": {"name": OTHER_PARTY, "country": "DE"}}
    book.write_text(json.dumps(SHIPMENT) + "\n" + json.dumps(clean_row) + "\n")

    def outcomes() -> list[tuple[str, str | None]]:
        out = tmp_path / "out.jsonl"
        result = runner.invoke(chipgate_app, ["batch", "decide", str(book), "-o", str(out), "--ledger", db])
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        return [(row["outcome"], row["missing"]) for row in rows]

    run("balances", "--ledger", db)  # creates the ledger
    (held, missing), clean = outcomes()
    assert held == "needs_authorization" and missing is not None and RECORD in missing
    assert clean == ("allowed", None)
    assert run("clear", "--party", PARTY, "--entry", RECORD, "--reason", "r", "--by", "ana", "--ledger", db)[0] == 0
    assert outcomes() == [("allowed", None), ("allowed", None)]
