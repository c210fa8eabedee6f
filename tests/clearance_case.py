"""The case the clearance tests clear, in the shipped list snapshot: "Huawei Cloud" is a
possible match of the Entity List entry "Huawei Cloud Beijing", and an H200 export to it in
Germany needs nothing but the clearance of that one hit."""

from __future__ import annotations

from typing import Any

PARTY = "Huawei Cloud"
RECORD = "rpl-694b14f0ecdda36bcf08"  # Entity List: Huawei Cloud Beijing
SHIPMENT: dict[str, Any] = {
    "date": "2026-03-02",
    "kind": "export",
    "from_country": "US",
    "to_country": "DE",
    "item": {"chip": "nvidia-h200-sxm"},
    "quantity": 100,
    "unit_value_usd": 27000,
    "exporter": "NVIDIA",
    "consignee": {"name": PARTY, "country": "DE"},
}
