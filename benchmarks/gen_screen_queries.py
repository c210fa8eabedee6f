"""Seeded screening queries for bench_screen.py: perturbed list names and invented names.

    python benchmarks/gen_screen_queries.py [--queries 4000] [--seed 7] [--out queries.jsonl]

Half the queries are list names changed one way each (legal form dropped, case and
punctuation, word order, one typo), half are invented company names that are on no list;
both come from tests/parties/eval/perturb.py, so the benchmark and the quality tests draw
from one generator. Every query is distinct. Writes one JSON object a line when --out is
given, else prints a summary and a few examples.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chipgate.parties import ListEntry

EVAL = Path(__file__).resolve().parent.parent / "tests" / "parties" / "eval"
sys.path.insert(0, str(EVAL))

import perturb  # noqa: E402


@dataclass(frozen=True, slots=True)
class Query:
    """One name to screen; `expected` holds the right record ids, empty for an invented name."""

    text: str
    country: str | None
    kind: str  # a perturbation kind, or "invented"
    source: str  # the list name it was made from; empty for an invented name
    expected: frozenset[str]

    @property
    def invented(self) -> bool:
        return self.kind == "invented"


def generate(entries: Sequence[ListEntry], count: int, seed: int) -> list[Query]:
    """`count` distinct queries: perturbed list names first, then invented names (half each)."""
    perturbed = perturb.perturbed_queries(entries, count - count // 2, seed)
    invented = perturb.invented_names(entries, count // 2, seed)
    queries = [Query(q.query, q.country, q.kind, q.source, q.expected) for q in perturbed]
    seen = {query.text for query in queries}
    queries += [Query(n.name, n.country, "invented", "", frozenset()) for n in invented if n.name not in seen]
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=4_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from chipgate.rulebook import default_rulebook

    queries = generate(default_rulebook().restricted_parties.entries, args.queries, args.seed)
    if args.out:
        with args.out.open("w", encoding="utf-8") as handle:
            for query in queries:
                row = {
                    "query": query.text,
                    "country": query.country,
                    "kind": query.kind,
                    "source": query.source,
                    "expected": sorted(query.expected),
                }
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"wrote {len(queries):,} queries to {args.out}")
        return
    kinds: dict[str, int] = {}
    for query in queries:
        kinds[query.kind] = kinds.get(query.kind, 0) + 1
    print(f"{len(queries):,} queries, seed {args.seed}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items())))
    for query in queries[:: max(1, len(queries) // 12)]:
        print(f"  {query.kind:<11} {query.text!r}" + (f"  <- {query.source!r}" if query.source else ""))


if __name__ == "__main__":
    main()
