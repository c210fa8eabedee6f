"""The `Ledger` unit of work: every operation on authorisations and reservations.

Each operation is one database transaction. Accounts are locked in id order, the
balance check and the write happen inside that transaction, and one journal entry per
change is appended before it commits: either all of an operation is stored, or none.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import math
import os
import random
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, TypeVar

from chipgate.errors import LedgerError
from chipgate.inputs import MAX_UNITS, is_text
from chipgate.ledger.clearances import (
    ID_PREFIX,
    MAX_REASON,
    ClearanceExists,
    ClearanceWithdrawn,
    UnknownClearance,
    applied,
    apply_clearances,
    fingerprints,
    listing,
    needs_clearance,
    record_ids,
    required_text,
)
from chipgate.ledger.clearances import missing as clearance_missing
from chipgate.ledger.coverage import (
    NearMiss,
    Plan,
    child_id,
    choose,
    duty_free_within_quota,
    normalize_name,
    plan_coverage,
    plan_key,
    same_party,
    take,
)
from chipgate.ledger.errors import (
    AlreadyPosted,
    AlreadyVoided,
    AuthorizationExists,
    AuthorizationRevoked,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidAuthorization,
    InvalidQuantity,
    LedgerInputError,
    LimitBelowUsage,
    NotCovered,
    ReservationExpired,
    ShipmentBlocked,
    UnknownAuthorization,
    UnknownReservation,
)
from chipgate.ledger.journal import chain_hash, check_chain, entry_material
from chipgate.ledger.model import (
    PLANT_STATUSES,
    Authorization,
    Balance,
    Clearance,
    JournalEntry,
    Leg,
    Problem,
    Reservation,
    VerifyReport,
    canonical_json,
    canonical_json_plain,
    cents,
    content_hash,
    dollars,
    request_digest,
)
from chipgate.ledger.store import Store, Tx, open_store
from chipgate.model import Decision, Shipment

T = TypeVar("T")
Decider = Callable[[Shipment, dt.date], Decision]

# Rule parameters the ledger reads (values, dates and citations live in src/chipgate/rules/).
VOLUME_CAP_RATIO = "us.license_policy.h200_lane_volume_cap_ratio"
QUOTA_MULTIPLIER = "tariffs.taiwan_232_quota.multiplier"

_COLUMNS = (
    "id, kind, parent, version, revoked, limit_units, held, used, value_limit, value_held,"
    " value_used, basis_units, plant_status, plant_status_on"
)
_CHUNK = 500
_CLEARANCE_COLUMNS = (
    "id, party, record_id, list_code, entry_fingerprint, snapshot, reason, actor, created_at,"
    " revoked_at, revoked_by, revoke_reason"
)


class _Stale(Exception):
    """The cached authorisation terms are older than the locked rows: reload and retry."""


class _Account:
    """One authorisation row as read (and changed) inside a transaction."""

    __slots__ = (
        "basis",
        "dirty",
        "held",
        "id",
        "kind",
        "limit",
        "parent",
        "plant_status",
        "plant_status_on",
        "revoked",
        "used",
        "value_held",
        "value_limit",
        "value_used",
        "version",
    )

    def __init__(self, row: Sequence[Any]) -> None:
        (
            self.id,
            self.kind,
            self.parent,
            self.version,
            revoked,
            self.limit,
            self.held,
            self.used,
            self.value_limit,
            self.value_held,
            self.value_used,
            self.basis,
            self.plant_status,
            self.plant_status_on,
        ) = row
        self.revoked = bool(revoked)
        self.dirty = False

    @property
    def committed(self) -> int:
        return int(self.held) + int(self.used)

    def balance(self, basis: str = "enacted") -> Balance:
        return Balance(
            authorization_id=self.id,
            kind=self.kind,
            limit=self.limit,
            held=self.held,
            used=self.used,
            value_limit_usd=dollars(self.value_limit),
            value_held_usd=dollars(self.value_held) or Decimal(0),
            value_used_usd=dollars(self.value_used) or Decimal(0),
            revoked=self.revoked,
            parent=self.parent,
            basis=basis,
        )


class _Unbounded:
    """An account with no limits: `take` over these gives the legs a plan draws when every
    account has room."""

    __slots__ = ("held", "limit", "used", "value_held", "value_limit", "value_used")

    def __init__(self) -> None:
        self.limit: int | None = None
        self.value_limit: int | None = None
        self.held = self.used = self.value_held = self.value_used = 0


_UNBOUNDED = _Unbounded()


def _unbounded(ids: Iterable[str]) -> dict[str, _Unbounded]:
    return dict.fromkeys(ids, _UNBOUNDED)


@dataclass(frozen=True, slots=True)
class ReserveRequest:
    """One shipment to reserve under an idempotency key (see `Ledger.reserve_many`)."""

    key: str
    shipment: Shipment
    decision: Decision | None = None
    using: tuple[str, ...] | None = None
    on: dt.date | None = None


@dataclass(slots=True)
class _Pending:
    request: ReserveRequest
    decision: Decision
    shipment_json: dict[str, Any]
    shipment_text: str
    digest: str
    on: dt.date
    value_cents: int | None
    # What uncleared possible restricted-party matches leave missing (filled in the
    # reservation's transaction, from the clearances on file then).
    screening: tuple[str, ...] = ()
    # The clearances that cleared them: posting is refused once one is withdrawn.
    cleared_by: tuple[str, ...] = ()


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise LedgerInputError("now", "a time with a time zone is required")
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _parse_time(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _reserve_payload(prepared: _Pending, legs: Sequence[Leg], expires_at: str) -> str:
    """A reservation's journal payload. The shipment itself is stored with the reservation;
    the entry commits to it by hash (verify recomputes it), and the legs give the balance
    changes."""
    payload: dict[str, Any] = {
        "content_hash": prepared.digest,
        "on": prepared.on.isoformat(),
        "using": list(prepared.request.using or ()),
        "legs": [[g.authorization_id, g.quantity, g.value_cents] for g in legs],
        "expires_at": expires_at,
    }
    if prepared.cleared_by:
        payload["clearances"] = list(prepared.cleared_by)
    return canonical_json_plain(payload)


def _text_array(items: Iterable[str]) -> str:
    """A PostgreSQL array literal of texts (each quoted, so any text is safe)."""
    quoted = ('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items)
    return "{" + ",".join(quoted) + "}"


def _int_array(items: Iterable[int]) -> str:
    return "{" + ",".join(str(int(item)) for item in items) + "}"


def _marks(n: int) -> str:
    return ",".join("?" * n)


class Ledger:
    """Authorisations as accounts with limits; reservations held, posted, voided or expired.

    `target` is an SQLite path, a directory, or a `postgresql://` URL (see
    `chipgate.ledger.store`). `clock` gives the current time (UTC) when an operation's
    `now` is omitted; `decider` decides shipments (default: `chipgate.decide.decide`).
    """

    def __init__(
        self,
        target: str | os.PathLike[str] | None = None,
        *,
        store: Store | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        decider: Decider | None = None,
        rulebook: Any = None,
        reservation_ttl: dt.timedelta = dt.timedelta(hours=24),
    ) -> None:
        self.store = store or open_store(target)
        self.schema_version = self.store.migrate()
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._decider = decider
        self._rulebook = rulebook
        self.reservation_ttl = reservation_ttl
        self._terms: dict[str, Authorization] = {}
        self._versions: dict[str, int] = {}
        self._revoked: frozenset[str] = frozenset()
        self._terms_seq = -1
        self._plans: dict[tuple[object, ...], Plan] = {}

    # ---- lifecycle ---------------------------------------------------------------------

    @property
    def location(self) -> str:
        return self.store.location

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def rulebook(self) -> Any:
        if self._rulebook is None:
            from chipgate.rulebook import default_rulebook

            self._rulebook = default_rulebook()
        return self._rulebook

    def _now(self, now: dt.datetime | None) -> dt.datetime:
        return now if now is not None else self._clock()

    def _run(self, fn: Callable[[Tx], T], write: bool = True) -> T:
        for attempt in range(100):
            try:
                with self.store.transaction(write) as tx:
                    return fn(tx)
            except _Stale:
                self._terms_seq = -1
            except LedgerError:
                raise
            except Exception as exc:
                if not self.store.retryable(exc) or attempt == 99:
                    raise
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise LedgerError("the operation could not complete after repeated conflicts")

    # ---- the journal -------------------------------------------------------------------

    def _append(
        self,
        tx: Tx,
        entries: Sequence[tuple[str, str, dict[str, Any] | str]],
        at: str,
        actor: str,
        *,
        terms_changed: bool = False,
    ) -> None:
        """Append entries (op, subject, payload) to the chain, inside the caller's transaction.
        A payload is a dict, or its canonical JSON text already encoded."""
        if not entries:
            return
        rows = [
            (op, subject, payload if isinstance(payload, str) else canonical_json(payload))
            for op, subject, payload in entries
        ]
        if self.store.dialect == "postgresql" and len(rows) == 1:
            op, subject, payload = rows[0]
            # The chain's tip is locked, extended and stored in one statement, the last
            # before commit: the critical section every writer shares stays short.
            tx.execute(
                "WITH h AS (SELECT seq, hash FROM journal_head WHERE id = 1 FOR UPDATE),"
                " n AS (SELECT seq + 1 AS seq, hash AS prev,"
                "  sha256(hash || convert_to((seq + 1)::text || chr(10) || ?, 'UTF8')) AS hash"
                "  FROM h),"
                " u AS (UPDATE journal_head SET seq = n.seq, hash = n.hash,"
                "  terms_seq = CASE WHEN ? THEN n.seq ELSE journal_head.terms_seq END"
                "  FROM n WHERE journal_head.id = 1)"
                " INSERT INTO journal (seq, at, actor, op, subject, payload, prev_hash, hash)"
                " SELECT n.seq, ?, ?, ?, ?, ?, n.prev, n.hash FROM n",
                (
                    entry_material(at, actor, op, subject, payload),
                    terms_changed,
                    at,
                    actor,
                    op,
                    subject,
                    payload,
                ),
            )
            return
        head = tx.one("SELECT seq, hash FROM journal_head WHERE id = 1" + self.store.lock_rows)
        assert head is not None
        seq, prev = int(head[0]), bytes(head[1])
        out = []
        for op, subject, payload in rows:
            seq += 1
            digest = chain_hash(prev, seq, entry_material(at, actor, op, subject, payload))
            out.append((seq, at, actor, op, subject, payload, prev, digest))
            prev = digest
        tx.insert_rows("INSERT INTO journal (seq, at, actor, op, subject, payload, prev_hash, hash)", out)
        if terms_changed:
            tx.execute(
                "UPDATE journal_head SET seq = ?, hash = ?, terms_seq = ? WHERE id = 1",
                (seq, prev, seq),
            )
        else:
            tx.execute("UPDATE journal_head SET seq = ?, hash = ? WHERE id = 1", (seq, prev))

    # ---- cached terms ------------------------------------------------------------------

    def _refresh_terms(self, tx: Tx, terms_seq: int | None = None) -> None:
        if terms_seq is None:
            row = tx.one("SELECT terms_seq FROM journal_head WHERE id = 1")
            assert row is not None
            terms_seq = int(row[0])
        if terms_seq == self._terms_seq:
            return
        terms: dict[str, Authorization] = {}
        versions: dict[str, int] = {}
        revoked = set()
        for auth_id, spec, version, is_revoked in tx.all(
            "SELECT id, spec, version, revoked FROM authorizations WHERE parent IS NULL ORDER BY id"
        ):
            terms[auth_id] = Authorization.from_dict(json.loads(spec))
            versions[auth_id] = int(version)
            if is_revoked:
                revoked.add(auth_id)
        self._terms, self._versions = terms, versions
        self._revoked = frozenset(revoked)
        self._plans = {}
        self._terms_seq = terms_seq

    def _lock(self, tx: Tx, ids: Collection[str]) -> dict[str, _Account]:
        """Read and lock the accounts, always in id order (the lock order every writer uses)."""
        accounts: dict[str, _Account] = {}
        ordered = sorted(ids)
        for chunk in _chunks(ordered):
            for row in tx.all(
                f"SELECT {_COLUMNS} FROM authorizations WHERE id IN ({_marks(len(chunk))})"
                f" ORDER BY id{self.store.lock_rows}",
                tuple(chunk),
            ):
                account = _Account(row)
                accounts[account.id] = account
        return accounts

    def _check_fresh(self, accounts: Mapping[str, _Account], wanted: Iterable[str]) -> None:
        for account_id in wanted:
            account = accounts.get(account_id)
            if account is None:
                raise _Stale()
            top = account.parent or account.id
            if self._versions.get(top) != int(account.version) or (account.revoked != (top in self._revoked)):
                raise _Stale()

    def _write_accounts(self, tx: Tx, accounts: Iterable[_Account]) -> None:
        rows = [
            (
                a.limit,
                a.held,
                a.used,
                a.value_limit,
                a.value_held,
                a.value_used,
                a.basis,
                a.plant_status,
                a.plant_status_on,
                a.id,
            )
            for a in accounts
            if a.dirty
        ]
        if self.store.dialect == "postgresql" and len(rows) > 1:
            # One statement for all accounts (their rows are already locked).
            marks = "(?::bigint,?::bigint,?::bigint,?::bigint,?::bigint,?::bigint,?::bigint,?,?,?)"
            tx.execute(
                "UPDATE authorizations AS a SET limit_units = v.l, held = v.h, used = v.u,"
                " value_limit = v.vl, value_held = v.vh, value_used = v.vu, basis_units = v.b,"
                " plant_status = v.ps, plant_status_on = v.pso"
                f" FROM (VALUES {','.join([marks] * len(rows))})"
                " AS v(l, h, u, vl, vh, vu, b, ps, pso, id) WHERE a.id = v.id",
                [value for row in rows for value in row],
            )
            return
        tx.many(
            "UPDATE authorizations SET limit_units = ?, held = ?, used = ?, value_limit = ?,"
            " value_held = ?, value_used = ?, basis_units = ?, plant_status = ?,"
            " plant_status_on = ? WHERE id = ?",
            rows,
        )

    # ---- rule-derived limits -----------------------------------------------------------

    def _rule(self, parameter: str, on: dt.date) -> tuple[Any, dict[str, Any]]:
        try:
            found = self.rulebook.at(on).get(parameter)
        except KeyError:
            raise LedgerError(
                f"the rule data has no parameter {parameter!r}; the ledger needs it to set this limit"
            ) from None
        if found is None:
            return None, {"parameter": parameter, "on": on.isoformat(), "in_force": False}
        return found.value, {
            "parameter": parameter,
            "on": on.isoformat(),
            "value": found.value,
            "citation": found.citation,
            "effective_from": found.effective_from.isoformat(),
            "status": found.status,
        }

    def _volume_cap_limit(self, shipped: int, on: dt.date) -> tuple[int, dict[str, Any]]:
        ratio, facts = self._rule(VOLUME_CAP_RATIO, on)
        if ratio is None:
            return 0, facts
        return math.floor(Decimal(str(ratio)) * shipped), facts

    def _quota_limit(self, capacity: int, status: str, on: dt.date) -> tuple[int, dict[str, Any]]:
        multipliers, facts = self._rule(QUOTA_MULTIPLIER, on)
        if multipliers is None:
            return 0, facts
        if status not in multipliers:
            raise LedgerError(f"rule {QUOTA_MULTIPLIER} has no multiplier for status {status!r}")
        return math.floor(Decimal(str(multipliers[status])) * capacity), facts

    # ---- authorisations ----------------------------------------------------------------

    def authorize(
        self,
        authorization: Authorization | Mapping[str, Any],
        *,
        actor: str,
        now: dt.datetime | None = None,
    ) -> Authorization:
        """Put an authorisation on file. The same id and terms again returns it unchanged."""
        auth = authorization if isinstance(authorization, Authorization) else Authorization.from_dict(authorization)
        auth.validate()
        at = _iso(self._now(now))
        on = self._now(now).date()
        spec = canonical_json(auth.to_dict())

        def op(tx: Tx) -> Authorization:
            row = tx.one("SELECT spec FROM authorizations WHERE id = ?" + self.store.lock_rows, (auth.id,))
            if row is not None:
                if row[0] == spec:
                    return auth
                raise AuthorizationExists(auth.id)
            basis = 0
            rule: dict[str, Any] | None = None
            limit = auth.quantity
            if auth.kind == "derived_volume_cap":
                basis = self._us_shipped(tx, auth.exporter or "", auth.products[0])
                limit, rule = self._volume_cap_limit(basis, auth.valid_from or on)
            elif auth.kind == "duty_free_quota":
                assert auth.planned_capacity is not None and auth.plant_status is not None
                basis = auth.planned_capacity
                limit, rule = self._quota_limit(basis, auth.plant_status, auth.valid_from or auth.plant_status_on or on)
            value_limit = cents(auth.value_usd) if auth.value_usd is not None else None
            plant_on = auth.plant_status_on.isoformat() if auth.plant_status_on else None
            rows: list[tuple[Any, ...]] = [
                (
                    auth.id,
                    auth.kind,
                    None,
                    spec,
                    limit,
                    value_limit,
                    basis,
                    auth.plant_status,
                    plant_on,
                )
            ]
            deltas: dict[str, Any] = {auth.id: {"limit": limit, "value_limit": value_limit}}
            for holder, sub_limit in sorted(auth.sub_limits.items()):
                child = child_id(auth.id, holder)
                rows.append((child, auth.kind, auth.id, spec, sub_limit, None, 0, None, None))
                deltas[child] = {"limit": sub_limit, "value_limit": None}
            tx.many(
                "INSERT INTO authorizations (id, kind, parent, spec, version, limit_units,"
                " value_limit, basis_units, plant_status, plant_status_on)"
                " VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
                rows,
            )
            payload: dict[str, Any] = {"terms": auth.to_dict(), "deltas": deltas}
            if rule is not None:
                payload["rule"] = rule
                payload["basis_units"] = basis
            self._append(tx, [("authorize", auth.id, payload)], at, actor, terms_changed=True)
            return auth

        return self._run(op)

    def amend(
        self,
        authorization_id: str,
        changes: Mapping[str, Any],
        *,
        actor: str,
        now: dt.datetime | None = None,
    ) -> Authorization:
        """Change an authorisation's terms; the previous terms stay in the journal."""
        if "id" in changes and changes["id"] != authorization_id:
            raise InvalidAuthorization("id", "an amendment cannot change the id")
        at = _iso(self._now(now))

        def op(tx: Tx) -> Authorization:
            current = self._top_row(tx, authorization_id)
            old = Authorization.from_dict(json.loads(current[1]))
            merged = {**old.to_dict(), **changes}
            merged = {k: v for k, v in merged.items() if v is not None}
            new = Authorization.from_dict(merged)
            if new.kind != old.kind:
                raise InvalidAuthorization("kind", "an amendment cannot change the kind")
            if set(new.sub_limits) != set(old.sub_limits):
                raise InvalidAuthorization(
                    "sub_limits", "an amendment can change sub-limits, not which holders have one"
                )
            ids = [authorization_id] + [child_id(authorization_id, h) for h in new.sub_limits]
            accounts = self._lock(tx, ids)
            top = accounts[authorization_id]
            deltas: dict[str, Any] = {}
            payload: dict[str, Any] = {"terms": new.to_dict(), "previous": old.to_dict()}
            if new.kind in ("us_export_license", "cn_import_approval", "per_customer_cap"):
                top.limit = new.quantity
            elif new.kind == "duty_free_quota" and new.planned_capacity != old.planned_capacity:
                assert new.planned_capacity is not None
                top.basis = new.planned_capacity
                status_on = dt.date.fromisoformat(top.plant_status_on)
                top.limit, payload["rule"] = self._quota_limit(top.basis, top.plant_status, status_on)
            top.value_limit = cents(new.value_usd) if new.value_usd is not None else None
            for holder, sub_limit in new.sub_limits.items():
                accounts[child_id(authorization_id, holder)].limit = sub_limit
            for account in accounts.values():
                if account.limit is not None and account.limit < account.committed:
                    raise LimitBelowUsage(
                        f"{account.id}: a limit of {account.limit:,} is below the"
                        f" {account.committed:,} units already held or used; void pending"
                        " reservations first"
                    )
                if account.value_limit is not None and account.value_limit < (account.value_held + account.value_used):
                    raise LimitBelowUsage(f"{account.id}: value limit below value committed")
                account.dirty = True
                deltas[account.id] = {"limit": account.limit, "value_limit": account.value_limit}
            payload["deltas"] = deltas
            spec = canonical_json(new.to_dict())
            self._write_accounts(tx, accounts.values())
            tx.execute(
                "UPDATE authorizations SET spec = ?, version = version + 1 WHERE id = ? OR parent = ?",
                (spec, authorization_id, authorization_id),
            )
            self._append(tx, [("amend", authorization_id, payload)], at, actor, terms_changed=True)
            return new

        return self._run(op)

    def revoke(
        self,
        authorization_id: str,
        *,
        actor: str,
        reason: str = "",
        now: dt.datetime | None = None,
    ) -> None:
        """Revoke an authorisation: nothing new can be reserved or posted against it."""
        at = _iso(self._now(now))

        def op(tx: Tx) -> None:
            row = self._top_row(tx, authorization_id)
            if row[2]:
                return
            tx.execute(
                "UPDATE authorizations SET revoked = 1, version = version + 1 WHERE id = ? OR parent = ?",
                (authorization_id, authorization_id),
            )
            ids = [
                r[0]
                for r in tx.all(
                    "SELECT id FROM authorizations WHERE id = ? OR parent = ? ORDER BY id",
                    (authorization_id, authorization_id),
                )
            ]
            payload = {"reason": reason, "deltas": {i: {"revoked": True} for i in ids}}
            self._append(tx, [("revoke", authorization_id, payload)], at, actor, terms_changed=True)

        self._run(op)

    def _top_row(self, tx: Tx, authorization_id: str) -> tuple[Any, ...]:
        row = tx.one(
            "SELECT id, spec, revoked FROM authorizations WHERE id = ? AND parent IS NULL" + self.store.lock_rows,
            (authorization_id,),
        )
        if row is None:
            raise UnknownAuthorization(authorization_id)
        return row

    def authorizations(self) -> dict[str, Authorization]:
        def op(tx: Tx) -> dict[str, Authorization]:
            self._refresh_terms(tx)
            return dict(self._terms)

        return self._run(op, write=False)

    # ---- derived limits: US shipments and plant status -----------------------------------

    def _us_shipped(self, tx: Tx, exporter: str, product: str) -> int:
        row = tx.one(
            "SELECT COALESCE(SUM(quantity), 0) FROM us_shipments WHERE exporter = ? AND product = ?",
            (normalize_name(exporter), product.casefold()),
        )
        return int(row[0]) if row else 0

    def record_us_shipment(
        self,
        key: str,
        *,
        exporter: str,
        product: str,
        quantity: int,
        shipped_on: dt.date,
        actor: str,
        now: dt.datetime | None = None,
    ) -> list[str]:
        """Record units shipped to US end users; raises the derived volume caps they feed.

        Returns the ids of the caps whose limit was recomputed. Idempotent by `key`.
        """
        if not key or not is_text(key):
            raise LedgerInputError("key", "an idempotency key (any non-empty text) is required")
        if isinstance(quantity, bool) or not 0 < quantity <= MAX_UNITS:
            raise InvalidQuantity("quantity", f"{quantity}; record 1 to {MAX_UNITS:,} units")
        at = _iso(self._now(now))
        exporter_norm, product_norm = normalize_name(exporter), product.casefold()
        digest = content_hash([exporter_norm, product_norm, quantity, shipped_on.isoformat()])

        def op(tx: Tx) -> list[str]:
            row = tx.one("SELECT content_hash FROM us_shipments WHERE key = ?", (key,))
            if row is not None:
                if row[0] != digest:
                    raise IdempotencyConflict(key, "US shipment")
                return []
            self._refresh_terms(tx)
            cap_ids = [
                a.id
                for a in self._terms.values()
                if a.kind == "derived_volume_cap"
                and a.id not in self._revoked
                and same_party(a.exporter or "", exporter)
                and a.products[0].casefold() == product_norm
            ]
            accounts = self._lock(tx, cap_ids)
            self._check_fresh(accounts, cap_ids)
            tx.execute(
                "INSERT INTO us_shipments (key, content_hash, exporter, product, quantity,"
                " shipped_on, actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, digest, exporter_norm, product_norm, quantity, shipped_on.isoformat(), actor),
            )
            deltas: dict[str, Any] = {}
            rule: dict[str, Any] = {}
            for account in accounts.values():
                account.basis = int(account.basis) + quantity
                limit, rule = self._volume_cap_limit(account.basis, shipped_on)
                # A lower ratio never un-ships what is already held or used.
                account.limit = max(limit, account.committed)
                account.dirty = True
                deltas[account.id] = {"limit": account.limit}
            self._write_accounts(tx, accounts.values())
            payload = {
                "exporter": exporter,
                "product": product,
                "quantity": quantity,
                "shipped_on": shipped_on.isoformat(),
                "deltas": deltas,
                "rule": rule,
            }
            self._append(tx, [("us_shipment", key, payload)], at, actor)
            return sorted(accounts)

        return self._run(op)

    def set_plant_status(
        self,
        authorization_id: str,
        status: str,
        on: dt.date,
        *,
        actor: str,
        now: dt.datetime | None = None,
    ) -> Balance:
        """Record a plant's status from a date; a duty-free quota's limit follows the latest."""
        if status not in PLANT_STATUSES:
            raise LedgerInputError("status", f"{status!r}; allowed: {', '.join(PLANT_STATUSES)}")
        at = _iso(self._now(now))

        def op(tx: Tx) -> Balance:
            self._top_row(tx, authorization_id)
            account = self._lock(tx, [authorization_id])[authorization_id]
            if account.kind != "duty_free_quota":
                raise LedgerInputError("authorization", f"{authorization_id} is a {account.kind}, not a quota")
            payload: dict[str, Any] = {"status": status, "on": on.isoformat()}
            deltas: dict[str, Any] = {}
            if account.plant_status_on is None or on >= dt.date.fromisoformat(account.plant_status_on):
                limit, payload["rule"] = self._quota_limit(int(account.basis), status, on)
                # The quota cannot shrink below what was already imported under it.
                account.limit = max(limit, account.committed)
                account.plant_status, account.plant_status_on = status, on.isoformat()
                account.dirty = True
                deltas[account.id] = {"limit": account.limit}
                self._write_accounts(tx, [account])
            else:
                payload["superseded_by"] = account.plant_status_on
            payload["deltas"] = deltas
            self._append(tx, [("plant_status", authorization_id, payload)], at, actor)
            return account.balance()

        return self._run(op)

    # ---- deciding and covering ---------------------------------------------------------

    def _decide(self, shipment: Shipment, on: dt.date) -> Decision:
        if self._decider is None:
            try:
                module = importlib.import_module("chipgate.decide")
            except ModuleNotFoundError:
                raise LedgerError("chipgate.decide is not available; pass decision= to reserve") from None
            decide_fn = module.decide
            rulebook = self.rulebook
            self._decider = lambda s, d: decide_fn(s, d, rulebook=rulebook)  # type: ignore[no-any-return]
        return self._decider(shipment, on)

    def check(self, shipment: Shipment, on: dt.date | None = None, *, decision: Decision | None = None) -> Decision:
        """The decision with `covered_by` and `missing` filled from the authorisations and
        clearances on file; `allowed` when everything the rules require is covered with room
        to spare and every possible restricted-party match is cleared."""
        on = on or shipment.date
        decision = decision or self._decide(shipment, on)

        def op(tx: Tx) -> Decision:
            self._refresh_terms(tx)
            plan = plan_coverage(shipment, decision, self._terms, on, revoked=self._revoked)
            accounts = self._lock_free(tx, plan.accounts)
            legs, shortfalls = choose(plan, accounts)
            missing = plan.missing + tuple(str(s) for s in shortfalls)
            covered = tuple(dict.fromkeys(leg.authorization_id for leg in legs))
            found = self._live_clearances(tx, record_ids(decision)) if needs_clearance(decision) else []
            checked = apply_clearances(replace(decision, covered_by=covered, missing=missing), found)
            quotas = [a for a in covered if a in self._terms and self._terms[a].kind == "duty_free_quota"]
            return duty_free_within_quota(checked, quotas, self.rulebook.at(on)) if not checked.missing else checked

        return self._run(op, write=False)

    def _lock_free(self, tx: Tx, ids: Collection[str]) -> dict[str, _Account]:
        out: dict[str, _Account] = {}
        for chunk in _chunks(sorted(ids)):
            for row in tx.all(
                f"SELECT {_COLUMNS} FROM authorizations WHERE id IN ({_marks(len(chunk))})",
                tuple(chunk),
            ):
                out[row[0]] = _Account(row)
        return out

    # ---- clearances of possible restricted-party matches ---------------------------------

    def record_clearance(
        self,
        party: str,
        record_id: str,
        *,
        entry_fingerprint: str,
        list_code: str,
        reason: str,
        actor: str,
        snapshot: str = "",
        now: dt.datetime | None = None,
    ) -> Clearance:
        """Record that `party` is not the list entry `record_id` as it reads now
        (`entry_fingerprint`): possible matches of that party to that entry version are
        then cleared (see `chipgate.ledger.clearances`).

        While a live clearance of the same party and entry version exists, recording it
        again with the same reason returns it (a retry gives the first result); with
        another reason it is refused (`clearance_exists`).
        """
        party = required_text(party, "party")
        record_id = required_text(record_id, "record_id")
        entry_fingerprint = required_text(entry_fingerprint, "entry_fingerprint")
        list_code = required_text(list_code, "list_code")
        reason = required_text(reason, "reason", MAX_REASON)
        actor = required_text(actor, "actor")
        if not isinstance(snapshot, str) or not is_text(snapshot):
            raise LedgerInputError("snapshot", "expected text")
        at = _iso(self._now(now))

        def op(tx: Tx) -> Clearance:
            if self.store.dialect == "postgresql":
                # Clearances are numbered and de-duplicated one writer at a time; nothing
                # else takes this lock, so it cannot deadlock with reservations.
                tx.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.chipgate.clearances'))")
            for existing in self._load_clearances(
                tx, "record_id = ? AND entry_fingerprint = ? AND revoked_at IS NULL", (record_id, entry_fingerprint)
            ):
                if same_party(existing.party, party):
                    if existing.reason == reason and existing.list_code == list_code:
                        return existing
                    raise ClearanceExists(existing)
            row = tx.one("SELECT COALESCE(MAX(number), 0) FROM clearances")
            number = int(row[0]) + 1 if row else 1
            found = Clearance(
                id=f"{ID_PREFIX}{number}",
                party=party,
                record_id=record_id,
                list_code=list_code,
                entry_fingerprint=entry_fingerprint,
                snapshot=snapshot,
                reason=reason,
                actor=actor,
                created_at=dt.datetime.fromisoformat(at),
            )
            tx.execute(
                "INSERT INTO clearances (id, number, party, record_id, list_code, entry_fingerprint,"
                " snapshot, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (found.id, number, party, record_id, list_code, entry_fingerprint, snapshot, reason, actor, at),
            )
            self._append(tx, [("clear", found.id, _clearance_payload(found))], at, actor)
            return found

        return self._run(op)

    def revoke_clearance(
        self,
        clearance_id: str,
        *,
        reason: str,
        actor: str,
        now: dt.datetime | None = None,
    ) -> Clearance:
        """Withdraw a clearance: the possible matches it cleared are open again. Withdrawing
        one already withdrawn returns it unchanged."""
        clearance_id = required_text(clearance_id, "id")
        reason = required_text(reason, "reason", MAX_REASON)
        actor = required_text(actor, "actor")
        at = _iso(self._now(now))

        def op(tx: Tx) -> Clearance:
            found = self._load_clearances(tx, "id = ?", (clearance_id,), lock=" FOR UPDATE")
            if not found:
                raise UnknownClearance(clearance_id)
            if not found[0].live:
                return found[0]
            tx.execute(
                "UPDATE clearances SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ?",
                (at, actor, reason, clearance_id),
            )
            self._append(tx, [("unclear", clearance_id, {"reason": reason})], at, actor)
            return replace(found[0], revoked_at=dt.datetime.fromisoformat(at), revoked_by=actor, revoke_reason=reason)

        return self._run(op)

    def clearances(self, *, live_only: bool = False) -> list[Clearance]:
        """Every clearance on file, oldest first (withdrawn ones too, unless `live_only`)."""

        def op(tx: Tx) -> list[Clearance]:
            where = "revoked_at IS NULL" if live_only else "1 = 1"
            return self._load_clearances(tx, where, ())

        return self._run(op, write=False)

    def clearance_listing(self, clearances: Sequence[Clearance]) -> list[dict[str, Any]]:
        """Each clearance's JSON form with its standing (live, lapsed, withdrawn) against the
        list snapshot in use, which is read only when there are clearances."""
        entries = self.rulebook.restricted_parties.entries if clearances else ()
        return listing(clearances, fingerprints(entries, {c.record_id for c in clearances}))

    def clearance(self, clearance_id: str) -> Clearance:
        def op(tx: Tx) -> Clearance:
            found = self._load_clearances(tx, "id = ?", (clearance_id,))
            if not found:
                raise UnknownClearance(clearance_id)
            return found[0]

        return self._run(op, write=False)

    def _live_clearances(self, tx: Tx, ids: Sequence[str], *, lock: bool = False) -> list[Clearance]:
        """Live clearances of these list entries (a decision's possible hits)."""
        out: list[Clearance] = []
        suffix = " FOR SHARE" if lock and self.store.dialect == "postgresql" else ""
        for chunk in _chunks(ids):
            out += self._load_clearances(
                tx, f"record_id IN ({_marks(len(chunk))}) AND revoked_at IS NULL", tuple(chunk), lock=suffix
            )
        return out

    def _load_clearances(self, tx: Tx, where: str, params: Sequence[Any], *, lock: str = "") -> list[Clearance]:
        if lock and self.store.dialect != "postgresql":
            lock = ""  # SQLite: BEGIN IMMEDIATE already makes the writer exclusive
        rows = tx.all(f"SELECT {_CLEARANCE_COLUMNS} FROM clearances WHERE {where} ORDER BY number{lock}", params)
        return [_clearance(row) for row in rows]

    # ---- reservations ------------------------------------------------------------------

    def reserve(
        self,
        key: str,
        shipment: Shipment,
        *,
        actor: str,
        on: dt.date | None = None,
        decision: Decision | None = None,
        using: Sequence[str] | None = None,
        now: dt.datetime | None = None,
        ttl: dt.timedelta | None = None,
    ) -> Reservation:
        """Hold the shipment's quantity on every authorisation that covers it, or on none.

        The same key with the same shipment returns the first result; the same key with a
        different shipment raises IdempotencyConflict.
        """
        request = ReserveRequest(key, shipment, decision, tuple(using) if using else None, on)
        result = self.reserve_many([request], actor=actor, now=now, ttl=ttl)[0]
        if isinstance(result, LedgerError):
            raise result
        return result

    def reserve_many(
        self,
        requests: Sequence[ReserveRequest],
        *,
        actor: str,
        now: dt.datetime | None = None,
        ttl: dt.timedelta | None = None,
    ) -> list[Reservation | LedgerError]:
        """Reserve many shipments in one transaction; each is all-or-nothing on its own.

        Returns, in order, the reservation or the error refusing it.
        """
        moment = self._now(now)
        at = _iso(moment)
        expires = moment + (ttl if ttl is not None else self.reservation_ttl)
        expires_at = _iso(expires)
        results: list[Reservation | LedgerError | None] = [None] * len(requests)
        pending: list[tuple[int, _Pending]] = []
        for i, request in enumerate(requests):
            try:
                pending.append((i, self._prepare(request)))
            except LedgerError as exc:
                results[i] = exc
        # Shipments with possible restricted-party matches read the clearances inside the
        # reservation's own transaction (the one-statement path does not read them).
        screened = [p for _, p in pending if needs_clearance(p.decision)]
        if self.store.dialect == "postgresql" and len(requests) == 1 and pending and not screened:
            fast = self._reserve_optimistic(pending[0][1], moment, expires, actor)
            if fast is not None:
                return [fast]

        def op(tx: Tx) -> list[Reservation | LedgerError | None]:
            out = list(results)
            keys = [p.request.key for _, p in pending]
            existing: dict[str, str] = {}
            terms_seq: int | None = None
            for chunk in _chunks(keys) if keys else [()]:
                # The terms version rides along with the idempotency lookup: one round trip.
                for seq, key, digest in tx.all(
                    "SELECT h.terms_seq, r.key, r.content_hash FROM journal_head h LEFT JOIN"
                    f" reservations r ON r.key IN ({_marks(len(chunk)) or 'NULL'})"
                    " WHERE h.id = 1",
                    tuple(chunk),
                ):
                    terms_seq = int(seq)
                    if key is not None:
                        existing[key] = digest
            self._refresh_terms(tx, terms_seq)
            if screened:
                # Locked for share on PostgreSQL: a withdrawal waits until this commits.
                live = self._live_clearances(
                    tx, sorted({r for p in screened for r in record_ids(p.decision)}), lock=True
                )
                for p in screened:
                    p.screening = clearance_missing(p.decision, live)
                    p.cleared_by = applied(p.decision, live)
            plans: list[tuple[int, _Pending, Plan]] = []
            repeats: dict[int, str] = {}
            for i, prepared in pending:
                key = prepared.request.key
                if key in existing:
                    if existing[key] != prepared.digest:
                        out[i] = IdempotencyConflict(key)
                    else:
                        repeats[i] = key
                    continue
                try:
                    plans.append((i, prepared, self._plan(prepared)))
                except LedgerError as exc:
                    out[i] = exc
            ids = sorted({a for _, _, plan in plans for a in plan.accounts})
            accounts = self._lock(tx, ids)
            self._check_fresh(accounts, ids)
            expired_once = False
            created_utc, expires_utc = moment.astimezone(dt.UTC), expires.astimezone(dt.UTC)
            new_in_batch: dict[str, tuple[str, int]] = {}
            reservation_rows: list[tuple[Any, ...]] = []
            leg_rows: list[tuple[Any, ...]] = []
            entries: list[tuple[str, str, dict[str, Any] | str]] = []
            clearance_rows: list[tuple[str, str]] = []
            for i, prepared, plan in plans:
                key = prepared.request.key
                quantity = prepared.request.shipment.quantity
                if key in new_in_batch:
                    digest, first = new_in_batch[key]
                    out[i] = out[first] if digest == prepared.digest else IdempotencyConflict(key)
                    continue
                legs = take(plan, accounts, quantity, prepared.value_cents)
                if not isinstance(legs, tuple):
                    if legs is None:
                        found, shortfalls = choose(plan, accounts, quantity, prepared.value_cents)
                    else:
                        found, shortfalls = (), (legs,)
                    if shortfalls and not expired_once:
                        expired_once = True
                        entries.extend(self._expire_due(tx, at, accounts))
                        found, shortfalls = choose(plan, accounts, quantity, prepared.value_cents)
                    if shortfalls:
                        s = shortfalls[0]
                        out[i] = InsufficientBalance(s.authorization_id, s.needed, s.available, s.unit)
                        continue
                    legs = tuple(sorted(found, key=lambda g: g.authorization_id))
                for leg in legs:
                    account = accounts[leg.authorization_id]
                    account.held += leg.quantity
                    account.value_held += leg.value_cents
                    account.dirty = True
                    leg_rows.append((key, leg.authorization_id, leg.quantity, leg.value_cents))
                reservation_rows.append(
                    (
                        key,
                        prepared.digest,
                        "pending",
                        prepared.request.shipment.quantity,
                        prepared.shipment_text,
                        at,
                        expires_at,
                        actor,
                    )
                )
                entries.append(("reserve", key, _reserve_payload(prepared, legs, expires_at)))
                clearance_rows.extend((key, c) for c in prepared.cleared_by)
                new_in_batch[key] = (prepared.digest, i)
                out[i] = Reservation(
                    key=key,
                    status="pending",
                    quantity=prepared.request.shipment.quantity,
                    legs=legs,
                    shipment=prepared.shipment_json,
                    created_at=created_utc,
                    expires_at=expires_utc,
                    actor=actor,
                )
            tx.insert_rows(
                "INSERT INTO reservations (key, content_hash, status, quantity, shipment,"
                " created_at, expires_at, actor)",
                reservation_rows,
            )
            tx.insert_rows("INSERT INTO reservation_legs (key, authorization_id, quantity, value_cents)", leg_rows)
            tx.insert_rows("INSERT INTO reservation_clearances (key, clearance_id)", clearance_rows)
            self._write_accounts(tx, accounts.values())
            self._append(tx, entries, at, actor)
            if repeats:
                loaded = self._load_reservations(tx, list(repeats.values()))
                for i, key in repeats.items():
                    out[i] = loaded[key]
            return out

        final = self._run(op)
        return [r if r is not None else LedgerError("not processed") for r in final]

    def _reserve_optimistic(
        self, prepared: _Pending, moment: dt.datetime, expires: dt.datetime, actor: str
    ) -> Reservation | LedgerError | None:
        """One reservation on PostgreSQL in one statement, `chipgate_reserve` (schema.py).

        The legs are chosen here from the cached terms: when every slot of the plan has a
        single route they follow from the plan alone, otherwise from balances read
        unlocked first. The function re-checks the key, the terms version and every
        account's version, revocation and room under the account locks, and stores the
        reservation, its legs, the balances and the journal entry in the same statement.
        A refusal it reads from committed balances is a true answer; anything unusual
        (a repeated key, changed terms, overdue holds that might make room, a race it
        cannot settle) returns None and the caller takes the locking path, which gives
        the precise answer.
        """
        if self._terms_seq < 0:
            return None
        try:
            plan = self._plan(prepared)
        except LedgerError:
            return None
        request = prepared.request
        quantity = request.shipment.quantity
        single_route = plan.draws is not None
        if single_route and prepared.value_cents is None and self._value_limited(plan):
            single_route = False  # `choose` must see the value limit to refuse precisely
        legs: tuple[Leg, ...] | None = None
        if single_route:
            drawn = take(plan, _unbounded(plan.accounts), quantity, prepared.value_cents)
            legs = drawn if isinstance(drawn, tuple) else None
        else:
            with self.store.transaction(write=False) as tx:
                read = self._lock_free(tx, plan.accounts)
            if len(read) != len(plan.accounts):
                return None
            found, shortfalls = choose(plan, read, quantity, prepared.value_cents)
            if shortfalls:
                return None  # the locking path checks for overdue holds, then refuses
            legs = tuple(sorted(found, key=lambda g: g.authorization_id))
        if legs is None:
            return None
        ids = [g.authorization_id for g in legs]
        if len(set(ids)) != len(ids):
            return None
        versions = []
        for account_id in ids:
            top = account_id.partition("#")[0]
            if top in self._revoked or top not in self._versions:
                return None
            versions.append(self._versions[top])
        at, expires_at = _iso(moment), _iso(expires)
        payload = _reserve_payload(prepared, legs, expires_at)
        try:
            rows = self.store.single(
                "SELECT * FROM chipgate_reserve(?, ?, ?::bigint, ?, ?, ?, ?, ?, ?::bigint,"
                " ?::text[], ?::bigint[], ?::bigint[], ?::bigint[])",
                (
                    request.key,
                    prepared.digest,
                    quantity,
                    prepared.shipment_text,
                    at,
                    expires_at,
                    actor,
                    payload,
                    self._terms_seq,
                    # Array literals travel as text: cheaper to send than lists of values.
                    _text_array(ids),
                    _int_array(g.quantity for g in legs),
                    _int_array(g.value_cents for g in legs),
                    _int_array(versions),
                ),
            )
        except self.store.conflict_errors():
            return None
        status = rows[0][0] if rows else None
        if status == "ok":
            return Reservation(
                key=request.key,
                status="pending",
                quantity=quantity,
                legs=legs,
                shipment=prepared.shipment_json,
                created_at=moment.astimezone(dt.UTC),
                expires_at=expires.astimezone(dt.UTC),
                actor=actor,
            )
        if status == "short" and single_route:
            accounts = {row[1]: _Account(row[1:]) for row in rows}
            if len(accounts) == len(plan.accounts):
                _, shortfalls = choose(plan, accounts, quantity, prepared.value_cents)
                if shortfalls:
                    s = shortfalls[0]
                    return InsufficientBalance(s.authorization_id, s.needed, s.available, s.unit)
        return None

    def _value_limited(self, plan: Plan) -> bool:
        """Whether a licence the plan may draw on has a value limit (from the cached terms)."""
        for slot in plan.slots:
            if slot.requirement == "us_export_license":
                for route in slot.routes:
                    for account_id in route:
                        terms = self._terms.get(account_id.partition("#")[0])
                        if terms is None or terms.value_usd is not None:
                            return True
        return False

    def _prepare(self, request: ReserveRequest) -> _Pending:
        if not isinstance(request.key, str) or not request.key.strip() or not is_text(request.key):
            raise LedgerInputError("key", "an idempotency key (any non-empty text) is required")
        quantity = request.shipment.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= MAX_UNITS:
            raise InvalidQuantity("quantity", f"{quantity!r}; a reservation holds 1 to {MAX_UNITS:,} units")
        on = request.on or request.shipment.date
        shipment_json = request.shipment.to_dict()
        # Without a datasheet spec a shipment holds no floats: the faster encoder gives the
        # same text (the digest a retry is compared by must not change).
        if request.shipment.item.spec is None:
            shipment_text = canonical_json_plain(shipment_json)
        else:
            shipment_text = canonical_json(shipment_json)
        digest = request_digest(shipment_text, on.isoformat(), request.using)
        decision = request.decision or self._decide(request.shipment, on)
        unit_value = request.shipment.unit_value_usd
        value = cents(quantity * unit_value) if unit_value is not None else None
        return _Pending(request, decision, shipment_json, shipment_text, digest, on, value)

    def _plan(self, prepared: _Pending) -> Plan:
        decision = prepared.decision
        if decision.outcome == "blocked":
            why = "; ".join(r.text for r in decision.reasons[-2:]) or "the rules forbid it"
            raise ShipmentBlocked(f"shipment is blocked: {why}")
        using = prepared.request.using
        shipment = prepared.request.shipment
        key = plan_key(shipment, decision, prepared.on, using)
        plan = self._plans.get(key)
        if plan is None:
            if using:
                for auth_id in using:
                    if auth_id not in self._terms:
                        raise UnknownAuthorization(auth_id, "using")
            plan = plan_coverage(shipment, decision, self._terms, prepared.on, revoked=self._revoked, using=using)
            if len(self._plans) > 4096:
                self._plans.clear()
            self._plans[key] = plan
        if plan.missing:
            raise _precise(plan.missing + prepared.screening, plan.near_misses)
        if prepared.screening:
            raise NotCovered(prepared.screening)
        return plan

    def _expire_due(self, tx: Tx, at: str, accounts: dict[str, _Account]) -> list[tuple[str, str, dict[str, Any]]]:
        """Expire pending reservations past their time that hold only on these (locked)
        accounts; returns their journal entries."""
        if not accounts:
            return []
        ids = sorted(accounts)
        skip = " FOR UPDATE OF r SKIP LOCKED" if self.store.dialect == "postgresql" else ""
        keys = (
            [
                row[0]
                for row in tx.all(
                    "SELECT DISTINCT r.key FROM reservations r JOIN reservation_legs l"
                    " ON l.key = r.key WHERE r.status = 'pending' AND r.expires_at <= ?"
                    f" AND l.authorization_id IN ({_marks(len(ids))}) ORDER BY r.key{skip}",
                    (at, *ids),
                )
            ]
            if not skip
            else [
                row[0]
                for row in tx.all(
                    "SELECT r.key FROM reservations r WHERE r.status = 'pending'"
                    " AND r.expires_at <= ? AND EXISTS (SELECT 1 FROM reservation_legs l"
                    f" WHERE l.key = r.key AND l.authorization_id IN ({_marks(len(ids))}))"
                    f" ORDER BY r.key{skip}",
                    (at, *ids),
                )
            ]
        )
        legs = self._legs(tx, keys)
        entries = []
        done = []
        for key in keys:
            mine = legs.get(key, [])
            if any(leg.authorization_id not in accounts for leg in mine):
                continue
            entries.append(("expire", key, self._release(accounts, mine, post=False)))
            done.append(key)
        self._finish(tx, done, "expired", at)
        return entries

    def _release(self, accounts: Mapping[str, _Account], legs: Sequence[Leg], *, post: bool) -> dict[str, Any]:
        deltas: dict[str, dict[str, int]] = {}
        for leg in legs:
            account = accounts[leg.authorization_id]
            account.held -= leg.quantity
            account.value_held -= leg.value_cents
            d = deltas.setdefault(leg.authorization_id, {"held": 0, "value_held": 0})
            d["held"] -= leg.quantity
            d["value_held"] -= leg.value_cents
            if post:
                account.used += leg.quantity
                account.value_used += leg.value_cents
                d["used"] = d.get("used", 0) + leg.quantity
                d["value_used"] = d.get("value_used", 0) + leg.value_cents
            account.dirty = True
        return {"deltas": deltas}

    def _finish(self, tx: Tx, keys: Sequence[str], status: str, at: str) -> None:
        tx.many(
            "UPDATE reservations SET status = ?, finished_at = ? WHERE key = ?",
            [(status, at, k) for k in keys],
        )

    def _legs(self, tx: Tx, keys: Sequence[str]) -> dict[str, list[Leg]]:
        out: dict[str, list[Leg]] = {}
        for chunk in _chunks(keys):
            for key, auth_id, quantity, value in tx.all(
                "SELECT key, authorization_id, quantity, value_cents FROM reservation_legs"
                f" WHERE key IN ({_marks(len(chunk))}) ORDER BY key, authorization_id",
                tuple(chunk),
            ):
                out.setdefault(key, []).append(Leg(auth_id, int(quantity), int(value)))
        return out

    def _load_reservations(self, tx: Tx, keys: Sequence[str]) -> dict[str, Reservation]:
        legs = self._legs(tx, keys)
        out: dict[str, Reservation] = {}
        for chunk in _chunks(keys):
            for row in tx.all(
                "SELECT key, status, quantity, shipment, created_at, expires_at, finished_at,"
                f" actor FROM reservations WHERE key IN ({_marks(len(chunk))})",
                tuple(chunk),
            ):
                key = row[0]
                created = _parse_time(row[4])
                assert created is not None
                out[key] = Reservation(
                    key=key,
                    status=row[1],
                    quantity=int(row[2]),
                    legs=tuple(legs.get(key, ())),
                    shipment=json.loads(row[3]),
                    created_at=created,
                    expires_at=_parse_time(row[5]),
                    finished_at=_parse_time(row[6]),
                    actor=row[7],
                )
        return out

    def reservation(self, key: str) -> Reservation:
        def op(tx: Tx) -> Reservation:
            found = self._load_reservations(tx, [key])
            if key not in found:
                raise UnknownReservation(key)
            return found[key]

        return self._run(op, write=False)

    def reservations(self, status: str | None = None) -> list[Reservation]:
        def op(tx: Tx) -> list[Reservation]:
            if status:
                rows = tx.all("SELECT key FROM reservations WHERE status = ? ORDER BY key", (status,))
            else:
                rows = tx.all("SELECT key FROM reservations ORDER BY key")
            keys = [r[0] for r in rows]
            loaded = self._load_reservations(tx, keys)
            return [loaded[k] for k in keys]

        return self._run(op, write=False)

    def post(self, key: str, *, actor: str, now: dt.datetime | None = None) -> Reservation:
        """Mark a pending reservation shipped: its holds become used. Posting twice is a no-op."""
        return self._settle(key, post=True, actor=actor, now=now)

    def void(self, key: str, *, actor: str, now: dt.datetime | None = None) -> Reservation:
        """Cancel a pending reservation and free its holds. Voiding twice is a no-op."""
        return self._settle(key, post=False, actor=actor, now=now)

    def _settle(self, key: str, *, post: bool, actor: str, now: dt.datetime | None) -> Reservation:
        moment = self._now(now)
        at = _iso(moment)

        def op(tx: Tx) -> tuple[Reservation | None, LedgerError | None]:
            row = tx.one(
                "SELECT status, expires_at, (SELECT MIN(c.id) FROM reservation_clearances rc"
                " JOIN clearances c ON c.id = rc.clearance_id WHERE rc.key = r.key"
                " AND c.revoked_at IS NOT NULL) FROM reservations r WHERE key = ?" + self.store.lock_rows,
                (key,),
            )
            if row is None:
                raise UnknownReservation(key)
            status, expires_at, withdrawn = row
            wanted = "posted" if post else "voided"
            if status == wanted:
                return self._load_reservations(tx, [key])[key], None
            if status == "posted":
                raise AlreadyPosted(f"reservation {key!r} was already posted; it cannot be voided")
            if status == "voided":
                raise AlreadyVoided(f"reservation {key!r} was voided; it cannot be posted")
            if status == "expired":
                if post:
                    raise ReservationExpired(f"reservation {key!r} expired; reserve again under a new key")
                return self._load_reservations(tx, [key])[key], None
            legs = self._legs(tx, [key]).get(key, [])
            accounts = self._lock(tx, [leg.authorization_id for leg in legs])
            if expires_at is not None and expires_at <= at:
                entry = self._release(accounts, legs, post=False)
                self._write_accounts(tx, accounts.values())
                self._finish(tx, [key], "expired", at)
                self._append(tx, [("expire", key, entry)], at, actor)
                if post:
                    return None, ReservationExpired(f"reservation {key!r} expired at {expires_at}; reserve again")
                return self._load_reservations(tx, [key])[key], None
            if post:
                if withdrawn is not None:
                    raise ClearanceWithdrawn(key, withdrawn)
                for account in accounts.values():
                    if account.revoked:
                        raise AuthorizationRevoked(
                            "key", f"{account.id} was revoked; this reservation can only be voided"
                        )
            entry = self._release(accounts, legs, post=post)
            self._write_accounts(tx, accounts.values())
            self._finish(tx, [key], wanted, at)
            self._append(tx, [("post" if post else "void", key, entry)], at, actor)
            return self._load_reservations(tx, [key])[key], None

        reservation, error = self._run(op)
        if error is not None:
            raise error
        assert reservation is not None
        return reservation

    def expire(self, *, actor: str, now: dt.datetime | None = None) -> list[str]:
        """Expire every pending reservation whose time has passed; returns their keys."""
        at = _iso(self._now(now))

        def op(tx: Tx) -> list[str]:
            skip = " FOR UPDATE SKIP LOCKED" if self.store.dialect == "postgresql" else ""
            keys = [
                r[0]
                for r in tx.all(
                    f"SELECT key FROM reservations WHERE status = 'pending' AND expires_at <= ? ORDER BY key{skip}",
                    (at,),
                )
            ]
            if not keys:
                return []
            legs = self._legs(tx, keys)
            accounts = self._lock(tx, {g.authorization_id for ls in legs.values() for g in ls})
            entries = [("expire", k, self._release(accounts, legs.get(k, []), post=False)) for k in keys]
            self._write_accounts(tx, accounts.values())
            self._finish(tx, keys, "expired", at)
            self._append(tx, entries, at, actor)
            return keys

        return self._run(op)

    # ---- reading -----------------------------------------------------------------------

    def balances(self) -> list[Balance]:
        def op(tx: Tx) -> list[Balance]:
            self._refresh_terms(tx)
            rows = tx.all(f"SELECT {_COLUMNS} FROM authorizations ORDER BY id")
            out = []
            for row in rows:
                account = _Account(row)
                terms = self._terms.get(account.parent or account.id)
                out.append(account.balance(terms.basis if terms else "enacted"))
            return out

        return self._run(op, write=False)

    def balance(self, authorization_id: str) -> Balance:
        for found in self.balances():
            if found.authorization_id == authorization_id:
                return found
        raise UnknownAuthorization(authorization_id)

    def journal(self, *, since: int = 0, limit: int | None = None, subject: str | None = None) -> list[JournalEntry]:
        def op(tx: Tx) -> list[JournalEntry]:
            sql = "SELECT seq, at, actor, op, subject, payload, prev_hash, hash FROM journal WHERE seq > ?"
            params: list[Any] = [since]
            if subject is not None:
                sql += " AND subject = ?"
                params.append(subject)
            sql += " ORDER BY seq"
            if limit is not None:
                sql += " LIMIT ?"
                params.append(limit)
            return [_entry(row) for row in tx.all(sql, params)]

        return self._run(op, write=False)

    def history(self, authorization_id: str) -> list[JournalEntry]:
        """Every journal entry about one authorisation: its terms, amendments, revocation."""
        return self.journal(subject=authorization_id)

    def verify(self) -> VerifyReport:
        """Recompute the hash chain and every balance and reservation status from the journal;
        report the first discrepancy, naming the entry (or the authorisation)."""

        def op(tx: Tx) -> VerifyReport:
            state: dict[str, list[Any]] = {}
            touched: dict[str, int] = {}
            statuses: dict[str, tuple[str, str, str, list[str], int]] = {}
            cleared: dict[str, _Cleared] = {}
            relied: dict[str, tuple[str, ...]] = {}
            problem: Problem | None = None

            def entries() -> Iterator[JournalEntry]:
                nonlocal problem
                since = 0
                while problem is None:
                    rows = tx.all(
                        "SELECT seq, at, actor, op, subject, payload, prev_hash, hash"
                        " FROM journal WHERE seq > ? ORDER BY seq LIMIT 5000",
                        (since,),
                    )
                    if not rows:
                        return
                    for row in rows:
                        entry = _entry(row)
                        yield entry
                        problem = problem or _replay(entry, state, touched, statuses, cleared, relied)
                        if problem is not None:
                            return
                        since = entry.seq

            count, last_hash, chain_problem = check_chain(entries())
            problem = chain_problem or problem
            head = tx.one("SELECT seq, hash FROM journal_head WHERE id = 1")
            rows = tx.all(f"SELECT {_COLUMNS} FROM authorizations ORDER BY id")
            if problem is None and head is not None and (int(head[0]) != count or bytes(head[1]) != last_hash):
                problem = Problem(int(head[0]), None, "the chain's recorded tip does not match")
            if problem is None:
                problem = _compare_balances(rows, state, touched)
            if problem is None:
                problem = _compare_reservations(tx, statuses)
            if problem is None:
                problem = _compare_clearances(tx, cleared, relied)
            return VerifyReport(problem is None, count, len(rows), problem)

        return self._run(op, write=False)


