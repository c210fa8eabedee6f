"""Restricted-party screening: chipgate's fuzzy-v1 against two anchors, speed and quality in one run.

    python benchmarks/bench_screen.py [--queries 4000] [--seed 7] [--repeat 3] [--nk-full 30] [--nk-prefilter 400]
                                      [--cpu 0] [--misses] [--json]

Needs the bench extra for the nomenklatura anchor: pip install -e '.[bench]'.

Measured on one core (the process is pinned to CPU 0, or --cpu, with
os.sched_setaffinity), against the full shipped list (all names and aliases), for:

  chipgate fuzzy-v1        RestrictedPartyList.screen(name, country=..., matcher="fuzzy-v1")
  rapidfuzz scan           normalize_name, then rapidfuzz.process.extractOne over every
                           normalised listed name with token_sort_ratio (listed names
                           word-sorted once, then fuzz.ratio), hits from `possible` up
  nomenklatura full scan   nomenklatura's logic-v1 scorer (LogicV1.compare) between a
                           followthemoney Company for the query and one for every entry
                           (its names and countries); on a small sample, it is slow
  nomenklatura prefilter   the same scorer on the entries of rapidfuzz's top-20 names

For each: queries per second (chipgate and rapidfuzz: the median of --repeat runs, each on
its own new queries; nomenklatura: one run on a sample), both per wall-clock second and per
second of the process's own CPU time (on a shared machine other processes take turns on
the pinned core; CPU time is what the matcher itself used), the share of perturbed list
names whose right entry comes first (a right entry tied with the first at the same score
counts), the share of invented names with a hit at or above the `match` threshold, and
precision, recall and F1 on the labelled pairs of tests/parties/eval/name_pairs.csv (a
pair is predicted the same entity when the listed entry scores at least `match`; the
second figure uses `possible`), and the same figures on the held-out pairs of
tests/parties/eval/holdout_pairs.csv (pairs the matcher and its word lists were never
tuned on). Then chipgate's queries per second divided by each anchor's. Quality figures
come from the first run's queries (seed --seed), the same sample
tests/parties/test_screen_quality.py uses at the default sizes.

Thresholds are the rule data's us.party_lists.match_thresholds (on the list's snapshot
date), for every method: rapidfuzz scores 0-100 are divided by 100. nomenklatura is
also shown at 0.70, the cut-off OpenSanctions' yente API uses by default. For the
labelled pairs the anchors score the query against the listed entry directly, which is
what a full scan reporting every entry above the threshold would say about that entry.

Queries come from gen_screen_queries.py (half perturbed list names, half invented names,
seeded). Every query is distinct and new to the process, and the per-name caches
(normalize_name, fuzzy-v1's words and transliteration, screen's answers) are emptied
before each timed run, so no timed query is a cache hit; caches keyed by single words
(fuzzy-v1's typo look-ups) stay warm, as in a running service. Each matcher is built and
warmed on other queries before its timed run; build times are printed apart.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_screen_queries  # noqa: E402
from chipgate.parties import ListEntry, RestrictedPartyList, matchable_names, normalize_name  # noqa: E402
from chipgate.rulebook import default_rulebook  # noqa: E402
from gen_screen_queries import Query, perturb  # noqa: E402

MATCHER = "fuzzy-v1"
THRESHOLDS = "us.party_lists.match_thresholds"
YENTE_CUTOFF = 0.70
PREFILTER = 20
HOLDOUT_PATH = perturb.PAIRS_PATH.with_name("holdout_pairs.csv")
WARMUP = 200

Ranked = list[tuple[str, float]]  # (record id, score 0..1), best first


@dataclass
class Result:
    """One method's figures; quality figures are None where the method was not run on them."""

    method: str
    queries: int = 0
    seconds: float = 0.0
    build_seconds: float = 0.0
    right_first: float | None = None
    perturbed: int = 0
    invented_match: float | None = None
    invented: int = 0
    pairs: dict[str, dict[str, float]] = field(default_factory=dict)
    holdout: dict[str, dict[str, float]] = field(default_factory=dict)  # the same figures on the held-out pairs
    note: str = ""
    # Queries per wall-clock second of each timed run, and per second of this process's
    # CPU time (what other processes on the same core cannot take away); `qps` and
    # `cpu_qps` are their medians.
    runs: list[float] = field(default_factory=list)
    cpu_runs: list[float] = field(default_factory=list)

    @property
    def qps(self) -> float:
        return statistics.median(self.runs) if self.runs else 0.0

    @property
    def cpu_qps(self) -> float:
        return statistics.median(self.cpu_runs) if self.cpu_runs else 0.0


