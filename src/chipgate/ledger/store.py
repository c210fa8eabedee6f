"""Where the ledger lives: an SQLite file or a PostgreSQL database, behind one small interface.

`open_store(target)` picks the backend: a `postgresql://` URL (optionally with
`?schema=NAME`) selects PostgreSQL; anything else is an SQLite path. With no target
the file is `$CHIPGATE_HOME/ledger.sqlite`, else `ledger.sqlite` in the user's data
directory. Both backends run the same statements (written with `?` placeholders) and
the same migrations.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import platformdirs

from chipgate.ledger.errors import LedgerInputError, SchemaTooNew
from chipgate.ledger.journal import GENESIS
from chipgate.ledger.schema import LATEST_VERSION, MIGRATIONS

Row = tuple[Any, ...]
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def default_location() -> Path:
    home = os.environ.get("CHIPGATE_HOME")
    base = Path(home) if home else Path(platformdirs.user_data_dir("chipgate"))
    return base / "ledger.sqlite"


def is_postgres(target: str | os.PathLike[str] | None) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class Tx(ABC):
    """One open database transaction."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    @abstractmethod
    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    @abstractmethod
    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    @abstractmethod
    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def insert_rows(self, head: str, rows: Sequence[Sequence[Any]]) -> None:
        """`head` is 'INSERT INTO t (a, b, ...)'; rows are appended as VALUES."""
        if rows:
            self.many(f"{head} VALUES ({','.join('?' * len(rows[0]))})", rows)


