"""`POST /v1/screen`: screen one party name against the restricted-party lists.

The body and the answer are the `chipgate screen --json` contract (docs/contracts.md):
the route reads the body with `chipgate.screening.screen_with`, so a field the CLI
refuses is refused here too, as a 422 naming it. It screens against the service's list
snapshot, the one its decisions use (`chipgate serve --lists`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from chipgate.errors import InputError
from chipgate.screening import MAX_NAME_CHARS, Fields, screen_with
from chipgate.service import schemas
from chipgate.service.deps import AnalystKey, read_json, respond, services

router = APIRouter(prefix="/v1")

REQUEST_KEYS = ("name", "country", "identifiers", "lists")
# In the body, `lists` limits the lists searched (the Python API's `list_codes`).
HTTP_FIELDS = Fields(list_codes="lists")

SCREEN_EXAMPLE: dict[str, Any] = {"name": "Dawning Information Industry Co., Ltd.", "country": "CN"}

SCREEN_REQUEST: dict[str, Any] = {
    "type": "object",
    "description": "A party to screen (the screen contract, docs/contracts.md). Only name is required.",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS, "description": "As written."},
        "country": {"type": "string", "description": "ISO 3166-1 alpha-2 code, e.g. CN, HK, US"},
        "identifiers": {
            "type": "array",
            "description": "The party's identifiers as SCHEME:VALUE, e.g. USCC:91110000100000000X.",
            "items": {"type": "string", "pattern": "^[^:]+:.+$"},
        },
        "lists": {
            "type": "array",
            "description": "Only these lists (EL, MEU, 1260H, UFLPA, 1286, NS-CMIC); default every list.",
            "items": {"type": "string"},
            "minItems": 1,
        },
    },
    "example": SCREEN_EXAMPLE,
}

_TEXTS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
SCREENING: dict[str, Any] = {
    "type": "object",
    "required": ["query", "country", "snapshot", "matcher", "thresholds", "hits"],
    "properties": {
        "query": {"type": "string"},
        "country": {"type": ["string", "null"]},
        "snapshot": {
            "type": "object",
            "properties": {"id": {"type": "string"}, "date": {"type": "string", "format": "date"}},
        },
        "matcher": {"type": "string"},
        "thresholds": {"type": "object", "additionalProperties": {"type": "number"}},
        "hits": {
            "type": "array",
            "description": "Ranked best first; empty when the name is clear.",
            "items": {
                "type": "object",
                "properties": {
                    "record_id": {"type": "string"},
                    "list": {"type": "string"},
                    "list_name": {"type": "string"},
                    "name": {"type": "string", "description": "The entry's name as listed."},
                    "matched_name": {"type": "string", "description": "The entry's name or alias the query matched."},
                    "score": {"type": "number", "minimum": 0, "maximum": 1},
                    "strength": {"type": "string", "enum": ["match", "possible"]},
                    "countries": _TEXTS,
                    "identifiers": _TEXTS,
                    "features": {"type": "object", "additionalProperties": {"type": "number"}},
                    "entry_fingerprint": {"type": "string"},
                },
            },
        },
    },
}


@router.post(
    "/screen",
    tags=["core"],
    summary="Screen a party name against the US restricted-party lists; hits ranked best first",
    openapi_extra=schemas.body(SCREEN_REQUEST),
    responses={200: {"description": "The screening", "content": {"application/json": {"schema": SCREENING}}}},
)
async def screen(request: Request, _: AnalystKey) -> Response:
    """The same contract as `chipgate screen --json`. A 200 whether or not there are hits:
    `hits` is empty when the name is clear."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InputError("", 'expected a JSON object such as {"name": "Sugon", "country": "CN"}')
    for key in body:
        if key not in REQUEST_KEYS:
            raise InputError(str(key), f"unknown field; allowed: {', '.join(REQUEST_KEYS)}")
    if "name" not in body:
        raise InputError("name", "is required: the party's name")
    result = screen_with(
        body["name"],
        body.get("country"),
        identifiers=body.get("identifiers", ()),
        lists=services(request).rulebook.restricted_parties,
        list_codes=body.get("lists"),
        fields=HTTP_FIELDS,
    )
    return respond(result.to_dict())