# ---- the methods ------------------------------------------------------------------------------


def clear_name_caches(lists: RestrictedPartyList) -> None:
    """Empty the caches keyed by a whole name, so a timed query is never answered from one."""
    from chipgate.parties import _normalize, _scripts, _words

    for cached in (
        getattr(_normalize, "_normalize", None),
        getattr(_words, "words", None),
        getattr(_scripts, "latinize", None),
    ):
        if cached is not None and hasattr(cached, "cache_clear"):
            cached.cache_clear()
    cache = getattr(lists, "_cache", None)
    if isinstance(cache, dict):
        cache.clear()


class ChipgateMethod:
    def __init__(self, lists: RestrictedPartyList, thresholds: dict[str, float]) -> None:
        self.lists, self.thresholds = lists, thresholds
        started = time.perf_counter()
        lists.matcher(MATCHER)
        self.build_seconds = time.perf_counter() - started

    def hits(self, text: str, country: str | None) -> Ranked:
        found = self.lists.screen(text, country=country, matcher=MATCHER, thresholds=self.thresholds)
        return [(hit.entry.record_id, hit.score) for hit in found]

    def pair_score(self, text: str, wanted: frozenset[str]) -> float:
        found = self.lists.screen(text, matcher=MATCHER, thresholds=self.thresholds)
        return max((hit.score for hit in found if hit.entry.record_id in wanted), default=0.0)


class RapidfuzzMethod:
    """A plain scan: the query's normal form against every listed normal form, token_sort_ratio.

    The listed names are normalised with their words sorted once, so the scan is
    `fuzz.ratio` against sorted words: what `fuzz.token_sort_ratio` computes, without
    sorting every listed name again for every query.
    """

    def __init__(self, entries: Sequence[ListEntry], cutoff: float) -> None:
        from rapidfuzz import fuzz, process

        self.fuzz, self.process = fuzz, process
        self.cutoff = cutoff * 100
        started = time.perf_counter()
        owners: dict[str, set[str]] = {}
        self.by_entry: dict[str, list[str]] = {}
        for entry in entries:
            for raw in matchable_names(entry):
                normalized = _sorted_words(normalize_name(raw))
                owners.setdefault(normalized, set()).add(entry.record_id)
                self.by_entry.setdefault(entry.record_id, []).append(normalized)
        self.names = sorted(owners)
        self.owners = [sorted(owners[name]) for name in self.names]
        self.build_seconds = time.perf_counter() - started

    def hits(self, text: str, country: str | None) -> Ranked:
        query = _sorted_words(normalize_name(text))
        best = self.process.extractOne(query, self.names, scorer=self.fuzz.ratio, score_cutoff=self.cutoff)
        if best is None:
            return []
        _, score, index = best
        return [(record_id, score / 100) for record_id in self.owners[index]]

    def top(self, text: str, limit: int) -> list[str]:
        """Record ids of the entries behind the `limit` best names, best first."""
        query = _sorted_words(normalize_name(text))
        found = self.process.extract(query, self.names, scorer=self.fuzz.ratio, limit=limit)
        out: dict[str, None] = {}
        for _, _, index in found:
            out.update(dict.fromkeys(self.owners[index]))
        return list(out)

    def pair_score(self, text: str, wanted: frozenset[str]) -> float:
        query = _sorted_words(normalize_name(text))
        scores = [self.fuzz.ratio(query, name) for record_id in wanted for name in self.by_entry.get(record_id, ())]
        return max(scores, default=0.0) / 100


