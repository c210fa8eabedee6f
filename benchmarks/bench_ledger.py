"""Reservations per second on the ledger, with oversubscriptions counted (must be 0).

Runs, each against a fresh ledger and with its own generated order book:
  - one process on SQLite: single `reserve` calls, and `reserve_many` batches;
  - 8 concurrent processes on SQLite and on PostgreSQL (single calls);
and, for scale, a baseline on the same backend in the same run: a bare loop of one
INSERT per transaction (same SQLite pragmas; same PostgreSQL server).

    .venv/bin/python benchmarks/bench_ledger.py [--quick] [--pg URL] [--json]

Demand is generated to exceed the shared China approval pool, so the limit is hit under
contention; afterwards every account's held + used is compared with its limit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from chipgate.decide import decide
from chipgate.ledger import Ledger, LedgerError, ReserveRequest
from chipgate.model import Decision, Item, Party, Shipment

PG_DEFAULT = os.environ.get("CHIPGATE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
CHIP = "nvidia-h200-sxm"
BUYERS = tuple(f"Buyer {i:02d} Cloud" for i in range(8))
CTX = mp.get_context("fork")


# ---- input generator -----------------------------------------------------------------


def make_shipment(buyer: str, quantity: int, day: int) -> Shipment:
    party = Party(name=buyer, country="CN")
    return Shipment(
        date=dt.date(2026, 3, 1) + dt.timedelta(days=day % 28),
        kind="export",
        from_country="US",
        to_country="CN",
        item=Item(chip=CHIP),
        quantity=quantity,
        consignee=party,
        end_user=party,
        unit_value_usd=Decimal("27000"),
        exporter="NVIDIA",
    )


def order_book(n: int, seed: int) -> list[tuple[str, Shipment]]:
    rng = random.Random(seed)
    return [(f"{seed}-{i}", make_shipment(rng.choice(BUYERS), rng.randint(1, 20), rng.randrange(28))) for i in range(n)]


def seed_ledger(target: str, pool: int) -> None:
    """A licence per buyer, one pooled China approval of `pool` units, the derived cap."""
    with Ledger(target) as ledger:
        for i, buyer in enumerate(BUYERS):
            ledger.authorize(
                {
                    "id": f"LIC-{i:02d}",
                    "kind": "us_export_license",
                    "licensee": "NVIDIA",
                    "consignees": [buyer],
                    "products": [CHIP],
                    "quantity": 10**9,
                    "valid_from": "2026-02-01",
                    "valid_until": "2027-01-31",
                },
                actor="bench",
            )
        ledger.authorize(
            {
                "id": "CN-POOL",
                "kind": "cn_import_approval",
                "holders": list(BUYERS),
                "products": [CHIP],
                "quantity": pool,
                "status": "final",
            },
            actor="bench",
        )
        ledger.authorize(
            {
                "id": "CAP",
                "kind": "derived_volume_cap",
                "exporter": "NVIDIA",
                "products": [CHIP],
                "valid_from": "2026-01-15",
            },
            actor="bench",
        )
        ledger.record_us_shipment(
            "us",
            exporter="NVIDIA",
            product=CHIP,
            quantity=10**9,
            shipped_on=dt.date(2026, 2, 1),
            actor="bench",
        )


_DECISIONS: dict[tuple[str, dt.date], Decision] = {}


def decision_for(shipment: Shipment) -> Decision:
    """Decisions are computed by `chipgate.decide` once per buyer and date, as a batch
    caller would after deciding its order book; the ledger is what is measured."""
    key = (shipment.consignee.name, shipment.date)
    found = _DECISIONS.get(key)
    if found is None:
        found = _DECISIONS[key] = decide(shipment)
    return found


# ---- measurements --------------------------------------------------------------------


@dataclass
class Run:
    name: str
    reservations: int
    refused: int
    seconds: float
    oversubscriptions: int
    baseline_per_s: float | None = None

    @property
    def per_s(self) -> float:
        return self.reservations / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "reservations": self.reservations,
            "refused": self.refused,
            "seconds": round(self.seconds, 3),
            "per_s": round(self.per_s),
            "attempts_per_s": round((self.reservations + self.refused) / self.seconds),
            "oversubscriptions": self.oversubscriptions,
            "baseline_per_s": round(self.baseline_per_s) if self.baseline_per_s else None,
            "ratio_to_baseline": (round(self.per_s / self.baseline_per_s, 2) if self.baseline_per_s else None),
        }


def oversubscriptions(target: str, accepted_units: int) -> int:
    """Accounts over their limit, plus 1 if units accepted differ from units held on the pool."""
    with Ledger(target) as ledger:
        over = sum(1 for b in ledger.balances() if b.limit is not None and b.held + b.used > b.limit)
        pool = ledger.balance("CN-POOL")
        if pool.held + pool.used != accepted_units:
            over += 1
        return over


def _reserve_loop(target: str, book: list[tuple[str, Shipment]], batch: int) -> tuple[int, int, int]:
    done = refused = units = 0
    with Ledger(target) as ledger:
        if batch <= 1:
            for key, shipment in book:
                try:
                    ledger.reserve(key, shipment, actor="bench", decision=decision_for(shipment))
                    done += 1
                    units += shipment.quantity
                except LedgerError:
                    refused += 1
        else:
            for start in range(0, len(book), batch):
                chunk = book[start : start + batch]
                requests = [ReserveRequest(k, s, decision_for(s)) for k, s in chunk]
                for (_, shipment), result in zip(chunk, ledger.reserve_many(requests, actor="bench"), strict=True):
                    if isinstance(result, LedgerError):
                        refused += 1
                    else:
                        done += 1
                        units += shipment.quantity
    return done, refused, units


def _worker(target: str, seed: int, n: int, batch: int, start: Any, out: Any) -> None:
    book = order_book(n, seed)
    for _, shipment in book:
        decision_for(shipment)
    with Ledger(target):
        pass  # connect and migrate-check before the clock starts
    start.wait()
    t0 = time.perf_counter()
    done, refused, units = _reserve_loop(target, book, batch)
    out.put((done, refused, units, t0, time.perf_counter()))


def run_processes(name: str, target: str, processes: int, n: int, pool: int, batch: int = 1) -> Run:
    seed_ledger(target, pool)
    start, out = CTX.Event(), CTX.Queue()
    workers = [
        CTX.Process(target=_worker, args=(target, 1000 + p, n // processes, batch, start, out))
        for p in range(processes)
    ]
    for w in workers:
        w.start()
    time.sleep(1.0)
    start.set()
    results = [out.get(timeout=600) for _ in workers]
    for w in workers:
        w.join()
    done = sum(r[0] for r in results)
    refused = sum(r[1] for r in results)
    units = sum(r[2] for r in results)
    seconds = max(r[4] for r in results) - min(r[3] for r in results)
    return Run(name, done, refused, seconds, oversubscriptions(target, units))


def run_single(name: str, target: str, n: int, pool: int, batch: int) -> Run:
    seed_ledger(target, pool)
    book = order_book(n, 7)
    for _, shipment in book:
        decision_for(shipment)
    t0 = time.perf_counter()
    done, refused, units = _reserve_loop(target, book, batch)
    seconds = time.perf_counter() - t0
    return Run(name, done, refused, seconds, oversubscriptions(target, units))


# ---- baselines: one INSERT per transaction on the same backend -------------------------


def sqlite_baseline(path: str, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER)")
    t0 = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?)", (f"{os.getpid()}-{i}", i))
        conn.execute("COMMIT")
    seconds = time.perf_counter() - t0
    conn.close()
    return n / seconds


def _pg_baseline_worker(url: str, table: str, n: int, start: Any, out: Any) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        start.wait()
        t0 = time.perf_counter()
        for i in range(n):
            conn.execute(f"INSERT INTO {table} VALUES (%s, %s)", (f"{os.getpid()}-{i}", i))
        out.put((t0, time.perf_counter()))


def _sqlite_baseline_worker(path: str, n: int, start: Any, out: Any) -> None:
    start.wait()
    t0 = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None, timeout=60)
    conn.execute("PRAGMA busy_timeout=60000")
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?)", (f"{os.getpid()}-{i}", i))
        conn.execute("COMMIT")
    out.put((t0, time.perf_counter()))


def parallel_baseline(kind: str, where: str, processes: int, n: int) -> float:
    start, out = CTX.Event(), CTX.Queue()
    if kind == "postgresql":
        table = f"bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(where, autocommit=True) as conn:
            conn.execute(f"CREATE TABLE {table} (k TEXT PRIMARY KEY, v BIGINT)")
        args = [(where, table, n // processes, start, out) for _ in range(processes)]
        target = _pg_baseline_worker
    else:
        sqlite_baseline(where, 1)  # creates the table with the pragmas
        args = [(where, n // processes, start, out) for _ in range(processes)]
        target = _sqlite_baseline_worker  # type: ignore[assignment]
    workers = [CTX.Process(target=target, args=a) for a in args]
    for w in workers:
        w.start()
    time.sleep(0.5)
    start.set()
    spans = [out.get(timeout=600) for _ in workers]
    for w in workers:
        w.join()
    if kind == "postgresql":
        with psycopg.connect(where, autocommit=True) as conn:
            conn.execute(f"DROP TABLE {table}")
    return (n // processes * processes) / (max(s[1] for s in spans) - min(s[0] for s in spans))


# ---- main ------------------------------------------------------------------------------


def pg_schema_url(base: str) -> str:
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}schema=bench_{uuid.uuid4().hex[:12]}"


def drop_schema(url: str) -> None:
    base, schema = url.rsplit("schema=", 1)
    with psycopg.connect(base.rstrip("?&").split("?")[0], autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    parser.add_argument("--pg", default=PG_DEFAULT, help="PostgreSQL URL (CHIPGATE_TEST_PG)")
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL runs")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    scale = 0.1 if args.quick else 1.0
    n_single, n_batch, n_parallel = int(4000 * scale), int(100_000 * scale), int(16_000 * scale)
    # Demand averages 10.5 units a reservation; the pool takes about 60% of it.
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="chipgate-bench-") as scratch:
        base = Path(scratch)
        sqlite_base = sqlite_baseline(str(base / "baseline.sqlite"), max(1000, n_single))
        run = run_single(
            "sqlite, 1 process, single calls", str(base / "a.sqlite"), n_single, int(n_single * 6.3), batch=1
        )
        run.baseline_per_s = sqlite_base
        runs.append(run)
        run = run_single(
            "sqlite, 1 process, batches of 1000", str(base / "b.sqlite"), n_batch, int(n_batch * 6.3), batch=1000
        )
        run.baseline_per_s = sqlite_base
        runs.append(run)
        par_base = parallel_baseline("sqlite", str(base / "baseline8.sqlite"), 8, n_parallel)
        run = run_processes(
            "sqlite, 8 processes, single calls", str(base / "c.sqlite"), 8, n_parallel, int(n_parallel * 6.3)
        )
        run.baseline_per_s = par_base
        runs.append(run)
        if not args.no_pg:
            pg_base = parallel_baseline("postgresql", args.pg, 8, n_parallel)
            url = pg_schema_url(args.pg)
            try:
                run = run_processes("postgresql, 8 processes, single calls", url, 8, n_parallel, int(n_parallel * 6.3))
            finally:
                drop_schema(url)
            run.baseline_per_s = pg_base
            runs.append(run)
            # Opt-in trade-off: COMMIT returns before the WAL is flushed. A server crash can
            # lose the last acknowledged reservations, never leave half of one.
            joiner = "&" if "?" in args.pg else "?"
            url = pg_schema_url(f"{args.pg}{joiner}options=-c%20synchronous_commit%3Doff")
            try:
                run = run_processes(
                    "postgresql, 8 procs, single, async commit",
                    url,
                    8,
                    n_parallel,
                    int(n_parallel * 6.3),
                )
            finally:
                drop_schema(url)
            run.baseline_per_s = pg_base
            runs.append(run)
            url = pg_schema_url(args.pg)
            try:
                run = run_processes(
                    "postgresql, 8 processes, batches of 100",
                    url,
                    8,
                    n_parallel * 4,
                    int(n_parallel * 4 * 6.3),
                    batch=100,
                )
            finally:
                drop_schema(url)
            run.baseline_per_s = pg_base
            runs.append(run)
    if args.json:
        json.dump([r.to_dict() for r in runs], sys.stdout, indent=2)
        print()
    else:
        print(
            f"{'run':<42}{'reserved':>9}{'refused':>9}{'per s':>9}{'tried/s':>9}"
            f"{'baseline/s':>12}{'ratio':>7}{'over':>6}"
        )
        for r in runs:
            d = r.to_dict()
            print(
                f"{r.name:<42}{r.reservations:>9}{r.refused:>9}{d['per_s']:>9}{d['attempts_per_s']:>9}"
                f"{d['baseline_per_s'] or '-':>12}{d['ratio_to_baseline'] or '-':>7}"
                f"{r.oversubscriptions:>6}"
            )
        print(
            "per s: reservations accepted; tried/s: accepted + refused;"
            " baseline: one INSERT per transaction on the same backend and process count;"
            " over: accounts found over their limit (must be 0)"
        )
    return 1 if any(r.oversubscriptions for r in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
