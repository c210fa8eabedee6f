"""Batch engine throughput and memory, against the single path and a Cedar anchor.

    python benchmarks/bench_batch.py                 # 1M rows: batch, single path (sampled), Cedar
    python benchmarks/bench_batch.py --ten-million   # also stream 10M rows and report peak memory

Each measurement runs in a fresh process, so it pays for loading the rulebook, the chip
catalogue and the restricted-party lists, as a user's run does; the time to import chipgate
(before any of that) is reported on its own line. Inputs come from the seeded generator in
gen_orders.py and are kept in --workdir between runs.
"""

from __future__ import annotations

import argparse
import compileall
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_orders  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def book(workdir: Path, rows: int) -> Path:
    path = workdir / f"orders_{rows}.parquet"
    if not path.exists():
        gen_orders.write(gen_orders.generate(rows, seed=7), path)
    return path


def compiled() -> None:
    """Compile chipgate's modules to bytecode, as installing a package does.

    A source checkout run with PYTHONDONTWRITEBYTECODE set would otherwise compile every
    module again in each fresh process, some of them inside the timed run.
    """
    import chipgate

    compileall.compile_dir(Path(chipgate.__file__).parent, quiet=1)


def child(kind: str, *args: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; it prints one JSON line."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, *args], check=True, capture_output=True, text=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# ---- the measurements (each in its own process) ----------------------------------------------


def run_batch(source: str, target: str, warm_repeats: str) -> dict[str, Any]:
    started = time.perf_counter()
    from chipgate.batch._run import decide_file

    imports = time.perf_counter() - started
    started = time.perf_counter()
    summary = decide_file(source, target)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(int(warm_repeats)):
        started = time.perf_counter()
        decide_file(source, target)
        warm.append(time.perf_counter() - started)
    return {
        "rows": summary.rows,
        "errors": summary.errors,
        "seconds_cold": cold,
        "seconds_imports": imports,
        # pyarrow imports pandas, when installed, the first time it is handed Python values.
        "pandas_loaded": "pandas" in sys.modules,
        "seconds_warm": min(warm) if warm else None,
        "peak_rss_mb": peak_rss_mb(),
    }


def contract(row: dict[str, Any]) -> dict[str, Any]:
    """A flat order line as the single-shipment JSON contract."""
    body: dict[str, Any] = {
        k: row[k]
        for k in ("kind", "from_country", "to_country", "quantity", "unit_value_usd", "end_use", "exporter")
        if row.get(k) is not None
    }
    body["date"] = row["date"].isoformat()
    if row.get("item_chip"):
        body["item"] = {"chip": row["item_chip"]}
    else:
        dense = {
            k.removeprefix("item_spec_dense_"): v for k, v in row.items() if k.startswith("item_spec_dense_") and v
        }
        spec = {
            k.removeprefix("item_spec_"): v
            for k, v in row.items()
            if k.startswith("item_spec_") and not k.startswith("item_spec_dense_") and v is not None
        }
        body["item"] = {"spec": {**spec, "dense_tops": dense}}
    consignee = {"name": row["consignee_name"], "country": row["consignee_country"]}
    if row.get("consignee_headquarters_country"):
        consignee["headquarters_country"] = row["consignee_headquarters_country"]
    body["consignee"] = consignee
    return body


def run_single(source: str, target: str, sample: str) -> dict[str, Any]:
    """The single path in a Python loop: read, parse, decide, write, for the first `sample` rows."""
    from chipgate.batch._answers import format_party_hits, format_reasons
    from chipgate.decide import decide
    from chipgate.inputs import parse_shipment

    started = time.perf_counter()
    rows = next(pq.ParquetFile(source).iter_batches(batch_size=int(sample))).to_pylist()
    out = []
    for row in rows:
        decision = decide(parse_shipment(contract(row)))
        duty = decision.duties[0] if decision.duties else None
        out.append(
            {
                **row,
                "outcome": decision.outcome,
                "eccn": decision.eccn,
                "license_required": decision.us_export.license_required,
                "review_policy": decision.us_export.review_policy,
                "china_approval_required": decision.china_import.approval_required,
                "duty_amount_usd": str(duty.amount_usd) if duty and duty.amount_usd is not None else None,
                "restricted_party_hits": format_party_hits(decision),
                "reasons": format_reasons(decision),
            }
        )
    pq.write_table(pa.Table.from_pylist(out), target)
    return {"rows": len(rows), "seconds": time.perf_counter() - started}


def run_cedar(source: str, decided: str, count: str) -> dict[str, Any]:
    """Cedar's batch call on a policy encoding the US licence-requirement test, fed from the rulebook."""
    try:
        import cedarpy
    except ImportError as exc:
        return {"skipped": f"cedarpy does not import: {exc}"}
    from chipgate.classify import classify
    from chipgate.decide.us_export import DESTINATIONS, ENTITY_LIST, HEADQUARTERS, US_EXPORT_KINDS
    from chipgate.geography import in_where
    from chipgate.inputs import country_codes
    from chipgate.rulebook import default_rulebook

    book = default_rulebook()
    rows = next(pq.ParquetFile(source).iter_batches(batch_size=int(count))).to_pylist()
    expected = pq.read_table(decided, columns=["license_required"]).column(0).to_pylist()[: len(rows)]

    # The facts the policy reads, computed from the rule data per rule epoch (no number copied).
    entities: list[dict[str, Any]] = []
    epochs = sorted({book.epoch_start(r["date"]) for r in rows})
    for start in epochs:
        rules = book.at(start)
        where = rules.get(DESTINATIONS)
        hq = rules.get(HEADQUARTERS)
        listed = rules.get(ENTITY_LIST)
        entities.append(
            {
                "uid": {"type": "Epoch", "id": start.isoformat()},
                "attrs": {
                    "destinations": [c for c in country_codes() if where and in_where(c, where.value, rules)],
                    "headquarters": [c for c in country_codes() if hq and in_where(c, hq.value, rules)],
                    "entity_lists": list(listed.value["lists"]) if listed else [],
                },
                "parents": [],
            }
        )
    chips = sorted({r["item_chip"] for r in rows if r["item_chip"]})
    for chip in chips:
        controlled = [s.isoformat() for s in epochs if classify(chip, s, rulebook=book).eccn]
        entities.append({"uid": {"type": "Chip", "id": chip}, "attrs": {"controlled_in": controlled}, "parents": []})
    parties = sorted({(r["consignee_name"], r["consignee_country"], r["consignee_headquarters_country"]) for r in rows})
    for name, country, hq_country in parties:
        lists = sorted({m.entry.list_code for m in book.restricted_parties.screen(name)})
        entities.append(
            {
                "uid": {"type": "Party", "id": f"{name}|{country}"},
                "attrs": {"country": country, "hq": hq_country or country, "lists": lists},
                "parents": [],
            }
        )
    policies = """
    permit(principal, action == Action::"ship", resource)
    when { context.us_export && resource.controlled_in.contains(context.epoch_id)
           && context.epoch.destinations.contains(context.to_country) };
    permit(principal, action == Action::"ship", resource)
    when { context.us_export && resource.controlled_in.contains(context.epoch_id)
           && context.epoch.headquarters.contains(principal.hq)
           && !(context.epoch.destinations.contains(context.to_country)
                && context.epoch.headquarters.contains(principal.country)) };
    permit(principal, action == Action::"ship", resource)
    when { context.us_export && principal.lists.containsAny(context.epoch.entity_lists) };
    """
    requests = []
    kept = []
    for i, r in enumerate(rows):
        if not r["item_chip"]:
            continue  # spec items need the classification, which Cedar cannot compute
        start = book.epoch_start(r["date"]).isoformat()
        requests.append(
            {
                "principal": {"type": "Party", "id": f"{r['consignee_name']}|{r['consignee_country']}"},
                "action": {"type": "Action", "id": "ship"},
                "resource": {"type": "Chip", "id": r["item_chip"]},
                "context": {
                    "us_export": r["kind"] in US_EXPORT_KINDS,
                    "to_country": r["to_country"],
                    "epoch_id": start,
                    "epoch": {"__entity": {"type": "Epoch", "id": start}},
                },
            }
        )
        kept.append(i)
    policy_set = cedarpy.PolicySet.from_str(policies)
    store = cedarpy.Entities.from_json_str(json.dumps(entities))
    started = time.perf_counter()
    results = cedarpy.is_authorized_batch(requests, policy_set, store)
    seconds = time.perf_counter() - started
    agree = sum(bool(res.allowed) == bool(expected[i]) for res, i in zip(results, kept, strict=True))
    return {"requests": len(requests), "seconds": seconds, "agreement": agree / len(requests)}


# ---- the report ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000, help="rows the single path decides")
    parser.add_argument("--cedar-requests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="batch runs; the best is reported")
    parser.add_argument("--ten-million", action="store_true", help="also stream 10M rows, report peak memory")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/chipgate-bench"))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        measure = {"batch": run_batch, "single": run_single, "cedar": run_cedar}[kind]
        print(json.dumps(measure(*rest)))
        return

    args.workdir.mkdir(parents=True, exist_ok=True)
    compiled()
    source = book(args.workdir, args.rows)
    decided = args.workdir / "decisions.parquet"
    runs = [child("batch", str(source), str(decided), "2") for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["seconds_cold"])
    batch_cold = best["rows"] / best["seconds_cold"]
    batch_warm = best["rows"] / min(r["seconds_warm"] for r in runs)
    single = child("single", str(source), str(args.workdir / "single.parquet"), str(args.sample))
    single_rate = single["rows"] / single["seconds"]
    cedar = child("cedar", str(source), str(decided), str(args.cedar_requests))

    print(f"input: {source} ({best['rows']:,} rows, {best['errors']:,} rows with errors)")
    print(f"batch engine, end to end, fresh process : {batch_cold:>12,.0f} rows/s  ({best['seconds_cold']:.2f} s)")
    times = " ".join(f"{r['seconds_cold']:.2f}" for r in runs)
    print(
        f"  all {len(runs)} runs (s)                      : {times}; "
        f"importing chipgate before them {best['seconds_imports']:.2f} s; pandas loaded: "
        f"{'yes' if best['pandas_loaded'] else 'no'}"
    )
    print(f"batch engine, end to end, answers known : {batch_warm:>12,.0f} rows/s")
    print(f"single path in a Python loop ({single['rows']:,} rows)  : {single_rate:>12,.0f} rows/s")
    print(
        f"  ratio batch / single                  : {batch_cold / single_rate:>12,.1f} x (fresh), "
        f"{batch_warm / single_rate:,.1f} x (answers known)"
    )
    if "skipped" in cedar:
        print(f"cedarpy anchor skipped: {cedar['skipped']}")
    else:
        cedar_rate = cedar["requests"] / cedar["seconds"]
        print(
            f"cedarpy is_authorized_batch ({cedar['requests']:,} requests) : {cedar_rate:>10,.0f} requests/s "
            f"(agrees with licence_required on {cedar['agreement']:.1%})"
        )
        print(f"  ratio batch / cedar                   : {batch_cold / cedar_rate:>12,.1f} x")
    print(f"peak memory, {best['rows']:,} rows              : {best['peak_rss_mb']:>12,.0f} MB")
    if args.ten_million:
        big = book(args.workdir, 10_000_000)
        run = child("batch", str(big), str(args.workdir / "decisions_10m.parquet"), "0")
        print(
            f"10M rows streamed: {run['rows'] / run['seconds_cold']:,.0f} rows/s, "
            f"peak memory {run['peak_rss_mb']:,.0f} MB"
        )


if __name__ == "__main__":
    main()
