"""Build the packaged chip catalogue (src/chipgate/data/chips.csv) from the research table.

Usage: python tools/build_catalogue.py [../shared/domain/chips.csv]

The research table holds one row per chip with dense per-precision figures and sources.
This script gives each row a stable id and its common names, keeps every figure and
source, and appends the chips in tools/catalogue_extra.csv (chips the research notes
discuss whose figures come from their own datasheets).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "domain" / "chips.csv"
EXTRA = ROOT / "tools" / "catalogue_extra.csv"
OUT = ROOT / "src" / "chipgate" / "data" / "chips.csv"
# The research table's own classification of each chip under the 2023 rule, computed by its
# generator independently of chipgate: the catalogue tests compare chipgate against it.
EXPECTED = ROOT / "tests" / "fixtures" / "catalogue_expected_2023.csv"
# Classes stated in the research notes (chips.md) for the chips added from catalogue_extra.csv.
EXTRA_EXPECTED = {
    "nvidia-h200-nvl": "3A090.a",
    "nvidia-l40": "3A090.b",
    "nvidia-l4": "3A090.a",
    "nvidia-rtx-4090d": "none",
    "amd-mi250x": "3A090.a",
}


def research_class(text: str) -> str:
    """The research table's verdict as an ECCN, 'none', or 'indeterminate' (figures missing)."""
    if text.startswith("3A090.a"):
        return "3A090.a"
    if text.startswith("3A090.b"):
        return "3A090.b"
    if text.startswith("not 3A090"):
        return "none"
    return "indeterminate"


