"""Routes for the ledger: authorisations, reservations, balances, the journal, verify, clearances.

Every write passes the key's name as the ledger's `actor`, so the journal records who made it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from chipgate.errors import InputError
from chipgate.inputs import parse_shipment
from chipgate.ledger import (
    Authorization,
    Ledger,
    UnknownAuthorization,
    UnknownClearance,
    UnknownReservation,
)
from chipgate.ledger import clearances as clearing
from chipgate.ledger.errors import LedgerInputError
from chipgate.service import ledger_access, schemas
from chipgate.service.deps import AdminKey, AnalystKey, OfficerKey, in_body, query_date, read_json, respond, services
from chipgate.service.errors import ApiError, WhereError

router = APIRouter(prefix="/v1")
RESERVATION_STATUSES = ("pending", "posted", "voided", "expired")


@contextmanager
def _found(kind: str) -> Iterator[None]:
    """An unknown id named in the path is 404 (in a body it stays a 422 naming the field)."""
    try:
        yield
    except (UnknownAuthorization, UnknownReservation, UnknownClearance) as exc:
        name = getattr(exc, "authorization_id", None) or getattr(exc, "clearance_id", None) or getattr(exc, "key", "")
        raise ApiError(404, exc.code, f"no {kind} {name!r} on file") from None


def _object(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise WhereError(("body",), InputError("", "expected a JSON object"))
    return raw


def _authorization_view(ledger: Ledger, auth: Authorization) -> dict[str, Any]:
    balance = ledger.balance(auth.id)
    return {**auth.to_dict(), "revoked": balance.revoked, "balance": balance.to_dict()}


# ---- authorisations -----------------------------------------------------------------------


@router.get("/authorizations", tags=["authorisations"], summary="Every authorisation on file, with its balance")
async def list_authorizations(request: Request, _: AnalystKey) -> Response:
    def read(ledger: Ledger) -> list[dict[str, Any]]:
        balances = {b.authorization_id: b for b in ledger.balances()}
        return [
            {**a.to_dict(), "revoked": balances[a.id].revoked, "balance": balances[a.id].to_dict()}
            for a in ledger.authorizations().values()
        ]

    return respond(await services(request).ledger(read))


@router.get("/authorizations/{authorization_id}", tags=["authorisations"], summary="One authorisation")
async def get_authorization(authorization_id: str, request: Request, _: AnalystKey) -> Response:
    def read(ledger: Ledger) -> dict[str, Any]:
        auth = ledger.authorizations().get(authorization_id)
        if auth is None:
            raise UnknownAuthorization(authorization_id)
        return _authorization_view(ledger, auth)

    with _found("authorisation"):
        return respond(await services(request).ledger(read))


@router.post(
    "/authorizations",
    tags=["authorisations"],
    summary="Put an authorisation on file (admin)",
    status_code=201,
    openapi_extra=schemas.body(schemas.AUTHORIZATION),
)
async def create_authorization(request: Request, principal: AdminKey) -> Response:
    """The same id with the same terms again returns it unchanged; different terms are a 409."""
    auth = Authorization.from_dict(_object(await read_json(request)))

    def write(ledger: Ledger) -> dict[str, Any]:
        stored = ledger.authorize(auth, actor=principal.name)
        return _authorization_view(ledger, stored)

    return respond(await services(request).ledger(write), status_code=201)


@router.patch(
    "/authorizations/{authorization_id}",
    tags=["authorisations"],
    summary="Amend an authorisation's terms (admin)",
    openapi_extra=schemas.body(schemas.AMENDMENT),
)
async def amend_authorization(authorization_id: str, request: Request, principal: AdminKey) -> Response:
    changes = _object(await read_json(request))

    def write(ledger: Ledger) -> dict[str, Any]:
        amended = ledger.amend(authorization_id, changes, actor=principal.name)
        return _authorization_view(ledger, amended)

    with _found("authorisation"):
        return respond(await services(request).ledger(write))


@router.post(
    "/authorizations/{authorization_id}/revoke",
    tags=["authorisations"],
    summary="Revoke an authorisation (admin)",
    openapi_extra=schemas.body(schemas.REVOCATION, required=False),
)
async def revoke_authorization(authorization_id: str, request: Request, principal: AdminKey) -> Response:
    raw = await request.body()
    body = _object(await read_json(request)) if raw.strip() else {}
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise WhereError(("body",), InputError("reason", "expected text"))

    def write(ledger: Ledger) -> dict[str, Any]:
        ledger.revoke(authorization_id, actor=principal.name, reason=reason)
        auth = ledger.authorizations()[authorization_id]
        return _authorization_view(ledger, auth)

    with _found("authorisation"):
        return respond(await services(request).ledger(write))


@router.get(
    "/authorizations/{authorization_id}/allocation",
    tags=["authorisations"],
    summary="How much of an authorisation each company holds and has used",
)
async def allocation(authorization_id: str, request: Request, _: AnalystKey) -> Response:
    with _found("authorisation"):
        return respond(
            await services(request).ledger(lambda ledger: ledger_access.allocation(ledger, authorization_id))
        )


@router.get(
    "/authorizations/{authorization_id}/series",
    tags=["authorisations"],
    summary="An authorisation's limit, held and used over time (e.g. the 50% volume cap)",
)
async def series(authorization_id: str, request: Request, _: AnalystKey) -> Response:
    with _found("authorisation"):
        return respond(await services(request).ledger(lambda ledger: ledger_access.series(ledger, authorization_id)))


@router.get("/balances", tags=["authorisations"], summary="Limit, held, used and available of every account")
async def balances(request: Request, _: AnalystKey) -> Response:
    return respond(await services(request).ledger(lambda ledger: [b.to_dict() for b in ledger.balances()]))


# ---- reservations -------------------------------------------------------------------------


@router.post(
    "/reservations",
    tags=["reservations"],
    summary="Reserve a shipment under an idempotency key (officer)",
    status_code=201,
    openapi_extra=schemas.body(schemas.RESERVATION),
)
async def reserve(request: Request, principal: OfficerKey) -> Response:
    """Holds the shipment's units on every authorisation that covers it, or on none. A retry
    with the same key and shipment returns the first reservation; a different shipment under
    a used key is a 409 `idempotency_conflict`."""
    body = _object(await read_json(request))
    unknown = sorted(set(body) - {"key", "shipment", "using", "as_of"})
    if unknown:
        raise WhereError(("body",), InputError(unknown[0], "unknown field; allowed: key, shipment, using, as_of"))
    key = body.get("key")
    if not isinstance(key, str) or not key.strip():
        raise WhereError(("body",), InputError("key", "an idempotency key (any non-empty text) is required"))
    if "shipment" not in body:
        raise WhereError(("body",), InputError("shipment", "is required: the shipment JSON, as for /v1/decide"))
    try:
        shipment = parse_shipment(body["shipment"])
    except InputError as exc:
        raise in_body("shipment", exc) from None
    using = body.get("using")
    if using is not None and (not isinstance(using, list) or not all(isinstance(u, str) and u for u in using)):
        raise WhereError(("body",), InputError("using", "expected a list of authorisation ids"))
    as_of = body.get("as_of")
    if as_of is not None and not isinstance(as_of, str):
        raise WhereError(("body",), InputError("as_of", "expected a date as YYYY-MM-DD"))
    try:
        on = query_date(as_of, "as_of")
    except WhereError as exc:
        raise WhereError(("body",), exc.error) from None

    def write(ledger: Ledger) -> dict[str, Any]:
        return ledger.reserve(key, shipment, actor=principal.name, on=on, using=using).to_dict()

    return respond(await services(request).ledger(write), status_code=201)


@router.get("/reservations", tags=["reservations"], summary="Reservations, optionally by status")
async def list_reservations(
    request: Request,
    _: AnalystKey,
    status: Annotated[str | None, Query(description="pending, posted, voided or expired")] = None,
) -> Response:
    if status is not None and status not in RESERVATION_STATUSES:
        raise WhereError(("query",), InputError("status", f"{status!r}; allowed: {', '.join(RESERVATION_STATUSES)}"))
    return respond(await services(request).ledger(lambda ledger: [r.to_dict() for r in ledger.reservations(status)]))


@router.get("/reservations/{key}", tags=["reservations"], summary="One reservation by its key")
async def get_reservation(key: str, request: Request, _: AnalystKey) -> Response:
    with _found("reservation"):
        return respond(await services(request).ledger(lambda ledger: ledger.reservation(key).to_dict()))


@router.post("/reservations/{key}/post", tags=["reservations"], summary="Mark a reservation shipped (officer)")
async def post_reservation(key: str, request: Request, principal: OfficerKey) -> Response:
    """Held units become used. Posting twice is a no-op; posting a voided one is a 409."""
    with _found("reservation"):
        return respond(await services(request).ledger(lambda ledger: ledger.post(key, actor=principal.name).to_dict()))


@router.post("/reservations/{key}/void", tags=["reservations"], summary="Cancel a reservation (officer)")
async def void_reservation(key: str, request: Request, principal: OfficerKey) -> Response:
    """Held units are freed. Voiding twice is a no-op; voiding a posted one is a 409."""
    with _found("reservation"):
        return respond(await services(request).ledger(lambda ledger: ledger.void(key, actor=principal.name).to_dict()))


# ---- journal and verify -------------------------------------------------------------------


@router.get("/journal", tags=["journal"], summary="The hash-chained journal, with filters")
async def journal(
    request: Request,
    _: AnalystKey,
    since: Annotated[int, Query(ge=0, le=2**62, description="Only entries after this sequence number.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many entries.")] = 100,
    subject: Annotated[str | None, Query(description="Only entries about this authorisation or reservation.")] = None,
    op: Annotated[str | None, Query(description="Only this operation (authorize, reserve, post, void, ...).")] = None,
    actor: Annotated[str | None, Query(description="Only writes by this key name.")] = None,
    authorization: Annotated[
        str | None, Query(description="Only entries that changed this authorisation's accounts.")
    ] = None,
    newest_first: Annotated[bool, Query(description="The latest entries first.")] = False,
) -> Response:
    entries = await services(request).ledger(
        lambda ledger: ledger_access.journal(
            ledger,
            since=since,
            limit=limit,
            subject=subject,
            op=op,
            actor=actor,
            authorization=authorization,
            newest_first=newest_first,
        )
    )
    return respond([e.to_dict() for e in entries])


@router.get("/verify", tags=["journal"], summary="Recompute the hash chain and every balance from the journal")
async def verify(request: Request, _: AnalystKey) -> Response:
    report = await services(request).ledger(lambda ledger: ledger.verify())
    return respond(report.to_dict())


# ---- clearances of possible restricted-party matches -----------------------------------------

CLEARANCE_FIELDS = ("party", "record_id", "entry_fingerprint", "list_code", "reason")


def _body_text(body: dict[str, Any], name: str, *, required: bool, limit: int = clearing.MAX_PARTY) -> str | None:
    if name not in body and not required:
        return None
    try:
        return clearing.required_text(body.get(name), name, limit)
    except LedgerInputError as exc:
        raise WhereError(("body",), exc) from None


@router.post(
    "/ledger/clearances",
    tags=["clearances"],
    summary="Clear a possible restricted-party match (officer)",
    status_code=201,
    openapi_extra=schemas.body(schemas.CLEARANCE),
)
async def create_clearance(request: Request, principal: OfficerKey) -> Response:
    """Records that `party` is not list entry `record_id` as the entry reads now: possible
    matches of the party to that entry are then cleared in `check`, decisions with
    `check=true` and reservations. Without `entry_fingerprint` the entry is looked up in the
    list in use (an unknown `record_id` is a 422). The same clearance again returns it; the
    same party and entry with another reason is a 409 `clearance_exists`."""
    body = _object(await read_json(request))
    unknown = sorted(set(body) - set(CLEARANCE_FIELDS))
    if unknown:
        raise WhereError(("body",), InputError(unknown[0], f"unknown field; allowed: {', '.join(CLEARANCE_FIELDS)}"))
    party = _body_text(body, "party", required=True)
    record_id = _body_text(body, "record_id", required=True)
    reason = _body_text(body, "reason", required=True, limit=clearing.MAX_REASON)
    fingerprint = _body_text(body, "entry_fingerprint", required=False)
    list_code = _body_text(body, "list_code", required=False)
    assert party is not None and record_id is not None and reason is not None

    def write(ledger: Ledger) -> dict[str, Any]:
        cleared = clearing.cleared_entry(
            ledger.rulebook.restricted_parties,
            record_id,
            fingerprint,
            list_code,
            elsewhere="give entry_fingerprint and list_code to clear an entry of another snapshot",
        )
        found = ledger.record_clearance(
            party,
            record_id,
            entry_fingerprint=cleared.entry_fingerprint,
            list_code=cleared.list_code,
            reason=reason,
            actor=principal.name,
            snapshot=cleared.snapshot,
        )
        return ledger.clearance_listing([found])[0]

    return respond(await services(request).ledger(write), status_code=201)


@router.get("/ledger/clearances", tags=["clearances"], summary="Clearances on file, each live, lapsed or withdrawn")
async def list_clearances(
    request: Request,
    _: AnalystKey,
    live: Annotated[bool, Query(description="Only clearances not withdrawn.")] = False,
) -> Response:
    return respond(
        await services(request).ledger(lambda ledger: ledger.clearance_listing(ledger.clearances(live_only=live)))
    )


@router.post(
    "/ledger/clearances/{clearance_id}/revoke",
    tags=["clearances"],
    summary="Withdraw a clearance (officer)",
    openapi_extra=schemas.body(schemas.CLEARANCE_REVOCATION),
)
async def revoke_clearance(clearance_id: str, request: Request, principal: OfficerKey) -> Response:
    """The possible matches it cleared are open again, and a reservation that relied on it can
    only be voided. Withdrawing twice returns it unchanged."""
    body = _object(await read_json(request))
    unknown = sorted(set(body) - {"reason"})
    if unknown:
        raise WhereError(("body",), InputError(unknown[0], "unknown field; allowed: reason"))
    reason = _body_text(body, "reason", required=True, limit=clearing.MAX_REASON)
    assert reason is not None
    try:
        wanted = clearing.clearance_id(clearance_id)
    except LedgerInputError:
        raise ApiError(404, "unknown_clearance", f"no clearance {clearance_id!r} on file") from None

    def write(ledger: Ledger) -> dict[str, Any]:
        found = ledger.revoke_clearance(wanted, reason=reason, actor=principal.name)
        return ledger.clearance_listing([found])[0]

    with _found("clearance"):
        return respond(await services(request).ledger(write))
