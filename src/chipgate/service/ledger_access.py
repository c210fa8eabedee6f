"""Everything the service asks of the ledger, in one place.

The ledger keeps one database connection per `Ledger` object and a connection must stay
on the thread that opened it (SQLite refuses otherwise), so each worker thread gets its
own `Ledger` on the same target. Reads that reshape ledger data for the dashboard
(allocation by company, a cap over time, journal filters) live here too: they group
and sum what the ledger returns and never decide anything themselves.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from chipgate.ledger import JournalEntry, Ledger, Reservation
from chipgate.ledger.coverage import same_party
from chipgate.ledger.store import default_location, is_postgres
from chipgate.rulebook import Rulebook, default_rulebook

T = TypeVar("T")

SEED_ACTOR = "chipgate-demo"


def describe_target(target: str | None) -> str:
    """The ledger's location for people: the SQLite path, or the PostgreSQL URL without credentials."""
    if target is None:
        return str(default_location())
    if is_postgres(target):
        from urllib.parse import urlsplit

        parts = urlsplit(target)
        return f"{parts.scheme}://{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}{parts.path}"
    return target


class LedgerAccess:
    """One `Ledger` per thread on one target; `run(fn)` calls `fn(ledger)` on this thread's.

    Every one of them decides with `rulebook` (default: the shipped one).
    """

    def __init__(self, target: str | None = None, rulebook: Rulebook | None = None) -> None:
        self.target = target
        self.rulebook = rulebook or default_rulebook()
        self._local = threading.local()
        self._all: list[Ledger] = []
        self._lock = threading.Lock()

    def ledger(self) -> Ledger:
        found: Ledger | None = getattr(self._local, "ledger", None)
        if found is None:
            found = Ledger(self.target, rulebook=self.rulebook)
            self._local.ledger = found
            with self._lock:
                self._all.append(found)
        return found

    def run(self, fn: Callable[[Ledger], T]) -> T:
        return fn(self.ledger())

    def close(self) -> None:
        with self._lock:
            for ledger in self._all:
                # A connection owned by a thread that has ended may already be gone.
                with contextlib.suppress(Exception):
                    ledger.close()
            self._all.clear()


# ---- first start -------------------------------------------------------------------------


def is_empty(ledger: Ledger) -> bool:
    return not ledger.authorizations() and not ledger.journal(limit=1)


def seed_if_empty(ledger: Ledger) -> bool:
    """Seed the 2026 H200 scenario into an empty ledger and run its small order book, with
    the ledger's own scenario seeding (chipgate.ledger.scenario). Returns whether it seeded."""
    if not is_empty(ledger):
        return False
    from chipgate.ledger.scenario import load_scenario, run_orders, seed

    scenario = load_scenario()
    seed(ledger, scenario, actor=SEED_ACTOR)
    run_orders(ledger, scenario, actor=SEED_ACTOR)
    return True


# ---- reads shaped for the dashboard ------------------------------------------------------


def touches(entry: JournalEntry, authorization_id: str) -> bool:
    """Whether a journal entry is about an authorisation or changed one of its accounts."""
    if entry.subject == authorization_id:
        return True
    deltas = entry.data.get("deltas") or {}
    return any(k == authorization_id or k.startswith(authorization_id + "#") for k in deltas)


def journal(
    ledger: Ledger,
    *,
    since: int = 0,
    limit: int = 100,
    subject: str | None = None,
    op: str | None = None,
    actor: str | None = None,
    authorization: str | None = None,
    newest_first: bool = False,
) -> list[JournalEntry]:
    """Journal entries after `since` that match every filter given, oldest first unless asked."""

    def pages() -> Iterator[JournalEntry]:
        cursor = since
        while True:
            page = ledger.journal(since=cursor, limit=1000, subject=subject)
            if not page:
                return
            yield from page
            cursor = page[-1].seq

    def wanted(entry: JournalEntry) -> bool:
        return (
            (op is None or entry.op == op)
            and (actor is None or entry.actor == actor)
            and (authorization is None or touches(entry, authorization))
        )

    if newest_first:
        last: deque[JournalEntry] = deque(maxlen=limit)
        last.extend(e for e in pages() if wanted(e))
        return list(reversed(last))
    out: list[JournalEntry] = []
    for entry in pages():
        if wanted(entry):
            out.append(entry)
            if len(out) >= limit:
                break
    return out


