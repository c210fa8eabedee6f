"""The list files under tests/fixtures/lists, as their publishers ship them, and what they hold."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lists"
# 13 real rows of trade.gov's Consolidated Screening List, as published (CSV) and as its API answers (JSON).
CSL_CSV = FIXTURES / "csl_schema_sample_13rows.csv"
CSL_JSON = FIXTURES / "csl_schema_sample_13rows.json"
# FollowTheMoney entities in OpenSanctions' export layout, names and ids invented.
FTM = FIXTURES / "opensanctions_sample.ftm.json"

# Entries per chipgate list code in the CSL sample.
CSL_SAMPLE_LISTS = {
    "DPL": 1,
    "DTC": 1,
    "EL": 1,
    "FSE": 1,
    "ISN": 1,
    "MEU": 1,
    "PLC": 2,
    "SDN": 1,
    "SSI": 3,
    "UVL": 1,
}
