"""JSON Schemas of the request bodies, for the OpenAPI document.

The service parses bodies with chipgate's own parsers (`chipgate.inputs`,
`Authorization.from_dict`) so the HTTP contract is the CLI's, errors and all; these
schemas describe that contract for readers and generated clients.
"""

from __future__ import annotations

from typing import Any

from chipgate.ledger.model import AUTHORIZATION_KINDS, BASES
from chipgate.model import BIT_LENGTH, END_USES, SHIPMENT_KINDS

_COUNTRY: dict[str, Any] = {"type": "string", "description": "ISO 3166-1 alpha-2 code, e.g. US, CN, MO"}
_DATE: dict[str, Any] = {"type": "string", "format": "date"}

SPEC: dict[str, Any] = {
    "type": "object",
    "description": "Datasheet facts of a chip (the classify contract). Only dense_tops is required.",
    "required": ["dense_tops"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "dense_tops": {
            "type": "object",
            "description": "Dense (non-sparse) throughput in TOPS (TFLOPS) per precision.",
            "properties": {p: {"type": "number", "minimum": 0} for p in BIT_LENGTH},
            "additionalProperties": False,
            "minProperties": 1,
        },
        "die_area_mm2": {"type": "number", "exclusiveMinimum": 0},
        "dram_bandwidth_gbs": {"type": "number", "minimum": 0},
        "interconnect_gbs": {"type": "number", "minimum": 0},
        "datacenter": {"type": "boolean", "default": True},
    },
    "example": {"name": "H200 SXM", "dense_tops": {"fp8": 1979}, "die_area_mm2": 814, "dram_bandwidth_gbs": 4800},
}