def _clearance(row: Sequence[Any]) -> Clearance:
    revoked = _parse_time(row[9])
    created = _parse_time(row[8])
    assert created is not None
    return Clearance(
        id=row[0],
        party=row[1],
        record_id=row[2],
        list_code=row[3],
        entry_fingerprint=row[4],
        snapshot=row[5],
        reason=row[6],
        actor=row[7],
        created_at=created,
        revoked_at=revoked,
        revoked_by=row[10],
        revoke_reason=row[11],
    )


def _clearance_payload(clearance: Clearance) -> dict[str, Any]:
    """A clearance's journal payload: everything stored but the actor and time, which the
    entry itself carries."""
    return {
        "party": clearance.party,
        "record_id": clearance.record_id,
        "list_code": clearance.list_code,
        "entry_fingerprint": clearance.entry_fingerprint,
        "snapshot": clearance.snapshot,
        "reason": clearance.reason,
    }


def _entry(row: Sequence[Any]) -> JournalEntry:
    return JournalEntry(
        seq=int(row[0]),
        at=row[1],
        actor=row[2],
        op=row[3],
        subject=row[4],
        payload=row[5],
        prev_hash=bytes(row[6]),
        hash=bytes(row[7]),
    )


_FIELDS = ("limit", "held", "used", "value_limit", "value_held", "value_used", "revoked")
_ABSOLUTE = frozenset({"limit", "value_limit", "revoked"})