def _holds(reservation: Reservation, authorization_id: str) -> int:
    """Units a reservation draws on an authorisation (a pooled approval and its holder's
    sub-account carry the same units, so they count once)."""
    drawn = [
        leg.quantity
        for leg in reservation.legs
        if leg.authorization_id == authorization_id or leg.authorization_id.startswith(authorization_id + "#")
    ]
    return max(drawn, default=0)


def allocation(ledger: Ledger, authorization_id: str) -> dict[str, Any]:
    """How much of an authorisation each company holds (pending) and has used (posted).

    Companies are the approval's holders when it names them (matched to each reservation's
    end user as the ledger matches them), otherwise the shipments' end users.
    """
    terms = ledger.authorizations().get(authorization_id)
    balance = ledger.balance(authorization_id)
    holders = list(terms.holders) if terms is not None else []
    rows: dict[str, dict[str, int]] = {h: {"held": 0, "used": 0} for h in holders}
    for reservation in ledger.reservations():
        if reservation.status not in ("pending", "posted"):
            continue
        quantity = _holds(reservation, authorization_id)
        if not quantity:
            continue
        end_user = reservation.shipment.get("end_user") or reservation.shipment.get("consignee") or {}
        name = str(end_user.get("name", "unknown"))
        company = next((h for h in holders if same_party(h, name)), name)
        row = rows.setdefault(company, {"held": 0, "used": 0})
        row["held" if reservation.status == "pending" else "used"] += quantity
    return {
        "authorization": authorization_id,
        "kind": balance.kind,
        "limit": balance.limit,
        "held": balance.held,
        "used": balance.used,
        "available": balance.available,
        "basis": balance.basis,
        "companies": [{"company": name, **values} for name, values in rows.items()],
    }


def _entry_date(entry: JournalEntry, shipment_dates: dict[str, str]) -> str:
    """The business date of a change: the shipment's date, the US shipment's, or the date an
    authorisation took effect; the recording time only when none is given."""
    data = entry.data
    if entry.op == "us_shipment" and data.get("shipped_on"):
        return str(data["shipped_on"])
    if entry.op == "authorize" and (data.get("terms") or {}).get("valid_from"):
        return str(data["terms"]["valid_from"])
    shipment = data.get("shipment")
    if isinstance(shipment, dict) and shipment.get("date"):
        shipment_dates[entry.subject] = str(shipment["date"])
        return str(shipment["date"])
    if entry.subject in shipment_dates:
        return shipment_dates[entry.subject]
    return entry.at[:10]


def series(ledger: Ledger, authorization_id: str) -> dict[str, Any]:
    """An account's limit, held and used after each change that touched it, with its date.

    Values accumulate in journal order (the order the ledger applied them); points are then
    listed by date. For the derived volume cap this is China shipments (held + used) against
    the limit that follows recorded US shipments; `us_shipped` sums those US shipments.
    """
    ledger.balance(authorization_id)  # unknown ids raise UnknownAuthorization
    shipment_dates: dict[str, str] = {}
    limit: int | None = None
    held = used = us_shipped = 0
    points = []
    for entry in journal(ledger, limit=10**9, authorization=authorization_id):
        change = (entry.data.get("deltas") or {}).get(authorization_id, {})
        if "limit" in change:
            limit = change["limit"]
        held += int(change.get("held", 0))
        used += int(change.get("used", 0))
        if entry.op == "us_shipment":
            us_shipped += int(entry.data.get("quantity", 0))
        points.append(
            {
                "date": _entry_date(entry, shipment_dates),
                "seq": entry.seq,
                "op": entry.op,
                "subject": entry.subject,
                "limit": limit,
                "held": held,
                "used": used,
                "us_shipped": us_shipped,
            }
        )
    points.sort(key=lambda p: (p["date"], p["seq"]))
    return {"authorization": authorization_id, "points": points}


def today() -> dt.date:
    """The service's default date: a shell may read the clock, the core never does."""
    return dt.date.today()
