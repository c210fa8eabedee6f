"""Analyst clearances of possible restricted-party matches: recorded, journalled, applied by
`check` and `reserve`, lapsed when the list entry changes, withdrawn; on both backends."""

from __future__ import annotations

import dataclasses
import datetime as dt
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
from typer.testing import CliRunner

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
from chipgate.model import Decision, PartyHit, Requirement, Shipment
from chipgate.parties import ListEntry
from chipgate.rulebook import default_rulebook

PARTY = "Dahua Garment Co., Ltd."
# The same company as screening and the ledger compare names (case, punctuation, legal form).
PARTY_SPELT_OTHERWISE = "DAHUA GARMENT CO LTD"
RECORD = "rpl-cbc119ede19e1431ba2a"  # Entity List: Dahua Technology
RULE = "us.party_lists.match_thresholds"

SHIPMENT: dict[str, Any] = {
    "date": "2026-03-02",
    "kind": "export",
    "from_country": "US",
    "to_country": "CN",
    "item": {"chip": "nvidia-h200-sxm"},
    "quantity": 100,
    "unit_value_usd": "27000",
    "exporter": "NVIDIA",
    "consignee": {"name": PARTY, "country": "CN"},
}
APPROVAL: dict[str, Any] = {
    "id": "CN-DAHUA",
    "kind": "cn_import_approval",
    "holders": [PARTY],
    "products": ["nvidia-h200-sxm"],
    "quantity": 1000,
    "status": "final",
}

runner = CliRunner()


def listed() -> ListEntry:
    entries = default_rulebook().restricted_parties.entries
    return next(e for e in entries if e.record_id == RECORD)


def changed_entry() -> ListEntry:
    """The same entry after the list added an alias: a new fingerprint."""
    return dataclasses.replace(listed(), aliases=("Dahua",))


def dahua(**changes: Any) -> Shipment:
    return parse_shipment({**SHIPMENT, **changes})


def possible_hit(query: str = PARTY, entry: ListEntry | None = None, role: str = "consignee") -> PartyHit:
    entry = entry or listed()
    return PartyHit(
        role=role,
        query=query,
        list_code=entry.list_code,
        list_name=entry.list_name,
        entry_name=entry.name,
        matched_name=entry.name,
        record_id=entry.record_id,
        matcher="fuzzy-v1",
        score=0.8,
        strength="possible",
        entry_fingerprint=entry.fingerprint,
        snapshot=default_rulebook().restricted_parties.snapshot_id,
    )


def with_hits(decision: Decision, *hits: PartyHit) -> Decision:
    """The decision with these hits, and the clearance requirement when one is possible."""
    requirements = tuple(r for r in decision.requirements if r.kind != "screening_clearance")
    if any(h.strength == "possible" for h in hits):
        requirements += (Requirement("screening_clearance", RULE, "clearance of a possible list match"),)
    outcome = decision.outcome
    if outcome != "blocked":
        outcome = "needs_authorization" if requirements else "allowed"
    return dataclasses.replace(decision, party_hits=hits, requirements=requirements, outcome=outcome)


def decided(shipment: Shipment, entry: ListEntry | None = None) -> Decision:
    """`chipgate.decide`'s decision, with the possible hit on the Dahua Technology entry that
    screening gives this consignee (added here while decide does not grade hits yet)."""
    decision = decide(shipment)
    if entry is None and any(h.strength == "possible" and h.record_id == RECORD for h in decision.party_hits):
        return decision
    return with_hits(decision, possible_hit(shipment.consignee.name, entry))


def seed(ledger: Ledger, party: str = PARTY) -> None:
    ledger.authorize(licence("LIC-DAHUA", party, 1000), actor=ACTOR)
    ledger.authorize({**APPROVAL, "holders": [party]}, actor=ACTOR)


def clear(ledger: Ledger, party: str = PARTY, entry: ListEntry | None = None, **changes: Any) -> Clearance:
    entry = entry or listed()
    given: dict[str, Any] = {
        "entry_fingerprint": entry.fingerprint,
        "list_code": entry.list_code,
        "reason": "a garment maker in Guangzhou; USCC differs from Dahua Technology's",
        "actor": "ana",
        **changes,
    }
    return ledger.record_clearance(party, entry.record_id, **given)


def ops(ledger: Ledger) -> list[tuple[str, str]]:
    return [(e.op, e.subject) for e in ledger.journal()]


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


def only_screening(decision: Decision) -> Decision:
    """The decision as if the authorisations on file covered everything else."""
    return dataclasses.replace(decision, missing=())


