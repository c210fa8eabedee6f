"""The packaged chip catalogue: ids, common names, sources, and lookup errors."""

from __future__ import annotations

import pytest

from chipgate.errors import UnknownChipError
from chipgate.rulebook import Rulebook

REQUIRED_IDS = [
    "nvidia-h200-sxm",
    "nvidia-h100-sxm",
    "nvidia-h20",
    "nvidia-l20",
    "nvidia-rtx-4090",
    "nvidia-b200",
    "nvidia-a800-sxm",
    "nvidia-a100-sxm",
    "amd-mi325x",
]


def test_required_chips_are_catalogued_with_sources(rulebook: Rulebook) -> None:
    for chip_id in REQUIRED_IDS:
        chip = rulebook.catalogue.get(chip_id)
        assert chip is not None, chip_id
        assert chip.sources, f"{chip_id} keeps its sources"
        assert chip.spec.dense_tops, f"{chip_id} keeps its per-precision figures"


def test_ids_are_lowercase_vendor_slugs(rulebook: Rulebook) -> None:
    for chip in rulebook.catalogue:
        assert chip.id == chip.id.lower()
        assert chip.id.startswith(chip.vendor.lower() + "-"), chip.id


@pytest.mark.parametrize(
    ("name", "chip_id"),
    [
        ("H200", "nvidia-h200-sxm"),
        ("H200 SXM", "nvidia-h200-sxm"),
        ("h200 sxm", "nvidia-h200-sxm"),
        ("MI325X", "amd-mi325x"),
        ("RTX 4090", "nvidia-rtx-4090"),
        ("nvidia-h20", "nvidia-h20"),
        ("H20", "nvidia-h20"),
    ],
)
def test_common_names_resolve_case_insensitively(rulebook: Rulebook, name: str, chip_id: str) -> None:
    assert rulebook.catalogue.resolve(name).id == chip_id


def test_unknown_name_lists_closest_ids(rulebook: Rulebook) -> None:
    with pytest.raises(UnknownChipError) as info:
        rulebook.catalogue.resolve("H2000")
    assert not info.value.ambiguous
    assert "nvidia-h200-sxm" in info.value.candidates


def test_ambiguous_name_is_an_error_listing_the_candidates(rulebook: Rulebook) -> None:
    with pytest.raises(UnknownChipError) as info:
        rulebook.catalogue.resolve("NVIDIA A100")
    assert info.value.ambiguous
    assert set(info.value.candidates) == {"nvidia-a100-sxm", "nvidia-a100-pcie"}
