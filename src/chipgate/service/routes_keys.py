"""Routes for API keys (admin): create, list, revoke. A token is shown once, at creation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from chipgate.errors import InputError
from chipgate.ledger import Ledger
from chipgate.service import schemas
from chipgate.service.auth import KeyStore
from chipgate.service.deps import AdminKey, read_json, respond, services
from chipgate.service.errors import ApiError, WhereError

router = APIRouter(prefix="/v1")


@router.get("/keys", tags=["keys"], summary="Every API key (names, roles, prefixes; never the tokens)")
async def list_keys(request: Request, _: AdminKey) -> Response:
    return respond(await services(request).ledger(lambda ledger: [k.to_dict() for k in KeyStore(ledger.store).list()]))


@router.post(
    "/keys",
    tags=["keys"],
    summary="Create an API key; the token is in this response only",
    status_code=201,
    openapi_extra=schemas.body(schemas.KEY),
)
async def create_key(request: Request, _: AdminKey) -> Response:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise WhereError(("body",), InputError("", "expected a JSON object with name and role"))
    name, role = body.get("name"), body.get("role")
    unknown = sorted(set(body) - {"name", "role"})
    if unknown:
        raise WhereError(("body",), InputError(unknown[0], "unknown field; allowed: name, role"))

    def write(ledger: Ledger) -> dict[str, Any]:
        token = KeyStore(ledger.store).create(name, role)  # type: ignore[arg-type]
        return {"name": name.strip(), "role": role, "token": token}  # type: ignore[union-attr]

    return respond(await services(request).ledger(write), status_code=201)


@router.post("/keys/{name}/revoke", tags=["keys"], summary="Revoke an API key")
async def revoke_key(name: str, request: Request, principal: AdminKey) -> Response:
    state = services(request)
    try:
        info = await state.ledger(lambda ledger: KeyStore(ledger.store).revoke(name))
    except InputError as exc:
        raise ApiError(404, "unknown_key", exc.message) from None
    # Forget verified tokens so the revocation holds in this process at once.
    state.keys.clear()
    return respond(info.to_dict())