def test_a_live_clearance_of_the_same_party_entry_and_version_clears_the_hit() -> None:
    decision = only_screening(decided(dahua()))
    assert decision.outcome == "needs_authorization"
    cleared = apply_clearances(decision, [stored(PARTY_SPELT_OTHERWISE)])
    assert cleared.outcome == "allowed"
    assert cleared.missing == ()
    assert "Possible match cleared" in cleared.reasons[-1].text and "CLR-1" in cleared.reasons[-1].text
    assert cleared.reasons[-1].citation.startswith("15 CFR Part 732, Supplement No. 3")


@pytest.mark.parametrize(
    "clearance",
    [
        pytest.param(stored("Dahua Garment Trading"), id="another party"),
        pytest.param(stored(record_id="rpl-b19a03bd3b1556266f74"), id="another entry"),
        pytest.param(stored(revoked_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC)), id="withdrawn"),
    ],
)
def test_a_clearance_of_something_else_leaves_the_hit_open(clearance: Clearance) -> None:
    decision = only_screening(decided(dahua()))
    checked = apply_clearances(decision, [clearance])
    assert checked.outcome == "needs_authorization"
    (missing,) = checked.missing
    assert missing.startswith("screening_clearance:")
    assert PARTY in missing and "EL" in missing and RECORD in missing
    assert "lapsed" not in missing


def test_a_clearance_lapses_when_the_entry_changed_since() -> None:
    decision = only_screening(decided(dahua(), changed_entry()))
    checked = apply_clearances(decision, [stored()])
    assert checked.outcome == "needs_authorization"
    (missing,) = checked.missing
    assert RECORD in missing and "CLR-1 lapsed" in missing
    assert checked.reasons[-1].text.startswith("Clearance CLR-1 lapsed")
    # Cleared again for the entry as it now reads, it applies.
    again = apply_clearances(decision, [stored(), stored(entry=changed_entry(), number=2)])
    assert again.outcome == "allowed" and "CLR-2" in again.reasons[-1].text


def test_a_clearance_never_overrides_a_match() -> None:
    decision = decide(dahua())
    match = dataclasses.replace(possible_hit(), strength="match", score=1.0)
    hit_decision = dataclasses.replace(decision, party_hits=(match,))
    checked = apply_clearances(only_screening(hit_decision), [stored()])
    assert checked.reasons == hit_decision.reasons
    assert checked.party_hits == (match,)
    # With a match and a possible hit, only the possible one is cleared.
    both = only_screening(with_hits(decision, match, possible_hit(role="end_user")))
    assert apply_clearances(both, [stored()]).outcome == "allowed"
    assert sum("cleared" in r.text for r in apply_clearances(both, [stored()]).reasons) == 1


def test_missing_names_each_uncleared_hit_and_keeps_what_the_authorisations_lack() -> None:
    other = next(e for e in default_rulebook().restricted_parties.entries if e.record_id == "rpl-b19a03bd3b1556266f74")
    decision = with_hits(decide(dahua()), possible_hit(), possible_hit(entry=other))
    lacking = dataclasses.replace(decision, missing=("us_export_license: no licence on file",))
    checked = apply_clearances(lacking, [stored()])
    assert checked.outcome == "needs_authorization"
    assert checked.missing[0] == "us_export_license: no licence on file"
    assert len(checked.missing) == 2 and other.record_id in checked.missing[1] and other.list_code in checked.missing[1]
    assert RECORD not in checked.missing[1]


def test_a_hit_without_a_fingerprint_cannot_be_cleared() -> None:
    decision = only_screening(decided(dahua()))
    blank = dataclasses.replace(
        decision, party_hits=(dataclasses.replace(decision.party_hits[0], entry_fingerprint=""),)
    )
    assert apply_clearances(blank, [stored(entry_fingerprint="")]).outcome == "needs_authorization"


# ---- the ledger: check, journal, withdrawal ---------------------------------------------


