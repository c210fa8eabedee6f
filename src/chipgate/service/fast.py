"""A short way through the application for the common `POST /v1/decide`.

Routing a request through FastAPI (matching it against every route, solving the key and
query dependencies, the exception middleware) costs about as much CPU as deciding the
shipment. This middleware answers the plain case itself: a known analyst-or-better key
from the key cache, no query string or only `as_of` (and `check=false`), a body that
parses, and a decision that encodes. It calls the same functions as the route
(`chipgate.inputs.parse_shipment`, `chipgate.decide.decide`, `deps.encode`), so the answer
is the same JSON.

Every other case, including every error, goes on to the application with the body it
has read replayed, and the route answers as it always did: the first use of a key (the
database lookup), 401 and 403, 422 with its `loc`, `check=true` (the ledger), anything
unexpected. So there is one definition of each error, the route's, and the short way
can only ever produce a 200 that the route would have produced.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chipgate.decide import decide
from chipgate.inputs import parse_shipment
from chipgate.rulebook import Rulebook
from chipgate.service.deps import Services, encode

PATH = "/v1/decide"
_KEY_HEADER = b"x-api-key"
_HEADERS_JSON = b"application/json"


class DecideFastPath:
    """ASGI middleware: answer the plain `POST /v1/decide` without the framework (see module doc)."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != PATH
            or scope["method"] != "POST"
            or scope.get("root_path")
            or not self._admitted(scope)
        ):
            await self.app(scope, receive, send)
            return
        plain, on = _query(scope.get("query_string", b""))
        if not plain:
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        body = await _read(receive, received)
        answer = None if body is None else _answer(body, on, self.services.rulebook)
        if answer is None:
            await self.app(scope, _replay(received, receive), send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                # The headers, in the order, that starlette's Response sends for the route.
                "headers": [(b"content-length", str(len(answer)).encode()), (b"content-type", _HEADERS_JSON)],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    def _admitted(self, scope: Scope) -> bool:
        """The key is in the cache as a live key of at least the analyst role (the route's check)."""
        token = None
        for name, value in scope["headers"]:
            # The first X-API-Key header counts, as for starlette's Headers.get.
            if name == _KEY_HEADER:
                token = value.decode("latin-1")
                break
        if not token:
            return False
        known, principal = self.services.keys.get(token)
        return known and principal is not None and principal.can("analyst")


def _query(query: bytes) -> tuple[bool, dt.date | None]:
    """Whether the query string is plain, and its `as_of` date (None: none given). Not plain,
    left to the route: `check=true`, escapes, repeats, other parameters, a malformed date."""
    if not query:
        return True, None
    on: dt.date | None = None
    seen: set[bytes] = set()
    for part in query.split(b"&"):
        name, sep, value = part.partition(b"=")
        if not sep or name in seen or b"%" in part or b"+" in part:
            return False, None
        seen.add(name)
        if name == b"check":
            if value != b"false":
                return False, None
        elif name == b"as_of":
            if not value:
                return False, None
            try:
                on = dt.date.fromisoformat(value.decode("ascii"))
            except (ValueError, UnicodeDecodeError):
                return False, None
        else:
            return False, None
    return True, on


async def _read(receive: Receive, received: list[Message]) -> bytes | None:
    """The whole request body, keeping every message in `received` for a replay; None if the
    client went away first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _answer(body: bytes, on: dt.date | None, rulebook: Rulebook) -> bytes | None:
    """The encoded decision under the service's rulebook, or None when anything about it is
    not plain: the route then produces the error (or the same answer) in its own words."""
    try:
        data: Any = json.loads(body)
        return encode(decide(parse_shipment(data), on, rulebook=rulebook).to_dict())
    except Exception:
        return None


def _replay(received: list[Message], receive: Receive) -> Receive:
    """A receive that hands out the messages already read, then reads on."""
    pending = list(received)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
