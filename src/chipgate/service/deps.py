"""What every route shares: the caller's key and role, the ledger, the rulebook, and reading the request."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Request, Response, Security
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from chipgate.errors import InputError
from chipgate.ledger import Ledger
from chipgate.rulebook import Rulebook
from chipgate.service.auth import KeyCache, KeyStore, Principal, Role
from chipgate.service.errors import ApiError, WhereError
from chipgate.service.ledger_access import LedgerAccess

T = TypeVar("T")

api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key from `chipgate keys create --role analyst|officer|admin`.",
)


@dataclass
class Services:
    """The per-application state the routes use."""

    ledgers: LedgerAccess
    keys: KeyCache = field(default_factory=KeyCache)
    max_body: int = 64 * 1024

    @property
    def rulebook(self) -> Rulebook:
        """The one rulebook the service classifies, decides and screens with: its ledgers' own."""
        return self.ledgers.rulebook

    async def ledger(self, fn: Callable[[Ledger], T]) -> T:
        """Run `fn(ledger)` on a worker thread: ledger calls block on the database."""
        return await run_in_threadpool(self.ledgers.run, fn)


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits a valid key of at least `role`: 401 without one, 403 below it."""

    async def check(request: Request, token: str | None = Security(api_key_header)) -> Principal:
        if not token:
            raise ApiError(401, "missing_key", "send an API key in the X-API-Key header")
        state = services(request)
        known, principal = state.keys.get(token)
        if not known:
            principal = await state.ledger(lambda ledger: KeyStore(ledger.store).lookup(token))
            state.keys.put(token, principal)
        if principal is None:
            raise ApiError(401, "invalid_key", "the API key is unknown or revoked")
        if not principal.can(role):
            raise ApiError(
                403,
                "forbidden",
                f"this needs the {role} role; the key {principal.name!r} has the {principal.role} role",
            )
        return principal

    return check


analyst = require("analyst")
officer = require("officer")
admin = require("admin")


async def read_json(request: Request) -> Any:
    """The request's JSON body; a missing or malformed body is a 422 naming the body."""
    raw = await request.body()
    if not raw.strip():
        raise WhereError(("body",), InputError("", "a JSON body is required"))
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WhereError(("body",), InputError("", f"not valid JSON: {exc}")) from None


def query_date(raw: str | None, name: str, default: dt.date | None = None) -> dt.date | None:
    if raw is None or raw == "":
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise WhereError(("query",), InputError(name, f"{raw!r} is not a date; use YYYY-MM-DD")) from None


def in_body(prefix: str, error: InputError) -> WhereError:
    """An error from parsing a nested part of the body, located under `prefix`."""
    field = f"{prefix}.{error.field}" if error.field else prefix
    error.field = field
    return WhereError(("body",), error)


AnalystKey = Annotated[Principal, Depends(analyst)]
OfficerKey = Annotated[Principal, Depends(officer)]
AdminKey = Annotated[Principal, Depends(admin)]


def encode(content: Any) -> bytes:
    """`content` as compact UTF-8 JSON. JSON has no infinity or NaN: a result that overflowed
    to one (say, a spec with absurdly large figures) is refused as bad input instead of
    failing to encode."""
    try:
        # orjson is several times faster than the standard encoder on a decision's 5 KB.
        body = orjson.dumps(content)
    except TypeError:
        # It refuses what the standard encoder accepts (integers beyond 64 bits, keys that
        # are not text): those are left to the standard encoder below.
        body = b"null"
    if b"null" not in body:
        return body
    # orjson writes NaN and the infinities as null, so an answer that has a null anywhere
    # (a real None, or text containing the word) is encoded again by the standard encoder,
    # which refuses them. Answers with nulls pay for both; the decisions of /v1/decide
    # rarely have any.
    try:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:
        raise WhereError(
            ("body",), InputError("", "a figure is too large: the result is not a finite number")
        ) from None
    return text.encode()


def respond(content: Any, status_code: int = 200) -> Response:
    """A JSON response (see `encode`)."""
    return Response(encode(content), status_code=status_code, media_type="application/json")
