"""The FastAPI application: the /v1 API, its OpenAPI document, and the dashboard.

    create_app(ledger_url=None)   # the embedded SQLite ledger in the user's data directory
    create_app("postgresql://...?schema=chipgate")
    create_app(rulebook=screening_rulebook("2026-09-01"))   # screen against a stored snapshot

`create_app` decides, classifies and screens with the rulebook it is given, else the
shipped one. `app_from_env()` builds the same application from CHIPGATE_SERVICE_*
variables, for `uvicorn --factory` and multi-worker serving; `chipgate serve` sets
CHIPGATE_SERVICE_LISTS to the list snapshot it resolved (`--lists`, else the one in use).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from chipgate.decide import decide
from chipgate.inputs import parse_shipment
from chipgate.rulebook import Rulebook, default_rulebook
from chipgate.service import errors, routes_core, routes_keys, routes_ledger, routes_screen, schemas
from chipgate.service.auth import KeyCache, KeyStore
from chipgate.service.deps import Services
from chipgate.service.fast import DecideFastPath
from chipgate.service.ledger_access import LedgerAccess
from chipgate.service.limits import DEFAULT_MAX_BODY, BodyLimit

STATIC = Path(__file__).parent / "static"
ENV_LEDGER = "CHIPGATE_SERVICE_LEDGER"
ENV_MAX_BODY = "CHIPGATE_SERVICE_MAX_BODY"
ENV_KEY_TTL = "CHIPGATE_SERVICE_KEY_TTL"
ENV_LISTS = "CHIPGATE_SERVICE_LISTS"

DESCRIPTION = """\
US and China export rules for AI chips, as an API: classify a chip, decide a shipment,
screen a party against the restricted-party lists, and keep the authorisations
(licences, import approvals, volume caps, quotas) in a ledger that can never be overdrawn.

**Keys.** Send `X-API-Key`. Roles: `analyst` reads, classifies, decides and screens;
`officer` also reserves, posts and voids, and clears possible list matches; `admin` also
manages authorisations and keys.
Missing or unknown key: 401. Role too low: 403. `/v1/health` needs no key.

**Errors.** 422 `{"detail": [{"loc": [...], "msg": ..., "type": ...}]}` names the field;
404, 409 (ledger refusals, with their `code`), 413 (body over the limit):
`{"detail": "...", "code": "..."}`.
"""


def plotly_js() -> Path:
    """plotly.js as shipped inside the plotly Python package: the dashboard needs no network."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def warm_up(rulebook: Rulebook | None = None) -> None:
    """Make one decision before the first request: it imports and fills the decide modules'
    caches, which would otherwise slow down the first caller."""
    decide(parse_shipment(schemas.SHIPMENT_EXAMPLE), rulebook=rulebook).to_dict()


def create_app(
    ledger_url: str | None = None,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    key_cache_seconds: float = 5.0,
    rulebook: Rulebook | None = None,
) -> FastAPI:
    """The service on one ledger (None: the embedded SQLite default), deciding with `rulebook`
    (None: the shipped one) in every route and in the ledger."""
    book = rulebook or default_rulebook()
    ledgers = LedgerAccess(ledger_url, rulebook=book)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Load the rule data and open the key table before the first request, not during it.
        book.catalogue  # noqa: B018
        KeyStore(ledgers.ledger().store).ensure_table()
        warm_up(book)
        try:
            yield
        finally:
            ledgers.close()

    app = FastAPI(
        title="chipgate",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "core", "description": "Classify chips, decide shipments, screen parties (no ledger)."},
            {"name": "authorisations", "description": "Licences, approvals, caps and quotas on file."},
            {"name": "reservations", "description": "Holds on authorisations: reserve, post, void."},
            {
                "name": "clearances",
                "description": "Analysts' clearances of possible restricted-party matches: record (officer),"
                " list, withdraw (officer).",
            },
            {"name": "journal", "description": "The tamper-evident record of every ledger change."},
            {"name": "keys", "description": "API keys and their roles (admin)."},
            {"name": "service", "description": "Health and identity."},
        ],
    )
    app.state.services = Services(ledgers=ledgers, keys=KeyCache(key_cache_seconds), max_body=max_body)
    errors.install(app)
    app.include_router(routes_core.router)
    app.include_router(routes_screen.router)
    app.include_router(routes_ledger.router)
    app.include_router(routes_keys.router)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/dashboard/")

    @app.get("/dashboard/vendor/plotly.min.js", include_in_schema=False)
    async def plotly() -> FileResponse:
        return FileResponse(plotly_js(), media_type="text/javascript")

    app.mount("/dashboard", StaticFiles(directory=STATIC, html=True), name="dashboard")
    # Added first, so it sits inside the body limit: a body over the limit is a 413 on both ways.
    app.add_middleware(DecideFastPath, services=app.state.services)
    app.add_middleware(BodyLimit, max_body=max_body)
    return app


def app_from_env() -> FastAPI:
    """The application configured from the environment (what `chipgate serve` sets for its workers).

    CHIPGATE_SERVICE_LISTS names the list snapshot to screen against (as `--lists` does);
    unset, the shipped one.
    """
    from chipgate.parties.store import screening_rulebook

    lists = os.environ.get(ENV_LISTS) or None
    return create_app(
        os.environ.get(ENV_LEDGER) or None,
        max_body=int(os.environ.get(ENV_MAX_BODY, DEFAULT_MAX_BODY)),
        key_cache_seconds=float(os.environ.get(ENV_KEY_TTL, "5")),
        rulebook=screening_rulebook(lists, field=ENV_LISTS) if lists else None,
    )