@dataclass(slots=True)
class _Cleared:
    """A clearance as the journal gives it: its stored columns after the id, and the seq of
    the last entry about it."""

    columns: list[Any]
    seq: int


def _replay(
    entry: JournalEntry,
    state: dict[str, list[Any]],
    touched: dict[str, int],
    statuses: dict[str, tuple[str, str, str, list[str], int]],
    cleared: dict[str, _Cleared],
    relied: dict[str, tuple[str, ...]],
) -> Problem | None:
    try:
        data = entry.data
        deltas: dict[str, dict[str, Any]] = data.get("deltas", {})
        if entry.op == "reserve":
            deltas = {}
            for account_id, quantity, value in data["legs"]:
                d = deltas.setdefault(account_id, {"held": 0, "value_held": 0})
                d["held"] += int(quantity)
                d["value_held"] += int(value)
        for account_id, changes in deltas.items():
            values = state.setdefault(account_id, [None, 0, 0, None, 0, 0, False])
            for name, change in changes.items():
                i = _FIELDS.index(name)
                values[i] = change if name in _ABSOLUTE else values[i] + change
            touched[account_id] = entry.seq
        if entry.op == "reserve":
            statuses[entry.subject] = ("pending", data["content_hash"], data["on"], list(data["using"]), entry.seq)
            if "clearances" in data:
                relied[entry.subject] = tuple(sorted(data["clearances"]))
        elif entry.op in ("post", "void", "expire"):
            status = {"post": "posted", "void": "voided"}.get(entry.op, "expired")
            statuses[entry.subject] = (status, *statuses[entry.subject][1:])
        elif entry.op == "clear":
            fields = ("party", "record_id", "list_code", "entry_fingerprint", "snapshot", "reason")
            values = [data[name] for name in fields]
            cleared[entry.subject] = _Cleared([*values, entry.actor, entry.at, None, None, None], entry.seq)
        elif entry.op == "unclear":
            found = cleared[entry.subject]
            found.columns[8:] = [entry.at, entry.actor, data["reason"]]
            found.seq = entry.seq
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        return Problem(entry.seq, None, "its payload is not a valid ledger change")
    return None


