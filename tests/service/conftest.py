"""Fixtures for the service tests: a seeded `chipgate serve` per backend, with a key and a client per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.service.server import Server, drop_pg_target, pg_available, pg_target, sqlite_target

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

# A shipment the seeded 2026 scenario covers: NVIDIA's demo licence to Alibaba Cloud and the
# pooled China approval.
SHIPMENT: dict[str, Any] = {
    "date": "2026-03-20",
    "kind": "export",
    "from_country": "US",
    "to_country": "CN",
    "item": {"chip": "nvidia-h200-sxm"},
    "quantity": 500,
    "unit_value_usd": 27000,
    "exporter": "NVIDIA",
    "consignee": {"name": "Alibaba Cloud", "country": "CN"},
    "end_user": {"name": "Alibaba", "country": "CN"},
}


@dataclass
class Running:
    server: Server
    backend: str
    admin: str
    officer: str
    analyst: str

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module", params=BACKENDS)
def running(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    if request.param == "sqlite":
        target = sqlite_target(tmp_path_factory.mktemp("service"))
    else:
        if not pg_available():
            pytest.skip("PostgreSQL is not reachable at CHIPGATE_TEST_PG")
        target = pg_target()
    server = Server(target)
    try:
        yield Running(
            server=server,
            backend=request.param,
            admin=server.admin,
            officer=server.create_key("olga-officer", "officer"),
            analyst=server.create_key("ana-analyst", "analyst"),
        )
    finally:
        server.stop()
        if request.param == "postgres":
            drop_pg_target(target)


# A client of the running server per role, and one without a key.
@pytest.fixture
def admin(running: Running) -> Iterator[httpx.Client]:
    with running.server.client(running.admin) as client:
        yield client


@pytest.fixture
def officer(running: Running) -> Iterator[httpx.Client]:
    with running.server.client(running.officer) as client:
        yield client


@pytest.fixture
def analyst(running: Running) -> Iterator[httpx.Client]:
    with running.server.client(running.analyst) as client:
        yield client


@pytest.fixture
def anonymous(running: Running) -> Iterator[httpx.Client]:
    with running.server.client() as client:
        yield client