# (vendor, model, variant) -> (id, common names that must resolve to this chip)
IDS: dict[tuple[str, str, str], tuple[str, list[str]]] = {
    ("NVIDIA", "A100", "SXM4 80GB"): ("nvidia-a100-sxm", ["A100", "A100 SXM", "A100 SXM4"]),
    ("NVIDIA", "A100", "PCIe 80GB"): ("nvidia-a100-pcie", ["A100 PCIe"]),
    ("NVIDIA", "A800", "SXM4 80GB"): ("nvidia-a800-sxm", ["A800", "A800 SXM", "A800 SXM4"]),
    ("NVIDIA", "A800", "PCIe 80GB"): ("nvidia-a800-pcie", ["A800 PCIe"]),
    ("NVIDIA", "H100", "SXM5 80GB"): ("nvidia-h100-sxm", ["H100", "H100 SXM", "H100 SXM5"]),
    ("NVIDIA", "H100", "PCIe 80GB"): ("nvidia-h100-pcie", ["H100 PCIe"]),
    ("NVIDIA", "H100 NVL", "PCIe dual-card 94GB (per GPU)"): ("nvidia-h100-nvl", ["H100 NVL"]),
    ("NVIDIA", "H800", "SXM5 80GB"): ("nvidia-h800-sxm", ["H800", "H800 SXM", "H800 SXM5"]),
    ("NVIDIA", "H800", "PCIe 80GB"): ("nvidia-h800-pcie", ["H800 PCIe"]),
    ("NVIDIA", "H20", "HGX/SXM 96GB"): ("nvidia-h20", ["H20", "HGX H20"]),
    ("NVIDIA", "H200", "SXM 141GB"): ("nvidia-h200-sxm", ["H200", "H200 SXM", "HGX H200"]),
    ("NVIDIA", "B200", "HGX/SXM (per GPU)"): ("nvidia-b200", ["B200", "HGX B200"]),
    ("NVIDIA", "GB200", "per Blackwell GPU in GB200 superchip"): ("nvidia-gb200", ["GB200"]),
    ("NVIDIA", "B300 (Blackwell Ultra)", "HGX (per GPU)"): ("nvidia-b300", ["B300", "Blackwell Ultra"]),
    ("NVIDIA", "GB300 (Blackwell Ultra)", "per GPU in GB300 superchip"): ("nvidia-gb300", ["GB300"]),
    ("NVIDIA", "B30A", "reported China Blackwell (single die)"): ("nvidia-b30a", ["B30A"]),
    ("NVIDIA", "GeForce RTX 4090", "consumer PCIe"): ("nvidia-rtx-4090", ["RTX 4090", "GeForce RTX 4090", "4090"]),
    ("NVIDIA", "GeForce RTX 5090", "consumer PCIe"): ("nvidia-rtx-5090", ["RTX 5090", "GeForce RTX 5090", "5090"]),
    ("NVIDIA", "GeForce RTX 5090D", "consumer PCIe (China, V1 32GB)"): ("nvidia-rtx-5090d", ["RTX 5090D V1"]),
    ("NVIDIA", "GeForce RTX 5090D V2", "consumer PCIe (China, 24GB)"): ("nvidia-rtx-5090d-v2", ["RTX 5090D V2"]),
    ("NVIDIA", "RTX PRO 6000 Blackwell", "Server Edition / Workstation"): (
        "nvidia-rtx-pro-6000",
        ["RTX PRO 6000", "RTX Pro 6000 Blackwell"],
    ),
    ("NVIDIA", "RTX 6000D (RTX PRO 6000D)", "China SKU"): ("nvidia-rtx-pro-6000d", ["RTX 6000D", "RTX PRO 6000D"]),
    ("NVIDIA", "L40S", "PCIe"): ("nvidia-l40s", ["L40S"]),
    ("NVIDIA", "L20", "PCIe (China)"): ("nvidia-l20", ["L20"]),
    ("NVIDIA", "L2", "PCIe (China)"): ("nvidia-l2", ["L2"]),
    ("NVIDIA", "Rubin (VR200 GPU)", "per GPU in Vera Rubin NVL72 (announced)"): (
        "nvidia-rubin",
        ["Rubin", "VR200", "Vera Rubin"],
    ),
    ("AMD", "Instinct MI300X", "OAM"): ("amd-mi300x", ["MI300X", "Instinct MI300X"]),
    ("AMD", "Instinct MI308X", "OAM (China)"): ("amd-mi308x", ["MI308X", "MI308", "Instinct MI308X"]),
    ("AMD", "Instinct MI309", "China SKU (unreleased)"): ("amd-mi309", ["MI309", "Instinct MI309"]),
    ("AMD", "Instinct MI325X", "OAM"): ("amd-mi325x", ["MI325X", "Instinct MI325X"]),
    ("AMD", "Instinct MI350X", "OAM (air)"): ("amd-mi350x", ["MI350X", "Instinct MI350X"]),
    ("AMD", "Instinct MI355X", "OAM (liquid)"): ("amd-mi355x", ["MI355X", "Instinct MI355X"]),
    ("Intel", "Gaudi 2 (China)", "HL-225B"): ("intel-gaudi2-hl-225b", ["Gaudi 2 HL-225B", "HL-225B"]),
    ("Intel", "Gaudi 3", "OAM HL-325L"): ("intel-gaudi3", ["Gaudi 3", "Gaudi3", "HL-325L"]),
    ("Intel", "Gaudi 3 (China)", "HL-328 OAM / HL-388 PCIe"): (
        "intel-gaudi3-hl-328",
        ["HL-328", "HL-388", "Gaudi 3 China"],
    ),
    ("Huawei", "Ascend 910B", "910B2-class (Atlas A2)"): ("huawei-ascend-910b", ["Ascend 910B", "910B"]),
    ("Huawei", "Ascend 910C", "dual-die package (Atlas A3)"): ("huawei-ascend-910c", ["Ascend 910C", "910C"]),
    ("Huawei", "Ascend 950PR", "Atlas 350 card"): ("huawei-ascend-950pr", ["Ascend 950PR", "950PR", "Atlas 350"]),
    ("Huawei", "Ascend 950DT", "chip (planned Q4-2026)"): ("huawei-ascend-950dt", ["Ascend 950DT", "950DT"]),
    ("Cambricon", "MLU370-X8", "PCIe card (2 x MLU370 chips)"): ("cambricon-mlu370-x8", ["MLU370-X8", "MLU370"]),
    ("Cambricon", "MLU590 (Siyuan 590)", "accelerator"): ("cambricon-mlu590", ["MLU590", "Siyuan 590"]),
    ("Google", "TPU v5p", "chip"): ("google-tpu-v5p", ["TPU v5p"]),
    ("Google", "TPU v6e (Trillium)", "chip"): ("google-tpu-v6e", ["TPU v6e", "Trillium"]),
    ("Google", "TPU7x (Ironwood)", "chip"): ("google-tpu7x", ["TPU7x", "Ironwood", "TPU v7"]),
}

