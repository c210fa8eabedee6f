"""Speed of the pure core: classifying one chip and deciding one shipment, in process.

    python benchmarks/bench_core.py [--shipments 100000] [--seed 7]

Prints median and p99 per call for:
  classify   a catalogue chip on a random date (cached per rule epoch) and a datasheet spec
  decide     100,000 mixed shipments (chips, destinations, kinds, dates 2022-2026, parties)
and, as the baseline measured in the same run, parsing the same shipments from their JSON
contract form (what any caller pays before chipgate decides anything).
Targets (issue 2 and 3): classification invisible; decide median under 50 microseconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from chipgate import classify, parse_shipment
from chipgate.decide import decide
from chipgate.model import ChipSpec, Shipment
from chipgate.rulebook import default_rulebook

DESTINATIONS = ["CN", "CN", "CN", "MO", "HK", "SG", "AE", "VN", "US", "DE", "IN", "MY", "RU", "IL", "JP"]
KINDS = ["export"] * 6 + ["reexport", "in_country_transfer", "import"]
END_USES = ["datacenter"] * 6 + ["research", "military", "testing", "us_datacenter", "consumer"]
NAMES = [
    "Alibaba Cloud Co., Ltd.",
    "Beijing ByteDance Technology Co., Ltd.",
    "Tencent Cloud Computing (Beijing) Co., Ltd.",
    "Example Cloud Singapore Pte Ltd",
    "Frankfurt Rechenzentrum GmbH",
    "Gulf AI LLC",
    "Hanoi Cloud JSC",
    "Huawei Technologies Co., Ltd.",
    "Sugon",
    "Santa Clara Labs Inc",
    "DeepSeek",
    "KL Compute Sdn Bhd",
]


def generate_shipments(count: int, seed: int) -> list[dict[str, Any]]:
    """Seeded mixed shipments in the JSON contract form."""
    rng = random.Random(seed)
    chips = [c.id for c in default_rulebook().catalogue if c.spec.dense_tops]
    start = dt.date(2022, 1, 1).toordinal()
    span = dt.date(2026, 11, 30).toordinal() - start
    out = []
    for _ in range(count):
        to = rng.choice(DESTINATIONS)
        kind = rng.choice(KINDS)
        hq = rng.choice([to, to, to, "CN", "US"])
        out.append(
            {
                "date": dt.date.fromordinal(start + rng.randrange(span)).isoformat(),
                "kind": kind,
                "from_country": to if kind == "in_country_transfer" else rng.choice(["US", "US", "TW", "SG"]),
                "to_country": "US" if kind == "import" and rng.random() < 0.5 else to,
                "item": {"chip": rng.choice(chips)},
                "quantity": rng.randint(1, 5000),
                "unit_value_usd": rng.choice([None, 12000, 27000, 35000]),
                "consignee": {"name": rng.choice(NAMES), "country": to, "headquarters_country": hq},
                "end_use": rng.choice(END_USES),
            }
        )
    return out


def time_each(items: Sequence[Any], call: Callable[[Any], Any]) -> list[float]:
    """Seconds per call, one timing per item, with the garbage collector out of the way."""
    timings = []
    gc.disable()
    try:
        for item in items:
            t0 = time.perf_counter()
            call(item)
            timings.append(time.perf_counter() - t0)
    finally:
        gc.enable()
    return timings


def summary(label: str, timings: list[float]) -> float:
    ordered = sorted(timings)
    median = statistics.median(ordered)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    print(f"{label:<44} n={len(ordered):>7,}  median {median * 1e6:8.2f} us  p99 {p99 * 1e6:8.2f} us")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shipments", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    book = default_rulebook()
    rng = random.Random(args.seed)
    chips = [c for c in book.catalogue]
    dates = [dt.date(2022, 1, 1) + dt.timedelta(days=rng.randrange(1800)) for _ in range(20_000)]
    pairs = [(rng.choice(chips), d) for d in dates]
    spec = ChipSpec(dense_tops={"fp8": 1979, "fp16": 989.5}, die_area_mm2=814, dram_bandwidth_gbs=4800)

    raw = generate_shipments(args.shipments, args.seed)
    t0 = time.perf_counter()
    shipments: list[Shipment] = [parse_shipment(r) for r in raw]
    parse_seconds = time.perf_counter() - t0
    for s in shipments[:2000]:  # warm the per-epoch caches the way a long-running process has them
        decide(s)

    print(f"chipgate core benchmark, rulebook {book.version}, seed {args.seed}")
    summary("classify catalogue chip (cached per epoch)", time_each(pairs, lambda p: classify(p[0], p[1])))
    summary("classify datasheet spec", time_each(dates, lambda d: classify(spec, d)))
    baseline = summary("baseline: parse shipment JSON contract", time_each(raw, parse_shipment))
    median = summary("decide shipment", time_each(shipments, decide))
    print(f"decide / parse ratio: {median / baseline:.2f}x   (parse of all {len(raw):,}: {parse_seconds:.2f} s)")
    outcomes: dict[str, int] = {}
    for s in shipments:
        outcome = decide(s).outcome
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    print("outcomes:", ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items())))


if __name__ == "__main__":
    main()