def _sorted_words(text: str) -> str:
    return " ".join(sorted(text.split()))


class NomenklaturaMethod:
    """nomenklatura's logic-v1 scorer between followthemoney Company entities."""

    def __init__(self, entries: Sequence[ListEntry], prefilter: RapidfuzzMethod | None) -> None:
        from followthemoney import model
        from nomenklatura.matching import LogicV1

        self.model, self.algorithm = model, LogicV1
        self.config = LogicV1.default_config()
        self.prefilter = prefilter
        started = time.perf_counter()
        self.entities: dict[str, Any] = {}
        for entry in entries:
            entity = model.make_entity("Company")
            entity.id = entry.record_id
            for raw in matchable_names(entry):
                entity.add("name", raw)
            for country in entry.countries:
                entity.add("country", country.lower(), quiet=True)
            self.entities[entry.record_id] = entity
        self.build_seconds = time.perf_counter() - started

    def _query(self, text: str, country: str | None) -> Any:
        entity = self.model.make_entity("Company")
        entity.id = "query"
        entity.add("name", text)
        if country:
            entity.add("country", country.lower(), quiet=True)
        return entity

    def hits(self, text: str, country: str | None) -> Ranked:
        query = self._query(text, country)
        ids = self.prefilter.top(text, PREFILTER) if self.prefilter else self.entities
        scored = []
        for record_id in ids:
            score = self.algorithm.compare(query, self.entities[record_id], self.config).score
            if score > 0:
                scored.append((record_id, score))
        scored.sort(key=lambda item: -item[1])
        return scored

    def pair_score(self, text: str, wanted: frozenset[str]) -> float:
        query = self._query(text, None)
        return max(
            (self.algorithm.compare(query, self.entities[record_id], self.config).score for record_id in wanted),
            default=0.0,
        )


# ---- measuring --------------------------------------------------------------------------------


def timed_run(
    name: str,
    hits: Callable[[str, str | None], Ranked],
    queries: Sequence[Query],
    match_at: float,
    before: Callable[[], None] = lambda: None,
) -> tuple[Result, list[Ranked]]:
    before()
    answers: list[Ranked] = []
    started, cpu_started = time.perf_counter(), time.process_time()
    for query in queries:
        answers.append(hits(query.text, query.country))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    result = Result(
        name,
        queries=len(queries),
        seconds=seconds,
        runs=[len(queries) / seconds],
        cpu_runs=[len(queries) / cpu_seconds],
    )
    quality(result, queries, answers, match_at)
    return result, answers


def timed_runs(
    name: str,
    hits: Callable[[str, str | None], Ranked],
    query_sets: Sequence[Sequence[Query]],
    match_at: float,
    before: Callable[[], None],
) -> Result:
    """One timed run per query set; quality figures from the first set."""
    result, _ = timed_run(name, hits, query_sets[0], match_at, before)
    for queries in query_sets[1:]:
        more, _ = timed_run(name, hits, queries, match_at, before)
        result.runs += more.runs
        result.cpu_runs += more.cpu_runs
        result.seconds += more.seconds
    return result


def quality(result: Result, queries: Sequence[Query], answers: Sequence[Ranked], match_at: float) -> None:
    perturbed = [(q, a) for q, a in zip(queries, answers, strict=True) if not q.invented]
    invented = [a for q, a in zip(queries, answers, strict=True) if q.invented]
    result.perturbed, result.invented = len(perturbed), len(invented)
    if perturbed:
        result.right_first = sum(perturb.first_is_right(a, q.expected) for q, a in perturbed) / len(perturbed)
    if invented:
        result.invented_match = sum(any(score >= match_at for _, score in a) for a in invented) / len(invented)