# Cards whose only chip-to-chip link is the host interface: the research table leaves the
# interconnect blank, but the 2022 rule's test reads the aggregate bidirectional transfer
# rate over all inputs and outputs, which for them is the PCIe link (x16, both directions).
HOST_LINK_GBS = {"PCIe 4.0 x16": "64", "PCIe 5.0 x16": "128"}
HOST_INTERFACE = {
    "nvidia-rtx-4090": "PCIe 4.0 x16",
    "nvidia-rtx-5090": "PCIe 5.0 x16",
    "nvidia-rtx-5090d": "PCIe 5.0 x16",
    "nvidia-rtx-5090d-v2": "PCIe 5.0 x16",
    "nvidia-rtx-pro-6000": "PCIe 5.0 x16",
    "nvidia-l20": "PCIe 4.0 x16",
    "nvidia-l2": "PCIe 4.0 x16",
}

COLUMNS = [
    "id",
    "vendor",
    "model",
    "variant",
    "aliases",
    "release_year",
    "datacenter",
    "fp64",
    "tf32",
    "fp16",
    "bf16",
    "fp8",
    "int8",
    "fp6",
    "fp4",
    "int4",
    "die_area_mm2",
    "die_area_basis",
    "dram_bandwidth_gbs",
    "interconnect_gbs",
    "memory_gb",
    "confidence",
    "reported_classification",
    "notes",
    "sources",
]


def from_research_row(row: dict[str, str]) -> dict[str, str]:
    key = (row["vendor"], row["model"], row["variant"])
    if key not in IDS:
        raise SystemExit(f"no id for catalogue row {key}; add it to IDS in {__file__}")
    chip_id, aliases = IDS[key]
    interconnect = row["interconnect_gbs"]
    notes = [row["notes"], row["tpp_alternative"] and f"Alternative TPP: {row['tpp_alternative']}."]
    if not interconnect and chip_id in HOST_INTERFACE:
        interconnect = HOST_LINK_GBS[HOST_INTERFACE[chip_id]]
        notes.append(f"Interconnect: host link only, {HOST_INTERFACE[chip_id]} ({interconnect} GB/s bidirectional).")
    return {
        "id": chip_id,
        "vendor": row["vendor"],
        "model": row["model"],
        "variant": row["variant"],
        "aliases": ";".join(aliases),
        "release_year": row["release_year"],
        "datacenter": {"Y": "true", "N": "false"}[row["designed_for_datacenter"]],
        "fp64": row["fp64_tflops"],
        "tf32": row["tf32_tflops"],
        # The research table quotes FP16 and BF16 together; both run at that rate.
        "fp16": row["fp16_bf16_tflops"],
        "bf16": row["fp16_bf16_tflops"],
        "fp8": row["fp8_tflops"],
        "int8": row["int8_tops"],
        "fp6": row["fp6_tflops"],
        "fp4": row["fp4_tflops"],
        "int4": "",
        "die_area_mm2": row["die_area_mm2"],
        "die_area_basis": row["die_area_basis"],
        "dram_bandwidth_gbs": row["memory_bw_gbs"],
        "interconnect_gbs": interconnect,
        "memory_gb": row["memory_gb"],
        "confidence": row["confidence"],
        "reported_classification": row["reported_classification"],
        "notes": " ".join(filter(None, notes)),
        "sources": row["sources"],
    }


def main(argv: list[str]) -> None:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    with source.open(newline="", encoding="utf-8") as fh:
        research = list(csv.DictReader(fh))
    rows = [from_research_row(r) for r in research]
    expected = [
        (row["id"], research_class(r["computed_3a090_parameters"])) for row, r in zip(rows, research, strict=True)
    ]
    expected += list(EXTRA_EXPECTED.items())
    with EXTRA.open(newline="", encoding="utf-8") as fh:
        rows += [{c: r.get(c, "") for c in COLUMNS} for r in csv.DictReader(fh)]
    ids = [r["id"] for r in rows]
    if len(ids) != len(set(ids)):
        raise SystemExit("duplicate chip ids")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    EXPECTED.parent.mkdir(parents=True, exist_ok=True)
    with EXPECTED.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["id", "expected_class_2023"])
        writer.writerows(expected)
    print(
        f"wrote {len(rows)} chips to {OUT.relative_to(ROOT)} and their expected classes to {EXPECTED.relative_to(ROOT)}"
    )


if __name__ == "__main__":
    main(sys.argv)