PARTY: dict[str, Any] = {
    "type": "object",
    "required": ["name", "country"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "country": _COUNTRY,
        "headquarters_country": _COUNTRY,
        "parent_headquarters_country": _COUNTRY,
        "identifiers": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}

SHIPMENT_EXAMPLE: dict[str, Any] = {
    "date": "2026-03-02",
    "kind": "export",
    "from_country": "US",
    "to_country": "CN",
    "item": {"chip": "nvidia-h200-sxm"},
    "quantity": 1000,
    "unit_value_usd": 27000,
    "exporter": "NVIDIA",
    "consignee": {"name": "Alibaba Cloud", "country": "CN"},
}

SHIPMENT: dict[str, Any] = {
    "type": "object",
    "description": "One transaction (the decide contract, docs/decide.md).",
    "required": ["date", "kind", "to_country", "item", "quantity", "consignee"],
    "additionalProperties": False,
    "properties": {
        "date": _DATE,
        "kind": {"type": "string", "enum": list(SHIPMENT_KINDS)},
        "from_country": _COUNTRY,
        "to_country": _COUNTRY,
        "item": {
            "type": "object",
            "description": 'Exactly one of {"chip": ID} or {"spec": {...}}.',
            "properties": {"chip": {"type": "string", "minLength": 1}, "spec": SPEC},
            "additionalProperties": False,
            "minProperties": 1,
            "maxProperties": 1,
        },
        "quantity": {"type": "integer", "minimum": 1},
        "unit_value_usd": {"type": "number", "minimum": 0},
        "consignee": PARTY,
        "end_user": PARTY,
        "end_use": {"type": "string", "enum": list(END_USES), "default": "datacenter"},
        "exporter": {"type": "string", "minLength": 1},
    },
    "example": SHIPMENT_EXAMPLE,
}

_TEXTS: dict[str, Any] = {"type": "array", "items": {"type": "string", "minLength": 1}}

AUTHORIZATION: dict[str, Any] = {
    "type": "object",
    "description": "An authorisation on file (chipgate.ledger.Authorization); which fields apply depends on kind.",
    "required": ["id", "kind"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "kind": {"type": "string", "enum": list(AUTHORIZATION_KINDS)},
        "products": _TEXTS,
        "quantity": {"type": "integer", "minimum": 0},
        "value_usd": {"type": "number", "minimum": 0},
        "licensee": {"type": "string"},
        "exporter": {"type": "string"},
        "company": {"type": "string"},
        "consignees": _TEXTS,
        "end_users": _TEXTS,
        "holders": _TEXTS,
        "sub_limits": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
        "valid_from": _DATE,
        "valid_until": _DATE,
        "status": {"type": "string", "enum": ["conditional", "final"]},
        "conditions": _TEXTS,
        "reference": {"type": "string"},
        "issuer": {"type": "string"},
        "planned_capacity": {"type": "integer", "minimum": 0},
        "plant_status": {"type": "string", "enum": ["construction", "completed"]},
        "plant_status_on": _DATE,
        "basis": {"type": "string", "enum": list(BASES)},
        "note": {"type": "string"},
    },
    "example": {
        "id": "us-lic-nvidia-tencent-2026",
        "kind": "us_export_license",
        "licensee": "NVIDIA",
        "consignees": ["Tencent"],
        "products": ["nvidia-h200-sxm"],
        "quantity": 20000,
        "valid_from": "2026-02-01",
        "valid_until": "2027-01-31",
        "basis": "assumption",
    },
}

AMENDMENT: dict[str, Any] = {
    "type": "object",
    "description": "The fields to change; the others keep their values. id and kind cannot change.",
    "properties": {k: v for k, v in AUTHORIZATION["properties"].items() if k not in ("id", "kind")},
    "additionalProperties": False,
    "example": {"quantity": 25000},
}

REVOCATION: dict[str, Any] = {
    "type": "object",
    "properties": {"reason": {"type": "string"}},
    "additionalProperties": False,
    "example": {"reason": "licence withdrawn"},
}

RESERVATION: dict[str, Any] = {
    "type": "object",
    "description": "Hold a shipment's units on every authorisation that covers it, or on none.",
    "required": ["key", "shipment"],
    "additionalProperties": False,
    "properties": {
        "key": {
            "type": "string",
            "minLength": 1,
            "description": "Idempotency key: a retry with the same key and shipment returns the first result.",
        },
        "shipment": SHIPMENT,
        "using": {**_TEXTS, "description": "Only draw on these authorisation ids."},
        "as_of": {**_DATE, "description": "Decide under the rules of this date instead of the shipment's."},
    },
    "example": {"key": "order-4711", "shipment": SHIPMENT_EXAMPLE},
}

CLEARANCE: dict[str, Any] = {
    "type": "object",
    "description": (
        "An analyst's finding that a party is not the restricted-party list entry it possibly matched."
        " It clears possible matches of that party to that entry until the entry changes or it is withdrawn."
    ),
    "required": ["party", "record_id", "reason"],
    "additionalProperties": False,
    "properties": {
        "party": {"type": "string", "minLength": 1, "description": "The party name as screened."},
        "record_id": {"type": "string", "minLength": 1, "description": "The list entry's record id."},
        "entry_fingerprint": {
            "type": "string",
            "minLength": 1,
            "description": "The entry version cleared (a hit's entry_fingerprint); default: the entry as it is"
            " in the list in use.",
        },
        "list_code": {
            "type": "string",
            "minLength": 1,
            "description": "The entry's list code; needed only when the entry is not in the list in use.",
        },
        "reason": {"type": "string", "minLength": 1, "description": "Why the party is not that entry."},
    },
    "example": {
        "party": "Dahua Garment Co., Ltd.",
        "record_id": "rpl-cbc119ede19e1431ba2a",
        "reason": "Garment maker in Guangzhou; its USCC differs from Dahua Technology's",
    },
}

CLEARANCE_REVOCATION: dict[str, Any] = {
    "type": "object",
    "required": ["reason"],
    "properties": {"reason": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
    "example": {"reason": "the USCC was misread"},
}

KEY: dict[str, Any] = {
    "type": "object",
    "required": ["name", "role"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "role": {"type": "string", "enum": ["analyst", "officer", "admin"]},
    },
    "example": {"name": "erp-integration", "role": "officer"},
}


def body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    """`openapi_extra` for an operation whose JSON body follows `schema`."""
    return {"requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}}