def _compare_balances(
    rows: Sequence[Sequence[Any]], state: Mapping[str, list[Any]], touched: Mapping[str, int]
) -> Problem | None:
    seen = set()
    for row in rows:
        account = _Account(row)
        seen.add(account.id)
        stored = [
            account.limit,
            account.held,
            account.used,
            account.value_limit,
            account.value_held,
            account.value_used,
            account.revoked,
        ]
        replayed = state.get(account.id)
        if replayed is None:
            return Problem(None, account.id, "is stored but no journal entry created it")
        for name, got, want in zip(_FIELDS, stored, replayed, strict=True):
            if got != want:
                return Problem(
                    touched.get(account.id),
                    account.id,
                    f"stored {name} is {got} but the journal gives {want}"
                    f" (last journal entry touching it: {touched.get(account.id)})",
                )
    for account_id in state:
        if account_id not in seen:
            return Problem(touched.get(account_id), account_id, "is journalled but not stored")
    return None


def _compare_reservations(tx: Tx, journalled: Mapping[str, tuple[str, str, str, list[str], int]]) -> Problem | None:
    """Each stored reservation has the status the journal gives and the shipment it hashed."""
    seen = 0
    since = ""
    while True:
        rows = tx.all(
            "SELECT key, status, shipment FROM reservations WHERE key > ? ORDER BY key LIMIT 5000",
            (since,),
        )
        if not rows:
            break
        for key, status, shipment_text in rows:
            seen += 1
            found = journalled.get(key)
            if found is None:
                return Problem(None, None, f"reservation {key!r} is stored but never journalled")
            want, digest, on, using, seq = found
            if status != want:
                return Problem(seq, None, f"reservation {key!r} is stored as {status!r}, journalled {want!r}")
            if request_digest(shipment_text, on, using) != digest:
                return Problem(seq, None, f"reservation {key!r}: the stored shipment differs from the journalled one")
            since = key
    if seen != len(journalled):
        return Problem(None, None, "a journalled reservation is missing from storage")
    return None