def pair_figures(
    score: Callable[[str, frozenset[str]], float],
    pairs: Sequence[perturb.Pair],
    wanted: Sequence[frozenset[str]],
    limits: dict[str, float],
) -> tuple[dict[str, dict[str, float]], list[float]]:
    scores = [score(pair.query, ids) for pair, ids in zip(pairs, wanted, strict=True)]
    figures = {}
    for label, at in (("match", limits["match"]), ("match_or_possible", limits["possible"])):
        counts = perturb.Counts.of((p.same for p in pairs), (s >= at for s in scores))
        figures[label] = {"precision": counts.precision, "recall": counts.recall, "f1": counts.f1}
    return figures, scores


def pin_to_one_core(cpu: int) -> str:
    try:
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    except (AttributeError, OSError) as error:
        return f"not pinned ({error})"


def sample(queries: Sequence[Query], count: int) -> list[Query]:
    """`count` queries, half perturbed and half invented, spread over the set."""
    perturbed = [q for q in queries if not q.invented]
    invented = [q for q in queries if q.invented]
    half = count // 2
    return perturbed[: count - half] + invented[:half]


def fresh_sets(entries: Sequence[ListEntry], count: int, seed: int, sets: int) -> list[list[Query]]:
    """`sets` query sets of `count` queries from seeds `seed`, `seed + 1`, ...; no query in two sets."""
    seen: set[str] = set()
    out = []
    for k in range(sets):
        queries = [q for q in gen_screen_queries.generate(entries, count, seed + k) if q.text not in seen]
        seen.update(q.text for q in queries)
        out.append(queries)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--queries", type=int, default=4_000, help="timed queries a run (half perturbed, half invented)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs of chipgate and rapidfuzz, each on new queries"
    )
    parser.add_argument("--cpu", type=int, default=0, help="the CPU to pin the process to")
    parser.add_argument("--nk-full", type=int, default=30, help="queries for nomenklatura's full scan")
    parser.add_argument("--nk-prefilter", type=int, default=400, help="queries for nomenklatura behind the prefilter")
    parser.add_argument(
        "--misses", action="store_true", help="also print chipgate's misses on the labelled and held-out pairs"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()

    pinned = pin_to_one_core(args.cpu)
    load_before = os.getloadavg()
    book = default_rulebook()
    lists = book.restricted_parties
    given = book.at(lists.snapshot_date).value(THRESHOLDS)
    limits = {"match": float(given["match"]), "possible": float(given["possible"])}
    entries = lists.entries
    query_sets = fresh_sets(entries, args.queries, args.seed, max(1, args.repeat))
    queries = query_sets[0]
    used = {q.text for batch in query_sets for q in batch}
    warmup = [q for q in gen_screen_queries.generate(entries, WARMUP, args.seed + 997) if q.text not in used]
    pairs = perturb.load_pairs()
    index = perturb.name_index(entries)
    wanted = [perturb.listed_entries(entries, pair.listed, index) for pair in pairs]
    held = perturb.load_pairs(HOLDOUT_PATH)
    held_wanted = [perturb.listed_entries(entries, pair.listed, index) for pair in held]

    def before() -> None:
        clear_name_caches(lists)

    results: list[Result] = []
    chipgate = ChipgateMethod(lists, limits)
    for q in warmup:
        chipgate.hits(q.text, q.country)
    result = timed_runs("chipgate fuzzy-v1", chipgate.hits, query_sets, limits["match"], before)
    result.build_seconds = chipgate.build_seconds
    result.pairs, chip_scores = pair_figures(chipgate.pair_score, pairs, wanted, limits)
    result.holdout, chip_held_scores = pair_figures(chipgate.pair_score, held, held_wanted, limits)
    results.append(result)

    rapid = RapidfuzzMethod(entries, limits["possible"])
    for q in warmup[:50]:
        rapid.hits(q.text, q.country)
    result = timed_runs("rapidfuzz scan", rapid.hits, query_sets, limits["match"], before)
    result.build_seconds = rapid.build_seconds
    result.pairs, _ = pair_figures(rapid.pair_score, pairs, wanted, limits)
    result.holdout, _ = pair_figures(rapid.pair_score, held, held_wanted, limits)
    results.append(result)

    nk_runs: list[tuple[Result, list[Ranked], list[Query]]] = []
    nk_pairs: dict[str, dict[str, float]] = {}
    nk_pair_scores: list[float] = []
    nk_held: dict[str, dict[str, float]] = {}
    nk_held_scores: list[float] = []
    for label, count, prefilter in (
        ("nomenklatura full scan", args.nk_full, None),
        (f"nomenklatura top-{PREFILTER} prefilter", args.nk_prefilter, rapid),
    ):
        if count <= 0:
            continue
        method = NomenklaturaMethod(entries, prefilter)
        method.hits(warmup[0].text, warmup[0].country)
        chosen = sample(queries, count)
        result, answers = timed_run(label, method.hits, chosen, limits["match"], before)
        result.build_seconds = method.build_seconds
        if not nk_pairs:
            nk_pairs, nk_pair_scores = pair_figures(method.pair_score, pairs, wanted, limits)
            nk_held, nk_held_scores = pair_figures(method.pair_score, held, held_wanted, limits)
        result.pairs, result.holdout = nk_pairs, nk_held
        result.note = "labelled pairs scored pairwise with logic-v1: the same figures for both nomenklatura rows"
        results.append(result)
        nk_runs.append((result, answers, chosen))
    for result, answers, chosen in nk_runs:
        at_cutoff = Result(f"{result.method} @{YENTE_CUTOFF:.2f}")
        quality(at_cutoff, chosen, answers, YENTE_CUTOFF)
        counts = perturb.Counts.of((p.same for p in pairs), (s >= YENTE_CUTOFF for s in nk_pair_scores))
        at_cutoff.pairs = {"match": {"precision": counts.precision, "recall": counts.recall, "f1": counts.f1}}
        counts = perturb.Counts.of((p.same for p in held), (s >= YENTE_CUTOFF for s in nk_held_scores))
        at_cutoff.holdout = {"match": {"precision": counts.precision, "recall": counts.recall, "f1": counts.f1}}
        at_cutoff.note = f"quality with {YENTE_CUTOFF} as the match threshold (yente's default); timing as above"
        results.append(at_cutoff)
    load_after = os.getloadavg()

    chip_qps, chip_cpu_qps = results[0].qps, results[0].cpu_qps
    categories = category_figures(pairs, chip_scores, limits)
    held_categories = category_figures(held, chip_held_scores, limits)
    if args.json:
        print(
            json.dumps(
                {
                    "rulebook": book.version,
                    "snapshot": lists.snapshot_id,
                    "entries": len(entries),
                    "thresholds": limits,
                    "seed": args.seed,
                    "cpu": pinned,
                    "load_average": {"before": load_before, "after": load_after},
                    "results": [
                        {
                            "method": r.method,
                            "queries": r.queries,
                            "queries_per_second": r.qps,
                            "queries_per_cpu_second": r.cpu_qps,
                            "runs": r.runs,
                            "cpu_runs": r.cpu_runs,
                            "build_seconds": r.build_seconds,
                            "right_first": r.right_first,
                            "perturbed": r.perturbed,
                            "invented_match": r.invented_match,
                            "invented": r.invented,
                            "pairs": r.pairs,
                            "holdout_pairs": r.holdout,
                            "chipgate_speedup": chip_cpu_qps / r.cpu_qps if r.cpu_qps else None,
                            "chipgate_speedup_wall": chip_qps / r.qps if r.qps else None,
                            "note": r.note,
                        }
                        for r in results
                    ],
                    "chipgate_categories": categories,
                    "chipgate_holdout_categories": held_categories,
                },
                indent=2,
            )
        )
        return
    print(
        f"screening benchmark: {len(entries):,} entries ({lists.snapshot_id}), rulebook {book.version}, "
        f"seed {args.seed}, {pinned}, thresholds match {limits['match']} possible {limits['possible']}"
    )
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}; {os.cpu_count()} CPUs")
    header = (
        f"{'method':<36} {'queries':>11} {'q/s':>9} {'q/CPU-s':>9} {'x':>7} {'right 1st':>9} {'inv match':>9} "
        f"{'P/R/F1 match':>14} {'P/R/F1 m|p':>14}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        shown = f"{len(r.runs)}x{r.queries}" if len(r.runs) > 1 else str(r.queries or "")
        speed = f"{r.qps:9,.1f} {r.cpu_qps:9,.1f} {chip_cpu_qps / r.cpu_qps:6.1f}x" if r.runs else f"{'':29}"
        print(
            f"{r.method:<36} {shown:>11} {speed} {_pct(r.right_first):>9} {_pct(r.invented_match):>9} "
            f"{_prf(r.pairs.get('match')):>14} {_prf(r.pairs.get('match_or_possible')):>14}"
        )
    print("q/s: median of the runs (" + "; ".join(_spread(r) for r in results if len(r.runs) > 1) + ")")
    print("q/CPU-s: queries per second of the process's own CPU time, median of the runs")
    print("x: chipgate's q/CPU-s divided by the method's.")
    print("build: " + ", ".join(f"{r.method} {r.build_seconds:.2f} s" for r in results if r.build_seconds))
    print(f"held-out pairs ({HOLDOUT_PATH.name}, {len(held)} pairs): P/R/F1 at match, at match or possible")
    for r in results:
        if r.holdout:
            print(f"  {r.method:<36} {_prf(r.holdout.get('match')):>14} {_prf(r.holdout.get('match_or_possible')):>14}")
    print("chipgate by category (found = match or possible; match), labelled pairs | held-out pairs:")
    for category, row in categories.items():
        other = held_categories[category]
        print(
            f"  {category:<16} {row['pairs']:>3} pairs  found {row['found']:>3}  match {row['match']:>3}"
            f"  | {other['pairs']:>3} pairs  found {other['found']:>3}  match {other['match']:>3}"
        )
    if args.misses:
        print_misses(lists, limits, pairs, wanted, "the labelled pairs")
        print_misses(lists, limits, held, held_wanted, "the held-out pairs")


def category_figures(
    pairs: Sequence[perturb.Pair], scores: Sequence[float], limits: dict[str, float]
) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for category in perturb.CATEGORIES:
        mine = [s for p, s in zip(pairs, scores, strict=True) if p.category == category]
        out[category] = {
            "pairs": len(mine),
            "found": sum(s >= limits["possible"] for s in mine),
            "match": sum(s >= limits["match"] for s in mine),
        }
    return out


def print_misses(
    lists: RestrictedPartyList,
    limits: dict[str, float],
    pairs: Sequence[perturb.Pair],
    wanted: Sequence[frozenset[str]],
    title: str,
) -> None:
    print(f"chipgate's wrong answers on {title} (positive not a match, negative reported):")
    for pair, ids in zip(pairs, wanted, strict=True):
        found = lists.screen(pair.query, matcher=MATCHER, thresholds=limits)
        mine = [hit for hit in found if hit.entry.record_id in ids]
        strength = "match" if any(h.strength == "match" for h in mine) else "possible" if mine else "none"
        if (pair.same and strength != "match") or (not pair.same and strength != "none"):
            first = f"{found[0].entry.name!r} {found[0].score:.3f}" if found else "no hit"
            print(f"  {pair.category:<16} {pair.query!r} vs {pair.listed!r}: {strength}; first {first}")


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.2f}%"


def _spread(result: Result) -> str:
    return (
        f"{result.method} {min(result.runs):,.0f}-{max(result.runs):,.0f}, "
        f"per CPU-s {min(result.cpu_runs):,.0f}-{max(result.cpu_runs):,.0f}"
    )


def _prf(figures: dict[str, float] | None) -> str:
    if not figures:
        return ""
    return f"{figures['precision']:.2f}/{figures['recall']:.2f}/{figures['f1']:.2f}"


if __name__ == "__main__":
    main()