class Store(ABC):
    """A connection to one ledger database."""

    dialect: str
    # Appended to a SELECT that must lock its rows until commit (empty on SQLite,
    # where BEGIN IMMEDIATE already makes the writer exclusive).
    lock_rows: str
    location: str

    @abstractmethod
    def transaction(self, write: bool = True) -> Any: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def retryable(self, exc: BaseException) -> bool: ...

    def conflict_errors(self) -> tuple[type[BaseException], ...]:
        """Errors an optimistic write may meet and then be redone with locks."""
        return ()

    def single(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one statement as a transaction of its own and return its rows."""
        tx: Tx
        with self.transaction() as tx:
            return tx.all(sql, params)

    def ddl(self, statement: str) -> str:
        blob = "BLOB" if self.dialect == "sqlite" else "BYTEA"
        bigint = "INTEGER" if self.dialect == "sqlite" else "BIGINT"
        return statement.format(blob=blob, bigint=bigint)

    def migrate(self, upto: int | None = None) -> int:
        """Apply every migration not yet applied (up to `upto` when given); return the
        schema version now in force."""
        with self.transaction() as tx:
            self._lock_for_migration(tx)
            if not self._has_table(tx, "schema_version"):
                tx.execute(
                    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
                    " description TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
            row = tx.one("SELECT MAX(version) FROM schema_version")
            current = int(row[0]) if row and row[0] is not None else 0
            if current > LATEST_VERSION:
                raise SchemaTooNew(
                    f"{self.location}: schema version {current} is newer than this chipgate"
                    f" understands ({LATEST_VERSION}); upgrade chipgate"
                )
            for migration in MIGRATIONS:
                if migration.version <= current or (upto is not None and migration.version > upto):
                    continue
                if self.dialect in migration.dialects:
                    for statement in migration.statements:
                        tx.execute(self.ddl(statement))
                if migration.version == 1:
                    tx.execute(
                        "INSERT INTO journal_head (id, seq, hash, terms_seq) VALUES (1, 0, ?, 0)",
                        (GENESIS,),
                    )
                tx.execute(
                    "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                    (
                        migration.version,
                        migration.description,
                        dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    ),
                )
                current = migration.version
            return current

    def schema_version(self) -> int:
        with self.transaction(write=False) as tx:
            row = tx.one("SELECT MAX(version) FROM schema_version")
            return int(row[0]) if row and row[0] is not None else 0

    @abstractmethod
    def _has_table(self, tx: Tx, name: str) -> bool: ...

    @abstractmethod
    def _lock_for_migration(self, tx: Tx) -> None: ...


# ---- SQLite ---------------------------------------------------------------------------


class _SqliteTx(Tx):
    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(sql, params)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def insert_rows(self, head: str, rows: Sequence[Sequence[Any]]) -> None:
        # Several rows per INSERT: fewer statement steps than executemany, about a quarter
        # less time per row. Chunks stay under 999 parameters, the oldest SQLite's limit.
        if not rows:
            return
        width = len(rows[0])
        per = max(1, 999 // width)
        marks = "(" + ",".join("?" * width) + ")"
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            params = [value for row in chunk for value in row]
            self._conn.execute(f"{head} VALUES {','.join([marks] * len(chunk))}", params)


class SqliteStore(Store):
    dialect = "sqlite"
    lock_rows = ""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.location = str(path)
        # Autocommit mode: transactions are opened explicitly below.
        self._conn = sqlite3.connect(str(path), isolation_level=None, timeout=120.0)
        # WAL lets readers work while one writer commits; synchronous=NORMAL in WAL mode
        # keeps the database consistent after a crash (a power loss may drop the last
        # commits, never half of one).
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=120000")
        self._tx = _SqliteTx(self._conn)

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Tx]:
        # IMMEDIATE takes the write lock at BEGIN, so the balance read and the update
        # that follows it can never interleave with another writer's.
        self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield self._tx
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()

    def retryable(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)

    def _has_table(self, tx: Tx, name: str) -> bool:
        return tx.one("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)) is not None

    def _lock_for_migration(self, tx: Tx) -> None:
        return None  # BEGIN IMMEDIATE already excludes other writers


# ---- PostgreSQL -----------------------------------------------------------------------


def _pg_sql(sql: str) -> str:
    return sql.replace("?", "%s")


class _PgTx(Tx):
    # Writes are queued on one cursor; each read runs on a cursor of its own, so the rows it
    # fetches are its own statement's even with writes queued in the pipeline before it.
    __slots__ = ("_conn", "_cur")

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._cur = conn.cursor()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cur.execute(_pg_sql(sql), params, prepare=True)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        with self._conn.cursor() as cur:
            cur.execute(_pg_sql(sql), params, prepare=True)
            row: Row | None = cur.fetchone()
            return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._conn.cursor() as cur:
            cur.execute(_pg_sql(sql), params, prepare=True)
            rows: list[Row] = cur.fetchall()
            return rows

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        # Inside the transaction's pipeline each execute is queued without a round trip;
        # executemany would open (and sync) a pipeline of its own.
        query = _pg_sql(sql)
        for row in rows:
            self._cur.execute(query, row, prepare=True)

    def insert_rows(self, head: str, rows: Sequence[Sequence[Any]]) -> None:
        # One multi-row INSERT per chunk: one statement for the server to parse and run.
        for start in range(0, len(rows), 200):
            chunk = rows[start : start + 200]
            marks = "(" + ",".join(["%s"] * len(chunk[0])) + ")"
            params = [value for row in chunk for value in row]
            self._cur.execute(f"{head} VALUES {','.join([marks] * len(chunk))}", params, prepare=len(chunk) < 4)


class PostgresStore(Store):
    dialect = "postgresql"
    lock_rows = " FOR UPDATE"

    def __init__(self, url: str) -> None:
        import psycopg

        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        schema = query.pop("schema", None)
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise LedgerInputError("--ledger", f"schema {schema!r}: use lower-case letters, digits and _")
        # quote, not quote_plus: libpq reads "+" literally, not as a space.
        conninfo = urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))
        self.location = urlunsplit(parts._replace(netloc=parts.hostname or "", query=""))
        self.schema = schema
        self._psycopg = psycopg
        self._conn = psycopg.connect(conninfo, autocommit=True)
        if schema:
            self._conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            self._conn.execute(f'SET search_path TO "{schema}"')
        self._tx = _PgTx(self._conn)
        self._single = self._conn.cursor()

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Tx]:
        # Pipeline mode: statements whose results are not read (inserts, updates, the
        # journal append, COMMIT) travel together, so row locks are held for fewer round
        # trips. Reading a result syncs the pipeline.
        with self._conn.pipeline(), self._conn.transaction():
            yield self._tx

    def single(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        # The connection is in autocommit mode: the statement is its own transaction, so
        # it and its commit take one round trip (no BEGIN, no separate COMMIT).
        self._single.execute(_pg_sql(sql), params, prepare=True)
        rows: list[Row] = self._single.fetchall()
        return rows

    def close(self) -> None:
        self._conn.close()

    def retryable(self, exc: BaseException) -> bool:
        errors = self._psycopg.errors
        return isinstance(exc, errors.DeadlockDetected | errors.SerializationFailure | errors.UniqueViolation)

    def conflict_errors(self) -> tuple[type[BaseException], ...]:
        errors = self._psycopg.errors
        return (
            errors.CheckViolation,
            errors.UniqueViolation,
            errors.DeadlockDetected,
            errors.SerializationFailure,
        )

    def _has_table(self, tx: Tx, name: str) -> bool:
        row = tx.one("SELECT to_regclass(?) IS NOT NULL", (name,))
        return bool(row and row[0])

    def _lock_for_migration(self, tx: Tx) -> None:
        # Processes opening a fresh database at once take turns migrating it.
        tx.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.chipgate'))")

    def drop_schema(self) -> None:
        """Remove this store's schema and everything in it (tests clean up with it)."""
        if self.schema:
            self._conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


def open_store(target: str | os.PathLike[str] | None = None) -> Store:
    if is_postgres(target):
        assert isinstance(target, str)
        return PostgresStore(target)
    if target is None or target == "":
        path = default_location()
    else:
        path = Path(target).expanduser()
        if path.is_dir():
            path = path / "ledger.sqlite"
    return SqliteStore(path)