def _compare_clearances(
    tx: Tx, journalled: Mapping[str, _Cleared], relied: Mapping[str, tuple[str, ...]]
) -> Problem | None:
    """Each stored clearance says what the journal recorded, withdrawal included, and each
    reservation relies on the clearances its journal entry names."""
    rows = tx.all(f"SELECT {_CLEARANCE_COLUMNS} FROM clearances ORDER BY number")
    for row in rows:
        found = journalled.get(row[0])
        if found is None:
            return Problem(None, None, f"clearance {row[0]} is stored but never journalled")
        names = _CLEARANCE_COLUMNS.replace(" ", "").split(",")[1:]
        for name, got, want in zip(names, row[1:], found.columns, strict=True):
            if got != want:
                return Problem(found.seq, None, f"clearance {row[0]}: stored {name} differs from the journal")
    if len(rows) != len(journalled):
        return Problem(None, None, "a journalled clearance is missing from storage")
    stored: dict[str, list[str]] = {}
    for key, clearance_id in tx.all("SELECT key, clearance_id FROM reservation_clearances ORDER BY key, clearance_id"):
        stored.setdefault(key, []).append(clearance_id)
    for key in sorted(stored.keys() | relied.keys()):
        if tuple(stored.get(key, ())) != relied.get(key, ()):
            return Problem(None, None, f"reservation {key!r}: the clearances it relied on differ from the journal")
    return None


def _precise(missing: tuple[str, ...], near: tuple[NearMiss, ...]) -> LedgerError:
    """One precise refusal when every near miss has the same cause; otherwise NotCovered."""
    # A licence for another party is not a near miss worth naming: most ledgers hold many.
    near = tuple(n for n in near if n.code != "party_not_covered")
    codes = {n.code for n in near}
    if len(codes) == 1:
        first = near[0]
        error = first.error()
        error.args = (f"{error.args[0]} ({'; '.join(missing)})",)
        return error
    return NotCovered(missing)
