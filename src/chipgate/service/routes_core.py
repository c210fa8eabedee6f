"""Routes for the pure core: health, chips, classify, decide, timeline.

Each uses the service's one rulebook (`Services.rulebook`), so a decision here screens
against the same list snapshot as the ledger's.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from chipgate.classify import classify as classify_chip
from chipgate.decide import decide as decide_shipment
from chipgate.errors import InputError, UnknownChipError
from chipgate.inputs import parse_country, parse_shipment, parse_spec
from chipgate.model import Chip
from chipgate.rulebook import Rulebook
from chipgate.service import schemas
from chipgate.service.deps import AnalystKey, query_date, read_json, respond, services
from chipgate.service.errors import ApiError, WhereError
from chipgate.service.ledger_access import describe_target, today
from chipgate.timeline import classification_timeline, decision_timeline

router = APIRouter(prefix="/v1")

AsOf = Annotated[
    str | None, Query(description="Rules in force on this date (YYYY-MM-DD); default today.", examples=["2026-03-02"])
]


@cache
def _version() -> str:
    # Reading the installed metadata takes a few hundred microseconds (it parses the
    # METADATA file), too much for a health check that load balancers poll; the version
    # does not change while the process runs.
    try:
        return version("chipgate")
    except PackageNotFoundError:
        return "unknown"


def _rulebook(request: Request) -> Rulebook:
    return services(request).rulebook


def _resolve(request: Request, chip: str) -> Chip:
    """A catalogue chip named in the path: an unknown one is 404, listing the closest ids."""
    try:
        return _rulebook(request).catalogue.resolve(chip)
    except UnknownChipError as exc:
        raise ApiError(404, "unknown_chip", str(exc), {"candidates": list(exc.candidates)}) from None


@router.get("/health", tags=["service"], summary="Liveness: no key needed")
async def health(request: Request) -> Response:
    state = services(request)
    return respond(
        {
            "status": "ok",
            "version": _version(),
            "rulebook_version": state.rulebook.version,
            "lists_snapshot": state.rulebook.restricted_parties.snapshot_id,
            "ledger": describe_target(state.ledgers.target),
        }
    )


@router.get("/whoami", tags=["service"], summary="The caller's key name and role")
async def whoami(principal: AnalystKey) -> dict[str, Any]:
    return {"name": principal.name, "role": principal.role}


@router.get("/chips", tags=["core"], summary="The chip catalogue")
async def chips(
    request: Request,
    _: AnalystKey,
    vendor: Annotated[str | None, Query(description="Only this vendor (case-insensitive).")] = None,
) -> Response:
    catalogue = _rulebook(request).catalogue
    if vendor is not None and vendor.casefold() not in {v.casefold() for v in catalogue.vendors()}:
        raise WhereError(
            ("query",),
            InputError("vendor", f"{vendor!r} is not in the catalogue; known: {', '.join(catalogue.vendors())}"),
        )
    selected = [c.to_dict() for c in catalogue if vendor is None or c.vendor.casefold() == vendor.casefold()]
    return respond(selected)


@router.get("/chips/{chip}", tags=["core"], summary="One catalogue chip, by id or common name")
async def chip(request: Request, chip: str, _: AnalystKey) -> Response:
    return respond(_resolve(request, chip).to_dict())


@router.get("/classify/{chip}", tags=["core"], summary="Classify a catalogue chip under ECCN 3A090")
async def classify_by_id(request: Request, chip: str, _: AnalystKey, as_of: AsOf = None) -> Response:
    on = query_date(as_of, "as_of", today())
    assert on is not None
    return respond(classify_chip(_resolve(request, chip), on, rulebook=_rulebook(request)).to_dict())


@router.post(
    "/classify",
    tags=["core"],
    summary="Classify a chip spec under ECCN 3A090",
    openapi_extra=schemas.body(schemas.SPEC),
)
async def classify_spec(request: Request, _: AnalystKey, as_of: AsOf = None) -> Response:
    on = query_date(as_of, "as_of", today())
    assert on is not None
    spec = parse_spec(await read_json(request))
    return respond(classify_chip(spec, on, rulebook=_rulebook(request)).to_dict())


@router.post(
    "/decide",
    tags=["core"],
    summary="Decide a shipment: US licence and review policy, China approval, duties, reasons",
    openapi_extra=schemas.body(schemas.SHIPMENT),
)
async def decide(
    request: Request,
    _: AnalystKey,
    as_of: Annotated[
        str | None, Query(description="Decide under the rules of this date instead of the shipment's.")
    ] = None,
    check: Annotated[
        bool, Query(description="Also fill covered_by and missing from the authorisations in the ledger.")
    ] = False,
) -> Response:
    """The same contract as `chipgate decide --json`: the body is the shipment JSON, the answer
    the decision's JSON. With `check=true` the ledger says which authorisations would cover it."""
    on = query_date(as_of, "as_of")
    shipment = parse_shipment(await read_json(request))
    if check:
        decision = await services(request).ledger(lambda ledger: ledger.check(shipment, on))
    else:
        decision = decide_shipment(shipment, on, rulebook=_rulebook(request))
    return respond(decision.to_dict())


@router.get("/timeline/{chip}", tags=["core"], summary="How a chip's class (or, with `to`, a decision) changed")
async def timeline(
    request: Request,
    chip: str,
    _: AnalystKey,
    to: Annotated[
        str | None, Query(description="Destination: the decision for a plain datacenter export from the US.")
    ] = None,
    since: Annotated[str | None, Query(alias="from", description="First date to show.")] = None,
    until: Annotated[str | None, Query(description="Last date to consider.")] = None,
) -> Response:
    found = _resolve(request, chip)
    book = _rulebook(request)
    start = query_date(since, "from", dt.date(2022, 1, 1))
    end = query_date(until, "until")
    assert start is not None
    if to is None:
        periods = classification_timeline(found, start=start, end=end, rulebook=book)
    else:
        try:
            country = parse_country(to, "to")
        except InputError as exc:
            raise WhereError(("query",), exc) from None
        assert country is not None
        periods = decision_timeline(found, country, start=start, end=end, rulebook=book)
    return respond({"chip": found.id, "to": to, "periods": [p.to_dict() for p in periods]})
