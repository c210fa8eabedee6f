"""API keys and roles: who is calling, and may they do this.

Roles are ordered: `analyst` (read, classify, decide) < `officer` (also reserve, post,
void) < `admin` (also authorisations and keys). A key is a random token shown once;
only its SHA-256 is stored, in the table `service_api_keys` of the ledger's own
database (SQLite file or PostgreSQL schema), so one backup holds both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock
from typing import Any, Literal

from chipgate.errors import InputError
from chipgate.ledger.store import Store

Role = Literal["analyst", "officer", "admin"]
ROLES: tuple[Role, ...] = ("analyst", "officer", "admin")
TOKEN_PREFIX = "cg_"
TABLE = "service_api_keys"

# CREATE ... IF NOT EXISTS is spelled the same on SQLite and PostgreSQL; the table is the
# service's own, outside the ledger's versioned migrations, and nothing in the ledger reads it.
_DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " name TEXT PRIMARY KEY,"
    " role TEXT NOT NULL,"
    " token_hash TEXT NOT NULL UNIQUE,"
    " token_prefix TEXT NOT NULL,"
    " created_at TEXT NOT NULL,"
    " revoked_at TEXT)"
)


def rank(role: str) -> int:
    return ROLES.index(role)  # type: ignore[arg-type]


def hash_token(token: str) -> str:
    # The token carries 256 random bits, so a plain digest cannot be brute-forced;
    # a slow password hash would only make every request slower.
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind a valid key: its name (recorded as the journal's actor) and role."""

    name: str
    role: Role

    def can(self, role: Role) -> bool:
        return rank(self.role) >= rank(role)


@dataclass(frozen=True, slots=True)
class KeyInfo:
    name: str
    role: Role
    prefix: str
    created_at: str
    revoked_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "prefix": self.prefix,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
            "active": self.revoked_at is None,
        }


def _validate(name: str, role: str) -> None:
    if role not in ROLES:
        raise InputError("role", f"{role!r} is not a role; allowed: {', '.join(ROLES)}")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise InputError("name", "a key needs a name of 1 to 100 characters (it is recorded as the actor)")


class KeyStore:
    """The key table, read and written through a ledger `Store` (one transaction per call)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def ensure_table(self) -> None:
        with self.store.transaction() as tx:
            tx.execute(_DDL)

    def create(self, name: str, role: str, *, now: dt.datetime | None = None) -> str:
        """Store a new key and return its token: the only time the token exists in clear."""
        _validate(name, role)
        name = name.strip()
        token = new_token()
        at = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        with self.store.transaction() as tx:
            if tx.one(f"SELECT 1 FROM {TABLE} WHERE name = ?", (name,)) is not None:
                raise InputError("name", f"a key named {name!r} exists; pick another name or revoke it first")
            tx.execute(
                f"INSERT INTO {TABLE} (name, role, token_hash, token_prefix, created_at) VALUES (?, ?, ?, ?, ?)",
                (name, role, hash_token(token), token[: len(TOKEN_PREFIX) + 6], at),
            )
        return token

    def list(self) -> list[KeyInfo]:
        with self.store.transaction(write=False) as tx:
            rows = tx.all(f"SELECT name, role, token_prefix, created_at, revoked_at FROM {TABLE} ORDER BY name")
        return [KeyInfo(*row) for row in rows]

    def revoke(self, name: str, *, now: dt.datetime | None = None) -> KeyInfo:
        at = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        with self.store.transaction() as tx:
            row = tx.one(f"SELECT revoked_at FROM {TABLE} WHERE name = ?", (name,))
            if row is None:
                raise InputError("name", f"no key named {name!r}; `chipgate keys list` shows them")
            if row[0] is None:
                tx.execute(f"UPDATE {TABLE} SET revoked_at = ? WHERE name = ?", (at, name))
        return next(k for k in self.list() if k.name == name)

    def lookup(self, token: str) -> Principal | None:
        """The active key's principal, or None for an unknown or revoked token."""
        with self.store.transaction(write=False) as tx:
            row = tx.one(
                f"SELECT name, role FROM {TABLE} WHERE token_hash = ? AND revoked_at IS NULL",
                (hash_token(token),),
            )
        return Principal(row[0], row[1]) if row else None

    def is_empty(self) -> bool:
        with self.store.transaction(write=False) as tx:
            return tx.one(f"SELECT 1 FROM {TABLE} LIMIT 1") is None


class KeyCache:
    """Recently verified tokens, so a decision does not wait on the database for every call.

    A revoked key stops working in this process at once when revoked through the API, and
    within `ttl` seconds when revoked elsewhere (another worker or `chipgate keys revoke`).
    """

    def __init__(self, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[Principal | None, float]] = {}
        self._lock = Lock()

    def get(self, token: str) -> tuple[bool, Principal | None]:
        found = self._entries.get(token)
        if found is None or found[1] < self._clock():
            return False, None
        return True, found[0]

    def put(self, token: str, principal: Principal | None) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                # Bounded: random invalid tokens must not grow memory without limit.
                self._entries.clear()
            self._entries[token] = (principal, self._clock() + self.ttl)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
