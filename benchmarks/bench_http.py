"""Decisions per second over HTTP: `POST /v1/decide` on loopback with concurrent clients.

    python benchmarks/bench_http.py [--workers 2] [--concurrency 32] [--requests 20000]

Starts uvicorn in a subprocess on a free port (with uvloop and httptools when they are
installed), creates an analyst key, and sends requests over keep-alive connections from
`--clients` client processes. Prints requests/s, median and p99 latency for:
  decide    POST /v1/decide with a China-bound H200 shipment (key checked, body parsed, decided)
  health    GET /v1/health, the baseline measured in the same run (the HTTP stack alone)
and the ratio decide/health. Target (issue 5): 1,000 decisions/s with p99 under 20 ms.
The client is a minimal HTTP/1.1 writer and reader so that it takes little of the CPU
the server needs; on a 2-core machine client and server still share the cores.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

SHIPMENT = {
    "date": "2026-03-20",
    "kind": "export",
    "from_country": "US",
    "to_country": "CN",
    "item": {"chip": "nvidia-h200-sxm"},
    "quantity": 1000,
    "unit_value_usd": 27000,
    "exporter": "NVIDIA",
    "consignee": {"name": "Alibaba Cloud", "country": "CN"},
    "end_user": {"name": "Alibaba", "country": "CN"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def request_bytes(method: str, path: str, key: str, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


async def _connection(port: int, raw: bytes, count: int, latencies: list[float], statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(count):
            start = time.perf_counter()
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            status = int(head[9:12])
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


def _client(port: int, raw: bytes, connections: int, per_connection: int, out: Any) -> None:
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def main() -> None:
        await asyncio.gather(*(_connection(port, raw, per_connection, latencies, statuses) for _ in range(connections)))

    asyncio.run(main())
    out.put((latencies, statuses))


def measure(port: int, raw: bytes, requests: int, concurrency: int, clients: int) -> dict[str, Any]:
    """Send `requests` requests over `concurrency` connections spread over `clients` processes."""
    per_client = max(1, concurrency // clients)
    per_connection = max(1, requests // (per_client * clients))
    queue: Any = multiprocessing.Queue()
    processes = [
        multiprocessing.Process(target=_client, args=(port, raw, per_client, per_connection, queue))
        for _ in range(clients)
    ]
    start = time.perf_counter()
    for p in processes:
        p.start()
    results = [queue.get() for _ in processes]
    elapsed = time.perf_counter() - start
    for p in processes:
        p.join()
    latencies = sorted(x for r in results for x in r[0])
    statuses: dict[int, int] = {}
    for _, s in results:
        for code, n in s.items():
            statuses[code] = statuses.get(code, 0) + n
    return {
        "requests": len(latencies),
        "per_second": len(latencies) / elapsed,
        "median_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "statuses": statuses,
    }


def start_server(ledger: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "chipgate.service.app:app_from_env",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if importlib.util.find_spec("uvloop"):
        command += ["--loop", "uvloop"]
    if importlib.util.find_spec("httptools"):
        command += ["--http", "httptools"]
    env = {**os.environ, "CHIPGATE_SERVICE_LEDGER": ledger}
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--concurrency", type=int, default=32, help="open connections in all")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--requests", type=int, default=20_000, help="requests per measurement")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()

    from chipgate.ledger import Ledger
    from chipgate.service.auth import KeyStore

    with tempfile.TemporaryDirectory(prefix="chipgate-bench-") as scratch:
        ledger_path = str(Path(scratch) / "ledger.sqlite")
        with Ledger(ledger_path) as ledger:
            keys = KeyStore(ledger.store)
            keys.ensure_table()
            key = keys.create("bench", "analyst")
        port = free_port()
        server = start_server(ledger_path, port, args.workers)
        try:
            decide = request_bytes("POST", "/v1/decide", key, json.dumps(SHIPMENT).encode())
            health = request_bytes("GET", "/v1/health", key)
            warm = max(1000, args.requests // 10)
            measure(port, decide, warm, args.concurrency, args.clients)
            measure(port, health, warm, args.concurrency, args.clients)
            results = {
                "decide": measure(port, decide, args.requests, args.concurrency, args.clients),
                "health": measure(port, health, args.requests, args.concurrency, args.clients),
            }
        finally:
            server.terminate()
            server.wait(timeout=30)
    report = {
        "workers": args.workers,
        "concurrency": args.concurrency,
        "clients": args.clients,
        "cpus": os.cpu_count(),
        "uvloop": bool(importlib.util.find_spec("uvloop")),
        "httptools": bool(importlib.util.find_spec("httptools")),
        **results,
        "decide_over_health": results["decide"]["per_second"] / results["health"]["per_second"],
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"workers {args.workers}, {args.concurrency} connections from {args.clients} client processes,"
        f" {os.cpu_count()} CPUs, uvloop {report['uvloop']}, httptools {report['httptools']}"
    )
    for name, r in results.items():
        print(
            f"{name:<7} {r['per_second']:>8,.0f} req/s   median {r['median_ms']:6.2f} ms"
            f"   p99 {r['p99_ms']:6.2f} ms   statuses {r['statuses']}"
        )
    print(f"decide / health throughput: {report['decide_over_health']:.2f}")
    target = results["decide"]["per_second"] >= 1000 and results["decide"]["p99_ms"] < 20
    print(f"target (>= 1,000 decisions/s, p99 < 20 ms): {'met' if target else 'not met'}")


if __name__ == "__main__":
    main()
