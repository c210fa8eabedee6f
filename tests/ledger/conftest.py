"""Fixtures for the ledger tests: a fresh ledger on each backend, a settable clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Clock, drop_pg_target, pg_available, pg_target

from chipgate.ledger import Ledger

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "ledger.sqlite")
        return
    if not pg_available():
        pytest.skip("PostgreSQL is not reachable at CHIPGATE_TEST_PG")
    url = pg_target()
    try:
        yield url
    finally:
        drop_pg_target(url)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(target: str, clock: Clock) -> Iterator[Ledger]:
    with Ledger(target, clock=clock) as opened:
        yield opened
