"""Run `chipgate serve` in a subprocess on a free loopback port, as a user would."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import httpx
import psycopg

PG_URL = os.environ.get("CHIPGATE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
TOKEN = re.compile(r"\bcg_[A-Za-z0-9_-]{20,}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pg_available() -> bool:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def pg_target() -> str:
    """A fresh schema per server, so runs never see each other's rows."""
    joiner = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{joiner}schema=svc_{uuid.uuid4().hex[:16]}"


def drop_pg_target(url: str) -> None:
    schema = url.rsplit("schema=", 1)[1]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def service_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "chipgate.service", *args]


class Server:
    """`chipgate serve` on `target`; `admin` is the first admin key it printed."""

    def __init__(self, target: str, *, seed: bool = True, extra: Sequence[str] = ()) -> None:
        self.target = target
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin = ""
        self.output: list[str] = []
        env = {**os.environ, "CHIPGATE_SERVICE_KEY_TTL": "0.2", "COLUMNS": "200"}
        self.process = subprocess.Popen(
            service_command(
                "serve",
                "--ledger",
                target,
                "--port",
                str(self.port),
                "--seed" if seed else "--no-seed",
                "--log-level",
                "warning",
                *extra,
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        # Drain the output on a thread: a full pipe would stall the server.
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._wait_ready()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            found = TOKEN.search(line)
            if found and not self.admin:
                self.admin = found.group(0)

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("server exited:\n" + "".join(self.output))
            try:
                if httpx.get(self.url + "/v1/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not become ready:\n" + "".join(self.output))

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"X-API-Key": token} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0)

    def create_key(self, name: str, role: str) -> str:
        with self.client(self.admin) as client:
            response = client.post("/v1/keys", json={"name": name, "role": role})
            response.raise_for_status()
            token: str = response.json()["token"]
            return token

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def sqlite_target(directory: Path) -> str:
    return str(directory / "ledger.sqlite")
