"""Decisions per second over HTTP: `POST /v1/decide` on loopback with concurrent clients.

    python benchmarks/bench_http.py [--workers 2] [--concurrency 8,32] [--rate 1000] [--requests 20000] [--json]

Starts `chipgate serve` in a subprocess on a free port (uvicorn, with uvloop and httptools
when they are installed), creates an analyst key, and sends requests over keep-alive
connections from `--clients` client processes. For each load it measures
  decide    POST /v1/decide with a China-bound H200 shipment (key checked, body parsed, decided)
  health    GET /v1/health, the baseline measured in the same run (the HTTP stack alone)
and prints requests/s, median and p99 latency, and the ratio decide/health.

Two kinds of load:
  closed    `--concurrency` connections, each sending its next request as soon as the last
            answer arrives: the most the server does, and the latency at that saturation
            (by Little's law about connections / throughput).
  rate      `--rate` requests per second on a fixed schedule over `--rate-connections`
            connections, whatever the answers do: the latency at that load. A request's
            latency counts from when it was due, so one that waited for a free connection
            behind a slow answer counts its wait too (no coordinated omission).
Target (issue 5): 1,000 decisions/s with p99 under 20 ms.

The client is a minimal HTTP/1.1 writer and reader (on uvloop when installed) so that it
takes little of the CPU the server needs; client and server share the machine's cores.
For each measurement the report gives the CPU seconds used by the server, by the clients
and by everything else on the machine (from /proc/stat), and the load average at the
start: the third is other work competing for the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import multiprocessing
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
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
TICKS = os.sysconf("SC_CLK_TCK")


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


# ---- the client ---------------------------------------------------------------------------


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    """Send one request and read its whole answer; the status."""
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return int(head[9:12])


async def _closed(port: int, raw: bytes, count: int, latencies: list[float], statuses: dict[int, int]) -> None:
    """One connection sending `count` requests back to back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(count):
            start = time.perf_counter()
            status = await _exchange(reader, writer, raw)
            latencies.append(time.perf_counter() - start)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def _scheduled(
    port: int,
    raw: bytes,
    schedule: list[float],
    latencies: list[float],
    statuses: dict[int, int],
) -> None:
    """One connection taking the next due request from the shared schedule (latest first
    popped from the end), sending it at its time or, if late, at once."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while schedule:
            due = schedule.pop()
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            status = await _exchange(reader, writer, raw)
            latencies.append(time.perf_counter() - due)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


def _run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    if importlib.util.find_spec("uvloop"):
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main())
    else:
        asyncio.run(main())


def _client(port: int, raw: bytes, connections: int, load: dict[str, Any], start_at: float, out: Any) -> None:
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def main() -> None:
        # Every client process starts at the same moment, the one the elapsed time counts from.
        await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
        if load["kind"] == "closed":
            jobs = [_closed(port, raw, load["per_connection"], latencies, statuses) for _ in range(connections)]
        else:
            # perf_counter is CLOCK_MONOTONIC on Linux, shared by all processes: every client
            # process keeps to the same start.
            interval = 1 / load["rate"]
            offset = load["offset"]
            schedule = [start_at + offset + i * interval for i in range(load["count"])][::-1]
            jobs = [_scheduled(port, raw, schedule, latencies, statuses) for _ in range(connections)]
        await asyncio.gather(*jobs)

    _run(main)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.put((latencies, statuses, usage.ru_utime + usage.ru_stime))


# ---- CPU accounting -----------------------------------------------------------------------


def _machine_busy() -> dict[str, float]:
    """CPU seconds the whole machine has spent since boot: in processes, in interrupts
    (loopback networking is mostly softirq work, charged to no process), and stolen by
    the hypervisor."""
    with open("/proc/stat") as stat:
        user, nice, system, _, _, irq, softirq, steal = (int(x) / TICKS for x in stat.readline().split()[1:9])
    return {"processes": user + nice + system, "interrupts": irq + softirq, "steal": steal}


def _process_cpu(pid: int) -> float:
    """CPU seconds of a process and of its children (recursively), as now."""
    total = 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            parts = stat.read().rsplit(")", 1)[1].split()
        total += (int(parts[11]) + int(parts[12])) / TICKS
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            for child in children.read().split():
                total += _process_cpu(int(child))
    except FileNotFoundError:
        pass
    return total


def measure(port: int, raw: bytes, server: int, load: dict[str, Any], connections: int, clients: int) -> dict[str, Any]:
    """One measurement: `load` (closed or rate) over `connections` connections from `clients` processes."""
    per_client = max(1, connections // clients)
    loads = []
    for i in range(clients):
        mine = dict(load)
        if load["kind"] == "rate":
            # Interleaved schedules: together the clients send at `rate`, evenly spaced.
            mine.update(rate=load["rate"] / clients, offset=i / load["rate"], count=load["count"] // clients)
        loads.append(mine)
    queue: Any = multiprocessing.Queue()
    start_at = time.perf_counter() + 0.5  # time for the client processes to start
    processes = [
        multiprocessing.Process(target=_client, args=(port, raw, per_client, mine, start_at, queue)) for mine in loads
    ]
    busy, served, load_average = _machine_busy(), _process_cpu(server), os.getloadavg()[0]
    for p in processes:
        p.start()
    results = [queue.get() for _ in processes]
    end = time.perf_counter()
    after, served = _machine_busy(), _process_cpu(server) - served
    busy = {k: after[k] - busy[k] for k in after}
    for p in processes:
        p.join()
    elapsed = end - start_at
    latencies = sorted(x for r in results for x in r[0])
    statuses: dict[int, int] = {}
    for r in results:
        for code, n in r[1].items():
            statuses[code] = statuses.get(code, 0) + n
    client_cpu = sum(r[2] for r in results)
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "per_second": len(latencies) / elapsed,
        "median_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "max_ms": latencies[-1] * 1000,
        "statuses": statuses,
        "cpu_s": {
            "server": round(served, 2),
            "clients": round(client_cpu, 2),
            # Every other process, including this script's own small share.
            "other": round(max(0.0, busy["processes"] - served - client_cpu), 2),
            "interrupts": round(busy["interrupts"], 2),
            "steal": round(busy["steal"], 2),
            "available": round(elapsed * (os.cpu_count() or 1), 2),
        },
        "load_average_1min": round(load_average, 2),
    }


# ---- the server ---------------------------------------------------------------------------


def start_server(ledger: str, port: int, workers: int, access_log: bool) -> subprocess.Popen[bytes]:
    """`chipgate serve`, as users run it (uvicorn picks uvloop and httptools when installed)."""
    command = [
        sys.executable,
        "-m",
        "chipgate.service",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ledger",
        ledger,
        "--workers",
        str(workers),
        # uvicorn writes access lines at the info level only.
        "--log-level",
        "info" if access_log else "warning",
        "--access-log" if access_log else "--no-access-log",
    ]
    # What it prints (the ledger, the addresses, access lines) is not part of the report.
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
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
    parser.add_argument(
        "--concurrency", default="8,32", help="closed loads: connections in all, comma-separated ('' for none)"
    )
    parser.add_argument("--rate", default="1000", help="rate loads: requests/s, comma-separated ('' for none)")
    parser.add_argument("--rate-connections", type=int, default=32, help="connections for the rate loads")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--requests", type=int, default=20_000, help="requests per closed measurement")
    parser.add_argument("--seconds", type=float, default=10, help="duration of each rate measurement")
    parser.add_argument("--access-log", action="store_true", help="serve with a log line per request")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    loads: list[tuple[str, dict[str, Any], int]] = []
    for c in filter(None, args.concurrency.split(",")):
        per_connection = max(1, args.requests // int(c))
        loads.append((f"closed, {c} connections", {"kind": "closed", "per_connection": per_connection}, int(c)))
    for r in filter(None, args.rate.split(",")):
        count = int(float(r) * args.seconds)
        loads.append(
            (
                f"{float(r):,.0f}/s, {args.rate_connections} connections",
                {"kind": "rate", "rate": float(r), "count": count},
                args.rate_connections,
            )
        )

    from chipgate.ledger import Ledger
    from chipgate.service.auth import KeyStore

    measured: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="chipgate-bench-") as scratch:
        ledger_path = str(Path(scratch) / "ledger.sqlite")
        with Ledger(ledger_path) as ledger:
            keys = KeyStore(ledger.store)
            keys.ensure_table()
            key = keys.create("bench", "analyst")
        port = free_port()
        server = start_server(ledger_path, port, args.workers, args.access_log)
        try:
            decide = request_bytes("POST", "/v1/decide", key, json.dumps(SHIPMENT).encode())
            health = request_bytes("GET", "/v1/health", key)
            warm = {"kind": "closed", "per_connection": 200}
            measure(port, decide, server.pid, warm, 8, args.clients)
            measure(port, health, server.pid, warm, 8, args.clients)
            for name, load, connections in loads:
                decided = measure(port, decide, server.pid, load, connections, args.clients)
                baseline = measure(port, health, server.pid, load, connections, args.clients)
                measured.append({"load": name, "spec": load, "decide": decided, "health": baseline})
        finally:
            server.terminate()
            server.wait(timeout=30)
    report = {
        "workers": args.workers,
        "access_log": args.access_log,
        "clients": args.clients,
        "cpus": os.cpu_count(),
        "uvloop": bool(importlib.util.find_spec("uvloop")),
        "httptools": bool(importlib.util.find_spec("httptools")),
        "loads": measured,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"workers {args.workers}, {args.clients} client processes, {os.cpu_count()} CPUs shared by server and clients,"
        f" uvloop {report['uvloop']}, httptools {report['httptools']}, access log {args.access_log}"
    )
    for m in measured:
        print(m["load"])
        for name in ("decide", "health"):
            r = m[name]
            cpu = r["cpu_s"]
            print(
                f"  {name:<7} {r['per_second']:>7,.0f} req/s   median {r['median_ms']:6.2f} ms"
                f"   p99 {r['p99_ms']:6.2f} ms   max {r['max_ms']:6.1f} ms   statuses {r['statuses']}\n"
                f"          CPU s: server {cpu['server']}, clients {cpu['clients']}, other processes {cpu['other']},"
                f" interrupts {cpu['interrupts']}, steal {cpu['steal']}, of {cpu['available']};"
                f" load average {r['load_average_1min']}"
            )
        d, h = m["decide"], m["health"]
        load = m["spec"]
        if load["kind"] == "rate":
            # A fixed rate counts if the server kept up with it (the rest is rounding: the
            # elapsed time includes the last answer).
            met = load["rate"] >= 1000 and d["per_second"] >= 0.99 * load["rate"] and d["p99_ms"] < 20
        else:
            met = d["per_second"] >= 1000 and d["p99_ms"] < 20
        print(
            f"  decide/health: throughput {d['per_second'] / h['per_second']:.2f},"
            f" p99 {d['p99_ms'] / h['p99_ms']:.2f};"
            f" target (1,000 decisions/s, p99 < 20 ms) {'met' if met else 'not met'}"
        )


if __name__ == "__main__":
    main()