def test_check_applies_a_recorded_clearance_and_the_journal_records_it(ledger: Ledger) -> None:
    seed(ledger)
    shipment = dahua()
    decision = decided(shipment)
    before = ledger.check(shipment, decision=decision)
    assert before.outcome == "needs_authorization"
    assert set(before.covered_by) == {"CN-DAHUA", "LIC-DAHUA"}
    assert len(before.missing) == 1 and RECORD in before.missing[0] and PARTY in before.missing[0]

    made = clear(ledger, PARTY_SPELT_OTHERWISE, snapshot="2026-08-18-test")
    assert made.id == "CLR-1" and made.live and made.actor == "ana"
    after = ledger.check(shipment, decision=decision)
    assert after.outcome == "allowed" and after.missing == ()
    assert "CLR-1" in after.reasons[-1].text

    entry = ledger.journal()[-1]
    assert (entry.op, entry.subject, entry.actor) == ("clear", "CLR-1", "ana")
    assert entry.data["record_id"] == RECORD and entry.data["entry_fingerprint"] == listed().fingerprint
    assert entry.data["party"] == PARTY_SPELT_OTHERWISE and entry.data["reason"] == made.reason
    assert ledger.clearances() == [made]
    assert ledger.verify().ok


def test_withdrawing_reopens_the_hit_and_is_journalled(ledger: Ledger, clock: Clock) -> None:
    seed(ledger)
    shipment, decision = dahua(), decided(dahua())
    made = clear(ledger)
    clock.advance(hours=2)
    withdrawn = ledger.revoke_clearance(made.id, reason="USCC was misread", actor="bob")
    assert not withdrawn.live and withdrawn.revoked_by == "bob" and withdrawn.revoked_at == clock.now
    assert ledger.check(shipment, decision=decision).outcome == "needs_authorization"
    assert ops(ledger)[-2:] == [("clear", "CLR-1"), ("unclear", "CLR-1")]
    assert ledger.journal()[-1].data == {"reason": "USCC was misread"}
    # Withdrawing again changes nothing and writes nothing.
    assert ledger.revoke_clearance("CLR-1", reason="again", actor="bob") == withdrawn
    assert len(ledger.journal()) == 4
    assert ledger.clearances(live_only=True) == []
    assert ledger.clearance("CLR-1") == withdrawn
    # A new clearance gets a new id.
    assert clear(ledger).id == "CLR-2"
    assert ledger.check(shipment, decision=decision).outcome == "allowed"
    assert ledger.verify().ok


def test_a_clearance_for_the_entry_before_it_changed_lapses_in_check(ledger: Ledger) -> None:
    seed(ledger)
    clear(ledger)
    checked = ledger.check(dahua(), decision=decided(dahua(), changed_entry()))
    assert checked.outcome == "needs_authorization"
    assert "CLR-1 lapsed" in checked.missing[0]
    assert any(r.text.startswith("Clearance CLR-1 lapsed") for r in checked.reasons)


def test_a_cleared_hit_still_needs_the_authorisations(ledger: Ledger) -> None:
    clear(ledger)
    checked = ledger.check(dahua(), decision=decided(dahua()))
    assert checked.outcome == "needs_authorization"
    assert [m.split(":")[0] for m in checked.missing] == ["us_export_license", "cn_import_approval"]
    uncleared = ledger.revoke_clearance("CLR-1", reason="r", actor="a")
    assert not uncleared.live
    checked = ledger.check(dahua(), decision=decided(dahua()))
    assert [m.split(":")[0] for m in checked.missing] == [
        "us_export_license",
        "cn_import_approval",
        "screening_clearance",
    ]


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


def test_reserve_is_refused_until_the_hit_is_cleared_and_post_after_withdrawal(ledger: Ledger) -> None:
    seed(ledger)
    shipment, decision = dahua(), decided(dahua())
    entries = len(ledger.journal())
    with pytest.raises(LedgerError) as refused:
        ledger.reserve("po-1", shipment, actor=ACTOR, decision=decision)
    assert refused.value.code == "not_covered" and RECORD in str(refused.value)
    assert len(ledger.journal()) == entries

    clear(ledger)
    held = ledger.reserve("po-1", shipment, actor=ACTOR, decision=decision)
    assert held.status == "pending" and set(held.authorizations) == {"LIC-DAHUA", "CN-DAHUA"}
    assert ledger.journal()[-1].data["clearances"] == ["CLR-1"]

    ledger.revoke_clearance("CLR-1", reason="misread", actor="bob")
    with pytest.raises(LedgerError) as withdrawn:
        ledger.post("po-1", actor=ACTOR)
    assert withdrawn.value.code == "clearance_withdrawn" and "CLR-1" in str(withdrawn.value)
    assert ledger.reservation("po-1").status == "pending"
    assert ledger.void("po-1", actor=ACTOR).status == "voided"
    assert ledger.verify().ok


