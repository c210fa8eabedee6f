"""How errors look over HTTP: one JSON shape per kind, each naming the field or the code.

- 401, 403, 404, 409, 413: `{"detail": "<message>", "code": "<code>"}`
- 422: `{"detail": [{"loc": ["body", "consignee", "country"], "msg": "...", "type": "<code>"}]}`,
  the shape FastAPI uses for its own validation errors, so a client reads both alike.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from chipgate.errors import ChipgateError, InputError, LedgerError, RuleDataError, UnknownChipError


class ApiError(Exception):
    """An HTTP refusal with a status, a machine-readable code and a message for people."""

    def __init__(self, status: int, code: str, message: str, extra: dict[str, Any] | None = None) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}
        super().__init__(message)


class WhereError(Exception):
    """An InputError raised while reading one part of the request (`query`, `path`, `body`)."""

    def __init__(self, where: tuple[str, ...], error: InputError) -> None:
        self.where = where
        self.error = error
        super().__init__(str(error))


def problem(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": message, "code": code, **extra}, status_code=status)


def invalid(where: tuple[str, ...], error: InputError) -> JSONResponse:
    loc = [*where, *(part for part in error.field.split(".") if part)] if error.field else list(where)
    item: dict[str, Any] = {"loc": loc, "msg": error.message, "type": getattr(error, "code", "invalid_input")}
    if isinstance(error, UnknownChipError):
        item["type"] = "unknown_chip"
        item["candidates"] = list(error.candidates)
    return JSONResponse({"detail": [item]}, status_code=422)


def install(app: FastAPI) -> None:
    """Register the handlers that turn chipgate's errors into the shapes above."""

    async def on_api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return problem(exc.status, exc.code, exc.message, **exc.extra)

    async def on_where(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, WhereError)
        return invalid(exc.where, exc.error)

    async def on_input(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, InputError)
        return invalid(("body",), exc)

    async def on_ledger(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, LedgerError)
        if isinstance(exc, InputError):
            # A ledger refusal of bad input (LedgerInputError) names its field like any other.
            return invalid(("body",), exc)
        extra: dict[str, Any] = {}
        for name in ("missing", "authorization_id", "needed", "available", "unit", "key"):
            value = getattr(exc, name, None)
            if value is not None:
                extra[name] = list(value) if isinstance(value, tuple) else value
        return problem(409, exc.code, str(exc), **extra)

    async def on_rule_data(_: Request, exc: Exception) -> JSONResponse:
        # The packaged rule data failed to load: the server's fault, not the caller's.
        return problem(500, "rule_data", str(exc))

    async def on_other(_: Request, exc: Exception) -> JSONResponse:
        return problem(400, "refused", str(exc))

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse(
            {"detail": [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]},
            status_code=422,
        )

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(WhereError, on_where)
    app.add_exception_handler(InputError, on_input)
    app.add_exception_handler(LedgerError, on_ledger)
    app.add_exception_handler(RuleDataError, on_rule_data)
    app.add_exception_handler(ChipgateError, on_other)
    app.add_exception_handler(RequestValidationError, on_validation)
