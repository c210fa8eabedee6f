"""The ledger's tables and their forward migrations, one ordered list for both backends.

`schema_version` records every migration applied. A database written by a newer
chipgate (a version above the last one here) is refused rather than guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


# `{blob}` and `{bigint}` are spelled per backend (see store.Dialect).
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "authorisations, reservations, US shipments, hash-chained journal",
        (
            """CREATE TABLE authorizations (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                parent TEXT,
                spec TEXT NOT NULL,
                version {bigint} NOT NULL,
                revoked INTEGER NOT NULL DEFAULT 0,
                limit_units {bigint},
                held {bigint} NOT NULL DEFAULT 0,
                used {bigint} NOT NULL DEFAULT 0,
                value_limit {bigint},
                value_held {bigint} NOT NULL DEFAULT 0,
                value_used {bigint} NOT NULL DEFAULT 0,
                basis_units {bigint} NOT NULL DEFAULT 0,
                plant_status TEXT,
                plant_status_on TEXT,
                CHECK (held >= 0 AND used >= 0 AND value_held >= 0 AND value_used >= 0),
                CHECK (limit_units IS NULL OR held + used <= limit_units),
                CHECK (value_limit IS NULL OR value_held + value_used <= value_limit)
            )""",
            """CREATE TABLE reservations (
                key TEXT PRIMARY KEY,
                content_hash TEXT NOT NULL,
                status TEXT NOT NULL,
                quantity {bigint} NOT NULL,
                shipment TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT,
                finished_at TEXT,
                actor TEXT NOT NULL
            )""",
            """CREATE TABLE reservation_legs (
                key TEXT NOT NULL,
                authorization_id TEXT NOT NULL,
                quantity {bigint} NOT NULL,
                value_cents {bigint} NOT NULL DEFAULT 0,
                PRIMARY KEY (key, authorization_id)
            )""",
            """CREATE TABLE us_shipments (
                key TEXT PRIMARY KEY,
                content_hash TEXT NOT NULL,
                exporter TEXT NOT NULL,
                product TEXT NOT NULL,
                quantity {bigint} NOT NULL,
                shipped_on TEXT NOT NULL,
                actor TEXT NOT NULL
            )""",
            """CREATE TABLE journal (
                seq {bigint} PRIMARY KEY,
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                op TEXT NOT NULL,
                subject TEXT NOT NULL,
                payload TEXT NOT NULL,
                prev_hash {blob} NOT NULL,
                hash {blob} NOT NULL
            )""",
            # One row: the chain's tip, and the seq of the last change to any
            # authorisation's terms (lets processes refresh cached terms cheaply).
            """CREATE TABLE journal_head (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                seq {bigint} NOT NULL,
                hash {blob} NOT NULL,
                terms_seq {bigint} NOT NULL DEFAULT 0
            )""",
        ),
    ),
    Migration(
        2,
        "indexes for history, expiry and US-shipment lookups",
        (
            "CREATE INDEX journal_subject ON journal (subject)",
            "CREATE INDEX reservations_pending ON reservations (status, expires_at)",
            "CREATE INDEX legs_authorization ON reservation_legs (authorization_id)",
            "CREATE INDEX us_shipments_exporter ON us_shipments (exporter, product)",
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version