def test_a_cleared_reservation_posts(ledger: Ledger) -> None:
    seed(ledger)
    clear(ledger)
    ledger.reserve("po-2", dahua(), actor=ACTOR, decision=decided(dahua()))
    assert ledger.post("po-2", actor=ACTOR).status == "posted"
    assert ledger.balance("LIC-DAHUA").used == 100
    assert ledger.verify().ok


def test_reserve_many_clears_each_shipment_on_its_own(ledger: Ledger) -> None:
    seed(ledger)
    seed_other = "Dahua Garment Trading"
    ledger.authorize(licence("LIC-TRADING", seed_other, 1000), actor=ACTOR)
    ledger.authorize({**APPROVAL, "id": "CN-TRADING", "holders": [seed_other]}, actor=ACTOR)
    clear(ledger)
    other = dahua(consignee={"name": seed_other, "country": "CN"})
    results = ledger.reserve_many(
        [
            ReserveRequest("a", dahua(), decided(dahua())),
            ReserveRequest("b", other, decided(other)),
        ],
        actor=ACTOR,
    )
    assert not isinstance(results[0], LedgerError) and results[0].status == "pending"
    assert isinstance(results[1], LedgerError) and results[1].code == "not_covered"
    assert seed_other in str(results[1])
    assert ledger.verify().ok


# ---- tamper evidence and storage ---------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE clearances SET entry_fingerprint = 'ffffffffffffffff'",
        "UPDATE clearances SET revoked_at = NULL, revoked_by = NULL, revoke_reason = NULL",
        "UPDATE clearances SET party = 'Dahua Technology'",
        "DELETE FROM reservation_clearances",
    ],
)
def test_verify_finds_a_clearance_changed_outside_the_ledger(ledger: Ledger, statement: str) -> None:
    seed(ledger)
    clear(ledger)
    ledger.reserve("po-1", dahua(), actor=ACTOR, decision=decided(dahua()))
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
        seed(ledger)
        clear(ledger)
        assert ledger.check(dahua(), decision=decided(dahua())).outcome == "allowed"
        assert ledger.verify().ok


def test_concurrent_recorders_get_distinct_ids_and_one_clearance_per_party(target: str) -> None:
    parties = [f"Garment Maker {i}" for i in range(6)]
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
PARTIES = (PARTY, PARTY_SPELT_OTHERWISE, "Dahua Garment Trading")
ENTRIES = ("original", "changed")
Op = tuple[str, int, int, int]


def _company(party: int) -> int:
    return 0 if party < 2 else 1


def _entry(which: int) -> ListEntry:
    return listed() if ENTRIES[which] == "original" else changed_entry()


def _check_sequence(target: str, steps: list[Op]) -> None:
    decision = decided(dahua())
    clock = Clock()
    with Ledger(target, clock=clock) as ledger:
        seed(ledger)
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
                wanted = f"CLR-{a + 1}"
                try:
                    ledger.revoke_clearance(wanted, reason="withdrawn", actor="bob")
                except LedgerError as exc:
                    assert exc.code == "unknown_clearance" and a >= len(model)
                else:
                    model[a]["live"] = False
            expected = any(m["live"] and m["party"] < 2 and m["entry"] == 0 for m in model)
            checked = ledger.check(dahua(), decision=decision)
            assert (checked.outcome == "allowed") is expected, (steps, model, checked.missing)
            if not expected:
                assert any(RECORD in m for m in checked.missing)
        report = ledger.verify()
        assert report.ok, report.problem
        assert [c.live for c in ledger.clearances()] == [m["live"] for m in model]


operations = st.lists(
    st.one_of(
        st.tuples(st.just("record"), st.integers(0, 2), st.integers(0, 1), st.integers(0, 1)),
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


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def db(tmp_path: Path) -> Iterator[str]:
    yield str(tmp_path / "l.sqlite")


def test_cli_clear_looks_the_entry_up_lists_and_withdraws(db: str) -> None:
    code, out = run(
        "clear", "--party", PARTY, "--entry", RECORD, "--reason", "garment maker", "--by", "ana", "--ledger", db,
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


def test_cli_shows_a_clearance_of_an_older_entry_version_as_lapsed(db: str) -> None:
    old = changed_entry().fingerprint
    code, out = run(
        "clear", "--party", PARTY, "--entry", RECORD, "--fingerprint", old, "--reason", "r", "--by", "ana",
        "--ledger", db,
    )  # fmt: skip
    assert code == 0, out
    code, out = run("clearances", "--ledger", db)
    assert code == 0 and "CLR-1 (lapsed)" in out


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
