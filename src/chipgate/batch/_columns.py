"""The flattened batch contract: input columns, decision-key columns and output columns."""

from __future__ import annotations

import pyarrow as pa

from chipgate.model import BIT_LENGTH

PARTY_ROLES = ("consignee", "end_user")
PARTY_FIELDS = ("name", "country", "headquarters_country", "parent_headquarters_country")
SPEC_NUMBERS = ("die_area_mm2", "dram_bandwidth_gbs", "interconnect_gbs")
DENSE_PREFIX = "item_spec_dense_"

DENSE_COLUMNS = tuple(f"{DENSE_PREFIX}{precision}" for precision in BIT_LENGTH)
SPEC_NUMBER_COLUMNS = DENSE_COLUMNS + tuple(f"item_spec_{name}" for name in SPEC_NUMBERS)
PARTY_COLUMNS = tuple(f"{role}_{field}" for role in PARTY_ROLES for field in PARTY_FIELDS)

# The columns a decision reads apart from the date (read only through its rule epoch),
# the quantity and the unit value (read only by the duty amount). Rows equal on these
# decide alike, so each distinct combination is decided once.
KEY_STRING_COLUMNS = (
    "kind",
    "from_country",
    "to_country",
    "item_chip",
    "item_spec_name",
    *PARTY_COLUMNS,
    "end_use",
)
KEY_COLUMNS = (*KEY_STRING_COLUMNS, *SPEC_NUMBER_COLUMNS, "item_spec_datacenter")

# Text columns of the contract that are not part of the key: validated, then carried.
OTHER_STRING_COLUMNS = ("exporter",)
INPUT_COLUMNS = ("date", *KEY_COLUMNS, "quantity", "unit_value_usd", *OTHER_STRING_COLUMNS)

MONEY = pa.decimal128(38, 6)

# What the batch adds to each row, in this order, with its Arrow type.
OUTPUT_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("as_of", pa.date32()),
    ("outcome", pa.string()),
    ("eccn", pa.string()),
    ("tpp", pa.float64()),
    ("license_required", pa.bool_()),
    ("review_policy", pa.string()),
    ("license_conditions", pa.string()),
    ("china_approval_required", pa.bool_()),
    ("duty_tariff", pa.string()),
    ("duty_rate", MONEY),
    ("duty_amount_usd", MONEY),
    ("restricted_party_hits", pa.string()),
    ("reasons", pa.string()),
    ("rulebook_version", pa.string()),
    ("error", pa.string()),
)
LEDGER_FIELDS: tuple[tuple[str, pa.DataType], ...] = (
    ("covered_by", pa.string()),
    ("missing", pa.string()),
)
OUTPUT_COLUMNS = tuple(name for name, _ in OUTPUT_FIELDS)
ADDED_COLUMNS = frozenset(OUTPUT_COLUMNS) | {name for name, _ in LEDGER_FIELDS}

# Lists inside one cell (reasons, conditions, party hits) are joined with this.
LIST_SEPARATOR = "; "
# Parts inside one list element (rule|citation|effective_from).
PART_SEPARATOR = "|"


def column_for_field(field: str) -> str:
    """The batch column a JSON-contract field path lives in: 'consignee.country' -> 'consignee_country'."""
    if field.startswith("item.spec.dense_tops."):
        return DENSE_PREFIX + field.removeprefix("item.spec.dense_tops.")
    if field == "item.spec.dense_tops":
        return DENSE_PREFIX + "<precision>"
    return field.replace(".", "_")
