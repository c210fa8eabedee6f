"""The short way for `POST /v1/decide` (chipgate.service.fast), driven as ASGI in-process.

The application behind it is a stand-in that records what reached it, so each test can
tell which way a request went: the short way must answer only plain requests, with the
route's answer, and hand every other request on with its body intact.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

import chipgate
from chipgate.service.auth import KeyCache, Principal
from chipgate.service.deps import Services, encode
from chipgate.service.errors import WhereError
from chipgate.service.fast import DecideFastPath
from chipgate.service.ledger_access import LedgerAccess
from tests.service.conftest import SHIPMENT

KNOWN = "cg_known-analyst-key"
INVALID = "cg_known-invalid-key"
BODY = json.dumps(SHIPMENT).encode()


class Behind:
    """The application behind the middleware: it reads the whole body and answers 299."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"behind"})


@pytest.fixture
def behind() -> Behind:
    return Behind()


@pytest.fixture
def middleware(behind: Behind, tmp_path: Any) -> DecideFastPath:
    keys = KeyCache(ttl=3600)
    keys.put(KNOWN, Principal("ana", "analyst"))
    keys.put(INVALID, None)
    # The ledger is never opened: the short way does not use it.
    services = Services(ledgers=LedgerAccess(str(tmp_path / "unused.sqlite")), keys=keys)
    return DecideFastPath(behind, services)


def call(
    app: DecideFastPath,
    *,
    body: bytes = BODY,
    chunks: int = 1,
    key: str | None = KNOWN,
    query: bytes = b"",
    path: str = "/v1/decide",
    method: str = "POST",
) -> tuple[int, dict[bytes, bytes], bytes]:
    headers = [(b"host", b"test"), (b"content-type", b"application/json")]
    if key is not None:
        headers.append((b"x-api-key", key.encode()))
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
    }
    size = -(-len(body) // chunks) if body else 1
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    messages: list[Message] = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1} for i, part in enumerate(parts)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, *rest = sent
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in rest)


def expected(on: dt.date | None = None, shipment: dict[str, Any] = SHIPMENT) -> Any:
    return json.loads(json.dumps(chipgate.decide(shipment, on).to_dict()))


def test_a_plain_decision_is_answered_without_the_application(middleware: DecideFastPath, behind: Behind) -> None:
    status, headers, body = call(middleware)
    assert status == 200
    assert behind.bodies == []
    assert json.loads(body) == expected()
    assert headers == {b"content-length": str(len(body)).encode(), b"content-type": b"application/json"}


def test_as_of_and_check_false_stay_on_the_short_way(middleware: DecideFastPath, behind: Behind) -> None:
    status, _, body = call(middleware, query=b"as_of=2025-06-01&check=false")
    assert status == 200
    assert behind.bodies == []
    assert json.loads(body) == expected(dt.date(2025, 6, 1))


def test_a_body_in_several_chunks_is_joined(middleware: DecideFastPath, behind: Behind) -> None:
    status, _, body = call(middleware, chunks=4)
    assert status == 200
    assert behind.bodies == []
    assert json.loads(body) == expected()


@pytest.mark.parametrize(
    "query",
    [
        b"check=true",
        b"check=1",
        b"as_of=yesterday",
        b"as_of=",
        b"as_of=2025-06-01&as_of=2026-01-01",
        b"as_of=2025%2D06%2D01",
        b"other=1",
        b"check",
    ],
)
def test_other_queries_go_to_the_route(middleware: DecideFastPath, behind: Behind, query: bytes) -> None:
    assert call(middleware, query=query, chunks=3)[0] == 299
    assert behind.bodies == [BODY]


@pytest.mark.parametrize("key", [None, "", "cg_never-seen", INVALID])
def test_keys_not_known_good_go_to_the_route(middleware: DecideFastPath, behind: Behind, key: str | None) -> None:
    # The route looks the key up in the database, or refuses it with 401, in its own words.
    assert call(middleware, key=key)[0] == 299
    assert behind.bodies == [BODY]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        json.dumps({k: v for k, v in SHIPMENT.items() if k != "quantity"}).encode(),
        json.dumps({**SHIPMENT, "item": {"chip": "nvidia-h201"}}).encode(),
        # An amount beyond the parser's bounds (which keep a total value finite).
        json.dumps({**SHIPMENT, "unit_value_usd": 1e308, "quantity": 10**6}).encode(),
        b'{"date": NaN}',
    ],
)
def test_bodies_that_are_not_plain_reach_the_route_intact(
    middleware: DecideFastPath, behind: Behind, body: bytes
) -> None:
    assert call(middleware, body=body, chunks=2)[0] == 299
    assert behind.bodies == [body]


@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/decide"), ("POST", "/v1/decide/"), ("POST", "/v1/classify")])
def test_other_requests_pass_through(middleware: DecideFastPath, behind: Behind, method: str, path: str) -> None:
    assert call(middleware, method=method, path=path)[0] == 299
    assert behind.bodies == [BODY]


def test_encode_is_compact_json_and_refuses_non_finite_numbers() -> None:
    value = {"a": [1, 2.5, "é", True], "b": {"c": "x"}}
    assert encode(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    # Values orjson does not take, or writes as null, go through the standard encoder.
    assert json.loads(encode({"n": None, "big": 2**70})) == {"n": None, "big": 2**70}
    assert json.loads(encode({1: "int key"})) == {"1": "int key"}
    assert json.loads(encode({"text": "null and void"})) == {"text": "null and void"}
    for bad in (float("inf"), float("nan"), [1, {"x": -float("inf")}]):
        with pytest.raises(WhereError):
            encode(bad)
