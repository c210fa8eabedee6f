"""The journal's hash chain: how an entry's hash is computed, and checking a chain of them.

Each entry's hash is SHA-256 over the previous entry's hash followed by the entry's
seq, time, actor, operation, subject and payload, one per line. Changing any stored
byte of an entry breaks its hash or the next entry's link.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from chipgate.ledger.model import JournalEntry, Problem

GENESIS = bytes(32)


def entry_material(at: str, actor: str, op: str, subject: str, payload: str) -> str:
    """Everything hashed after the seq; the PostgreSQL store hashes the same text in SQL."""
    return f"{at}\n{actor}\n{op}\n{subject}\n{payload}"


def chain_hash(prev_hash: bytes, seq: int, material: str) -> bytes:
    return hashlib.sha256(prev_hash + f"{seq}\n{material}".encode()).digest()


def entry_hash(entry: JournalEntry, prev_hash: bytes) -> bytes:
    material = entry_material(entry.at, entry.actor, entry.op, entry.subject, entry.payload)
    return chain_hash(prev_hash, entry.seq, material)


def check_chain(entries: Iterable[JournalEntry]) -> tuple[int, bytes, Problem | None]:
    """Walk entries in seq order; return (count, last hash, first problem or None)."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for entry in entries:
        if entry.seq != expected_seq:
            return count, prev, Problem(entry.seq, None, f"expected seq {expected_seq} (a gap)")
        if entry.prev_hash != prev:
            return (
                count,
                prev,
                Problem(entry.seq, None, "its stored link to the previous entry does not match"),
            )
        if entry_hash(entry, prev) != entry.hash:
            return (
                count,
                prev,
                Problem(entry.seq, None, "its content does not match its hash (altered after writing)"),
            )
        prev = entry.hash
        expected_seq += 1
        count += 1
    return count, prev, None
