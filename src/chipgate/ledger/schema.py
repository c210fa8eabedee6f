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
    # The backends the statements are run on; the version is recorded on every backend,
    # so both agree on what "version N" means.
    dialects: tuple[str, ...] = ("sqlite", "postgresql")


# PostgreSQL: one reservation in one statement (its own transaction, one round trip).
# The caller has chosen the legs (ids in id order) from cached terms; the function checks
# everything it relied on and stores nothing unless all of it holds:
#   - the key is new (else 'exists') and the terms version is the one the legs were
#     chosen from (else 'stale');
#   - an unlocked read of the accounts: a changed version or a revocation is 'stale'; a
#     lack of room is 'short' with the rows read (a refusal read from committed balances
#     takes no lock), or 'overdue' when expired holds might make room (the caller's
#     locking path frees them first);
#   - the new rows (reservation, legs) are inserted before any shared row is locked;
#   - the accounts are then updated one by one in id order (the lock order every writer
#     uses; the caller passes the ids sorted), each only where version, revocation and
#     room still hold on its latest committed row; if one does not, the statement fails
#     (serialization_failure), nothing of it stays, and the caller takes the locking path;
#   - the journal tip last, so the row every writer shares is held from its update to
#     commit and no longer. The entry's hash is computed over the same text as
#     `journal.chain_hash`.
# The CHECK constraints on authorizations still refuse any overdraw whatever happens here.
RESERVE_FUNCTION = """
CREATE OR REPLACE FUNCTION chipgate_reserve(
    p_key text, p_digest text, p_quantity bigint, p_shipment text, p_at text,
    p_expires_at text, p_actor text, p_payload text, p_terms_seq bigint,
    p_ids text[], p_units bigint[], p_cents bigint[], p_versions bigint[]
) RETURNS TABLE (
    o_status text, o_id text, o_kind text, o_parent text, o_version bigint,
    o_revoked integer, o_limit bigint, o_held bigint, o_used bigint, o_value_limit bigint,
    o_value_held bigint, o_value_used bigint, o_basis bigint, o_plant_status text,
    o_plant_status_on text
) LANGUAGE plpgsql
-- Generic plans, made once per session: custom ones (the default while they look cheaper,
-- which they do with the arrays' sizes known) are planned again on every call, and the
-- planning cost more than the statements.
SET plan_cache_mode = force_generic_plan
AS $fn$
DECLARE
    v_n integer := cardinality(p_ids);
    v_exists boolean;
    v_terms bigint;
    v_found integer;
    v_fresh integer;
    v_room integer;
BEGIN
    -- Few statements: each costs the server more than the rows it touches.
    SELECT EXISTS (SELECT 1 FROM reservations r WHERE r.key = p_key),
        (SELECT h.terms_seq FROM journal_head h WHERE h.id = 1),
        count(a.id)::integer,
        count(*) FILTER (WHERE a.version = l.version AND a.revoked = 0)::integer,
        count(*) FILTER (WHERE
            (a.limit_units IS NULL OR a.held + a.used + l.units <= a.limit_units)
            AND (a.value_limit IS NULL
                 OR a.value_held + a.value_used + l.cents <= a.value_limit))::integer
    INTO v_exists, v_terms, v_found, v_fresh, v_room
    FROM unnest(p_ids, p_units, p_cents, p_versions) AS l(id, units, cents, version)
    LEFT JOIN authorizations a ON a.id = l.id;
    IF v_exists THEN
        o_status := 'exists';
        RETURN NEXT;
        RETURN;
    END IF;
    IF v_terms <> p_terms_seq OR v_found <> v_n OR v_fresh <> v_n THEN
        o_status := 'stale';
        RETURN NEXT;
        RETURN;
    END IF;
    IF v_room <> v_n THEN
        IF EXISTS (SELECT 1 FROM reservations r WHERE r.status = 'pending'
                   AND r.expires_at <= p_at) THEN
            o_status := 'overdue';
            RETURN NEXT;
            RETURN;
        END IF;
        RETURN QUERY SELECT 'short'::text, a.id, a.kind, a.parent, a.version, a.revoked,
            a.limit_units, a.held, a.used, a.value_limit, a.value_held, a.value_used,
            a.basis_units, a.plant_status, a.plant_status_on
        FROM authorizations a WHERE a.id = ANY (p_ids) ORDER BY a.id;
        RETURN;
    END IF;
    WITH r AS (
        INSERT INTO reservations (key, content_hash, status, quantity, shipment, created_at,
            expires_at, actor)
        VALUES (p_key, p_digest, 'pending', p_quantity, p_shipment, p_at, p_expires_at, p_actor)
    )
    INSERT INTO reservation_legs (key, authorization_id, quantity, value_cents)
    SELECT p_key, l.id, l.units, l.cents FROM unnest(p_ids, p_units, p_cents) AS l(id, units, cents);
    -- One account at a time in id order (the order every writer locks them in), each
    -- updated only where version, revocation and room hold on its latest committed row.
    FOR i IN 1 .. v_n LOOP
        UPDATE authorizations a
        SET held = a.held + p_units[i], value_held = a.value_held + p_cents[i]
        WHERE a.id = p_ids[i] AND a.version = p_versions[i] AND a.revoked = 0
            AND (a.limit_units IS NULL OR a.held + a.used + p_units[i] <= a.limit_units)
            AND (a.value_limit IS NULL
                 OR a.value_held + a.value_used + p_cents[i] <= a.value_limit);
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
                MESSAGE = 'account ' || p_ids[i] || ' changed while reserving ' || p_key;
        END IF;
    END LOOP;
    WITH h AS (SELECT seq, hash FROM journal_head WHERE id = 1 FOR UPDATE),
    n AS (
        SELECT h.seq + 1 AS seq, h.hash AS prev,
            sha256(h.hash || convert_to((h.seq + 1)::text || chr(10) || p_at || chr(10)
                || p_actor || chr(10) || 'reserve' || chr(10) || p_key || chr(10) || p_payload,
                'UTF8')) AS hash
        FROM h
    ),
    u AS (UPDATE journal_head j SET seq = n.seq, hash = n.hash FROM n WHERE j.id = 1)
    INSERT INTO journal (seq, at, actor, op, subject, payload, prev_hash, hash)
    SELECT n.seq, p_at, p_actor, 'reserve', p_key, p_payload, n.prev, n.hash FROM n;
    o_status := 'ok';
    RETURN NEXT;
END
$fn$
"""

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
    Migration(
        3,
        "PostgreSQL: chipgate_reserve, a reservation in one statement",
        (RESERVE_FUNCTION,),
        dialects=("postgresql",),
    ),
    Migration(
        4,
        "clearances of possible restricted-party matches",
        (
            # One row per clearance; `number` gives the id (CLR-<number>) its order. The
            # journal holds every clearance and withdrawal too, and `verify` compares them.
            """CREATE TABLE clearances (
                id TEXT PRIMARY KEY,
                number {bigint} NOT NULL UNIQUE,
                party TEXT NOT NULL,
                record_id TEXT NOT NULL,
                list_code TEXT NOT NULL,
                entry_fingerprint TEXT NOT NULL,
                snapshot TEXT NOT NULL,
                reason TEXT NOT NULL,
                actor TEXT NOT NULL,
                created_at TEXT NOT NULL,
                revoked_at TEXT,
                revoked_by TEXT,
                revoke_reason TEXT
            )""",
            # `check` looks clearances up by the list entry a possible hit names.
            "CREATE INDEX clearances_record ON clearances (record_id)",
            # The clearances a reservation relied on: it cannot be posted once one is withdrawn.
            """CREATE TABLE reservation_clearances (
                key TEXT NOT NULL,
                clearance_id TEXT NOT NULL,
                PRIMARY KEY (key, clearance_id)
            )""",
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version
