"""A seeded generator of realistic mixed order books in the flattened batch contract.

    python benchmarks/gen_orders.py 1000000 orders.parquet [--seed 7]

Customers buy a few chips for a few end uses, as real books do, so a million lines hold a
few thousand distinct decision keys. Destinations span China, Macau, Hong Kong, Singapore,
the Gulf, Vietnam, India, Europe and the US; kinds span exports, reexports, in-country
transfers and US imports; dates span 2022-2026; a few buyers are on restricted-party lists.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

# (name, located in, headquartered in): the consignee of an order.
CUSTOMERS: tuple[tuple[str, str, str | None], ...] = (
    ("Alibaba Cloud", "CN", None),
    ("Tencent Cloud", "CN", None),
    ("Baidu AI Cloud", "CN", None),
    ("ByteDance Pte. Ltd.", "SG", "CN"),
    ("Kuaishou Technology", "CN", None),
    ("DeepSeek", "CN", None),
    ("Huawei Technologies Co., Ltd.", "CN", None),
    ("Sugon", "CN", None),
    ("Inspur Group", "CN", None),
    ("Biren Technology", "CN", None),
    ("Macau Data Centre Ltd", "MO", None),
    ("Pearl River Compute (Macau)", "MO", "CN"),
    ("Kowloon GPU Cloud Ltd", "HK", None),
    ("Victoria Harbour AI Ltd", "HK", "CN"),
    ("Singtel Digital InfraCo", "SG", None),
    ("Lion City Compute Pte Ltd", "SG", "CN"),
    ("Equinix Singapore", "SG", "US"),
    ("G42", "AE", None),
    ("Khazna Data Centers", "AE", None),
    ("Humain", "SA", None),
    ("Viettel IDC", "VN", None),
    ("FPT Smart Cloud", "VN", None),
    ("Hanoi AI Park JSC", "VN", "CN"),
    ("Reliance Jio Infocomm", "IN", None),
    ("Yotta Data Services", "IN", None),
    ("Deutsche Telekom IoT", "DE", None),
    ("Schwarz Digits", "DE", None),
    ("Mistral AI", "FR", None),
    ("Nebius B.V.", "NL", None),
    ("Microsoft Azure", "US", None),
    ("CoreWeave", "US", None),
    ("Lambda Labs", "US", None),
    ("Oracle Cloud", "US", None),
    ("Sakura Internet", "JP", None),
    ("Naver Cloud", "KR", None),
    ("Malaysia AI Hub Sdn Bhd", "MY", None),
    ("Tashkent Compute LLC", "UZ", None),
    ("Almaty Cloud LLP", "KZ", None),
)
CHIPS = (
    "nvidia-h100-sxm",
    "nvidia-h200-sxm",
    "nvidia-h20",
    "nvidia-b200",
    "nvidia-gb200",
    "nvidia-a100-sxm",
    "nvidia-a800-sxm",
    "nvidia-h800-sxm",
    "nvidia-l40s",
    "nvidia-l20",
    "nvidia-rtx-4090",
    "nvidia-rtx-4090d",
    "nvidia-rtx-pro-6000d",
    "amd-mi300x",
    "amd-mi308x",
    "amd-mi350x",
    "intel-gaudi3",
    "huawei-ascend-910c",
    "google-tpu-v6e",
)
END_USES = ("datacenter", "datacenter", "datacenter", "research", "testing", "us_datacenter", "military", "startup")
EXPORTERS = ("NVIDIA Corporation", "Advanced Micro Devices", "Supermicro", "Dell Technologies", "Arrow Electronics")
IMPORT_ORIGINS = ("TW", "KR", "MY", "MX")
REEXPORT_ORIGINS = ("SG", "TW", "MY", "NL")
# A datasheet given instead of a catalogue id (a custom part), on a few lines.
SPECS = (
    {
        "item_spec_name": "custom accelerator A",
        "item_spec_dense_fp16": 450.0,
        "item_spec_die_area_mm2": 700.0,
        "item_spec_dram_bandwidth_gbs": 3300.0,
        "item_spec_interconnect_gbs": 600.0,
        "item_spec_datacenter": True,
    },
    {
        "item_spec_name": "custom accelerator B",
        "item_spec_dense_fp8": 600.0,
        "item_spec_die_area_mm2": 500.0,
        "item_spec_dram_bandwidth_gbs": 4800.0,
        "item_spec_interconnect_gbs": 900.0,
        "item_spec_datacenter": True,
    },
    {
        "item_spec_name": "workstation card C",
        "item_spec_dense_fp16": 160.0,
        "item_spec_die_area_mm2": 600.0,
        "item_spec_dram_bandwidth_gbs": 1000.0,
        "item_spec_interconnect_gbs": 64.0,
        "item_spec_datacenter": False,
    },
)
START = dt.date(2022, 1, 1)
END = dt.date(2026, 12, 31)


def templates(rng: np.random.Generator) -> list[dict[str, object]]:
    """The lines a book repeats: each customer buys a few chips for a few end uses."""
    out: list[dict[str, object]] = []
    for name, country, hq in CUSTOMERS:
        for _ in range(int(rng.integers(2, 6))):
            line: dict[str, object] = {
                "consignee_name": name,
                "consignee_country": country,
                "consignee_headquarters_country": hq,
                "end_use": END_USES[int(rng.integers(len(END_USES)))],
                "exporter": EXPORTERS[int(rng.integers(len(EXPORTERS)))],
            }
            roll = rng.random()
            if roll < 0.62:
                line.update(kind="export", from_country="US", to_country=country)
            elif roll < 0.80:
                line.update(kind="reexport", from_country=REEXPORT_ORIGINS[int(rng.integers(4))], to_country=country)
            elif roll < 0.85:
                line.update(kind="in_country_transfer", from_country=country, to_country=country)
            else:
                # Imports into the US for a US buyer's use (Section 232 applies here).
                line.update(
                    kind="import",
                    from_country=IMPORT_ORIGINS[int(rng.integers(4))],
                    to_country="US",
                    consignee_name="CoreWeave" if country != "US" else name,
                    consignee_country="US",
                    consignee_headquarters_country=None,
                )
            if rng.random() < 0.03:
                line.update(SPECS[int(rng.integers(len(SPECS)))])
            else:
                line["item_chip"] = CHIPS[int(rng.integers(len(CHIPS)))]
            out.append(line)
    return out


def generate(rows: int, seed: int = 7, chunk_rows: int = 1_000_000) -> Iterator[pl.DataFrame]:
    """The book in chunks of `chunk_rows` (so ten million lines never sit in memory at once)."""
    rng = np.random.default_rng(seed)
    lines = templates(rng)
    frame = pl.DataFrame(lines, infer_schema_length=None)
    for name in ("item_chip", *sorted({k for s in SPECS for k in s})):
        kind = pl.String if name in ("item_chip", "item_spec_name") else pl.Float64
        kind = pl.Boolean if name == "item_spec_datacenter" else kind
        frame = frame.with_columns((frame[name] if name in frame.columns else pl.lit(None)).cast(kind).alias(name))
    # A few customers order most: Zipf-like weights over the lines.
    weights = 1.0 / np.arange(1, len(lines) + 1) ** 0.8
    weights /= weights.sum()
    first = ["id", "date", "kind", "from_country", "to_country", "item_chip", "quantity", "unit_value_usd"]
    for start in range(0, rows, chunk_rows):
        size = min(chunk_rows, rows - start)
        pick = rng.choice(len(lines), size=size, p=weights)
        days = rng.integers(0, (END - START).days + 1, size=size)
        book = frame[pick].with_columns(
            pl.concat_str([pl.lit("ORD-"), (pl.int_range(pl.len()) + start).cast(pl.String).str.zfill(8)]).alias("id"),
            (pl.lit(START) + pl.duration(days=pl.Series(days))).alias("date"),
            pl.Series("quantity", rng.integers(1, 2001, size=size)),
            pl.Series("unit_value_usd", np.round(rng.uniform(800, 42000, size=size), 2)),
        )
        yield book.select(first + [c for c in book.columns if c not in first])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rows", type=int)
    parser.add_argument("output", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    write(generate(args.rows, args.seed), args.output)


def write(chunks: Iterator[pl.DataFrame], path: Path) -> None:
    """Parquet (row groups of 262,144 lines), CSV or JSON Lines by the file's extension."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        writer: pq.ParquetWriter | None = None
        for chunk in chunks:
            table = chunk.to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=262_144)
        if writer is not None:
            writer.close()
        return
    with path.open("wb") as fh:
        for i, chunk in enumerate(chunks):
            if suffix == ".csv":
                chunk.write_csv(fh, include_header=i == 0)
            else:
                chunk.write_ndjson(fh)


if __name__ == "__main__":
    main()
