"""How well the default matcher screens names: floors on the labelled pairs and seeded samples.

The evaluation set is in tests/parties/eval (its README says what is there and how it was
labelled); docs/screening-evaluation.md has the figures and how to run the benchmark.
Thresholds are read from the rule data, never copied. Every floor below is the figure
measured on 2026-11-30 (stated beside it) less a small margin, or the issue's target
where that is stricter, so a matcher that gets worse fails here.

fuzzy-v1's word lists (src/chipgate/data/name_variants.yaml) were extended after reading
its failures on name_pairs.csv, so the figures on that file are partly in-sample.
holdout_pairs.csv was never used to change the matcher or its word lists: its figures are
the out-of-sample ones, and its floors only guard against the matcher getting worse. Do
not change the matcher to pass pairs of the held-out set; add new held-out pairs instead.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from chipgate.parties import NameMatch, RestrictedPartyList
from chipgate.rulebook import Rulebook

sys.path.insert(0, str(Path(__file__).with_name("eval")))
import perturb

MATCHER = "fuzzy-v1"
THRESHOLDS = "us.party_lists.match_thresholds"
SEED = 7
HOLDOUT_PATH = perturb.PAIRS_PATH.with_name("holdout_pairs.csv")
SAMPLE = 2_000  # perturbed list names, and as many invented names

# Labelled pairs (name_pairs.csv, partly in-sample); a pair is predicted `same` when the
# listed entry is among the query's hits with strength `match` (first figure) or with any
# strength (second).
# Measured: match P 0.996 R 0.952 F1 0.973; match or possible P 0.914 R 0.984 F1 0.948.
MATCH_FLOORS = {"precision": 0.98, "recall": 0.93, "f1": 0.95}
ANY_FLOORS = {"precision": 0.89, "recall": 0.96, "f1": 0.93}
# Share of each category's positive pairs found with any strength, measured (found/pairs):
# legal_form 27/27, case_punct 25/25, word_order 23/23, typo 30/30, han_pinyin 40/41,
# han_translation 36/37, transliteration 39/41, alias_pair 24/24. Floors allow one pair less.
FOUND_FLOORS = {
    "legal_form": 0.96,
    "case_punct": 0.96,
    "word_order": 0.95,
    "typo": 0.96,
    "han_pinyin": 0.95,
    "han_translation": 0.94,
    "transliteration": 0.92,
    "alias_pair": 0.95,
}
# ... and found as `match`, measured: legal_form 27/27, case_punct 25/25, word_order 23/23,
# typo 30/30, han_pinyin 36/41, han_translation 36/37, transliteration 38/41, alias_pair 21/24.
# Floors allow one pair less.
MATCHED_FLOORS = {
    "legal_form": 0.96,
    "case_punct": 0.96,
    "word_order": 0.95,
    "typo": 0.96,
    "han_pinyin": 0.85,
    "han_translation": 0.94,
    "transliteration": 0.90,
    "alias_pair": 0.83,
}
# Negative pairs reported as `match`, measured: near_miss 0/61, sibling 1/52 (Higon against
# Chengdu Haiguang Integrated Circuit, listed with the alias Hygon), unrelated 0/35.
# Near misses may be `possible` but never `match` (the issue's requirement).
MATCH_CEILINGS = {"near_miss": 0, "sibling": 1, "unrelated": 0}
# Negative pairs reported with any strength, measured: near_miss 6/61, sibling 17/52, unrelated 0/35.
ANY_CEILINGS = {"near_miss": 7, "sibling": 18, "unrelated": 0}

# Held-out pairs (holdout_pairs.csv, 281 pairs, 215 positive), the same two predictions.
# Measured: match P 0.990 R 0.447 F1 0.615; match or possible P 0.940 R 0.507 F1 0.659.
# The floors allow about three more false hits and five fewer found pairs.
HOLDOUT_MATCH_FLOORS = {"precision": 0.96, "recall": 0.42, "f1": 0.59}
HOLDOUT_ANY_FLOORS = {"precision": 0.91, "recall": 0.48, "f1": 0.63}

# Perturbed list names with the right entry ranked first, measured: legal_form 1.000,
# case_punct 1.000, word_order 0.998, typo 0.942; all 0.985 (the issue asks for 0.98).
RIGHT_FIRST_FLOOR = 0.98
RIGHT_FIRST_KIND_FLOORS = {"legal_form": 0.99, "case_punct": 0.99, "word_order": 0.99, "typo": 0.93}
# ... and reported as `match`, measured 0.9625 (typo 0.860).
RIGHT_FIRST_MATCH_FLOOR = 0.95
# Invented names with a `match`, measured 0/2000 (the issue allows 0.5%); with any hit,
# measured 0/2000. Both ceilings allow 5 of 2000.
INVENTED_MATCH_CEILING = 0.0025
INVENTED_ANY_CEILING = 0.0025

HAN = re.compile(r"[\u3400-\u9fff]")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@pytest.fixture(scope="module")
def lists(rulebook: Rulebook) -> RestrictedPartyList:
    return rulebook.restricted_parties


@pytest.fixture(scope="module")
def thresholds(rulebook: Rulebook, lists: RestrictedPartyList) -> dict[str, float]:
    value = rulebook.at(lists.snapshot_date).value(THRESHOLDS)
    return {"match": float(value["match"]), "possible": float(value["possible"])}


def _screen(
    lists: RestrictedPartyList, thresholds: Mapping[str, float], name: str, country: str | None = None
) -> tuple[NameMatch, ...]:
    return lists.screen(name, country=country, matcher=MATCHER, thresholds=thresholds)


@dataclass(frozen=True)
class Judged:
    pair: perturb.Pair
    strength: str | None  # the strongest hit on the listed entry: "match", "possible" or None
    first: str  # what came first, for failure messages


def _judge(lists: RestrictedPartyList, thresholds: Mapping[str, float], pairs: list[perturb.Pair]) -> list[Judged]:
    index = perturb.name_index(lists.entries)
    out = []
    for pair in pairs:
        wanted = perturb.listed_entries(lists.entries, pair.listed, index)
        hits = _screen(lists, thresholds, pair.query)
        strengths = {hit.strength for hit in hits if hit.entry.record_id in wanted}
        strength = "match" if "match" in strengths else "possible" if strengths else None
        first = f"{hits[0].entry.name!r} ({hits[0].score:.3f} {hits[0].strength})" if hits else "no hit"
        out.append(Judged(pair, strength, first))
    return out


@pytest.fixture(scope="module")
def judged(lists: RestrictedPartyList, thresholds: dict[str, float]) -> list[Judged]:
    return _judge(lists, thresholds, perturb.load_pairs())


@pytest.fixture(scope="module")
def holdout_judged(lists: RestrictedPartyList, thresholds: dict[str, float]) -> list[Judged]:
    return _judge(lists, thresholds, perturb.load_pairs(HOLDOUT_PATH))


def _describe(items: list[Judged]) -> str:
    return "\n".join(
        f"  line {j.pair.line}: {j.pair.query!r} vs {j.pair.listed!r} -> {j.strength or 'not found'}; first: {j.first}"
        for j in items
    )


# ---- the rule data and the labelled set themselves ------------------------------------------


def test_thresholds_come_from_rule_data_and_decide_strength(
    lists: RestrictedPartyList, thresholds: dict[str, float]
) -> None:
    assert 0 < thresholds["possible"] < thresholds["match"] <= 1
    for pair in perturb.load_pairs()[:120]:
        hits = _screen(lists, thresholds, pair.query)
        scores = [hit.score for hit in hits]
        assert scores == sorted(scores, reverse=True), pair.query
        for hit in hits:
            assert hit.matcher == MATCHER
            assert hit.score >= thresholds["possible"], (pair.query, hit)
            assert hit.strength == ("match" if hit.score >= thresholds["match"] else "possible"), (pair.query, hit)


def _check_shape(lists: RestrictedPartyList, pairs: list[perturb.Pair]) -> None:
    index = perturb.name_index(lists.entries)
    listed_texts = {text for entry in lists.entries for text in (entry.name, *entry.aliases)}
    duplicates = [key for key, n in Counter((p.query, p.listed) for p in pairs).items() if n > 1]
    assert not duplicates
    for pair in pairs:
        assert pair.listed in listed_texts, f"line {pair.line}: {pair.listed!r} is not a name or alias in the list"
        assert perturb.listed_entries(lists.entries, pair.listed, index)
        assert pair.same == (pair.category not in perturb.NEGATIVE_CATEGORIES), f"line {pair.line}"


def test_labelled_set_is_well_formed(lists: RestrictedPartyList) -> None:
    pairs = perturb.load_pairs()
    assert len(pairs) >= 300
    assert sum(not pair.same for pair in pairs) * 3 >= len(pairs)
    assert sum(bool(HAN.search(pair.query)) for pair in pairs) >= 30
    assert sum(bool(CYRILLIC.search(pair.query)) for pair in pairs) >= 20
    _check_shape(lists, pairs)


def test_holdout_set_is_well_formed_and_apart_from_the_labelled_set(lists: RestrictedPartyList) -> None:
    pairs = perturb.load_pairs(HOLDOUT_PATH)
    assert len(pairs) >= 80
    assert sum(not pair.same for pair in pairs) >= 30
    assert sum(bool(HAN.search(pair.query)) for pair in pairs) >= 30
    assert sum(bool(CYRILLIC.search(pair.query)) for pair in pairs) >= 20
    _check_shape(lists, pairs)
    in_sample = {pair.query for pair in perturb.load_pairs()}
    shared = [f"line {pair.line}: {pair.query!r}" for pair in pairs if pair.query in in_sample]
    assert not shared, "queries also in name_pairs.csv:\n" + "\n".join(shared)


# ---- labelled pairs ---------------------------------------------------------------------------


@pytest.mark.parametrize(("strengths", "floors"), [(("match",), MATCH_FLOORS), (("match", "possible"), ANY_FLOORS)])
def test_labelled_pairs_precision_recall_f1(
    judged: list[Judged], strengths: tuple[str, ...], floors: dict[str, float]
) -> None:
    counts = perturb.Counts.of((j.pair.same for j in judged), (j.strength in strengths for j in judged))
    missed = [j for j in judged if j.pair.same and j.strength not in strengths]
    wrong = [j for j in judged if not j.pair.same and j.strength in strengths]
    detail = f"{counts}\nmissed:\n{_describe(missed)}\nfalse hits:\n{_describe(wrong)}"
    assert counts.precision >= floors["precision"], detail
    assert counts.recall >= floors["recall"], detail
    assert counts.f1 >= floors["f1"], detail


@pytest.mark.parametrize("category", sorted(FOUND_FLOORS))
def test_positive_pairs_found_by_category(judged: list[Judged], category: str) -> None:
    mine = [j for j in judged if j.pair.category == category]
    missed = [j for j in mine if j.strength is None]
    found = 1 - len(missed) / len(mine)
    assert found >= FOUND_FLOORS[category], f"{category}: {found:.3f} found\n{_describe(missed)}"
    not_matched = [j for j in mine if j.strength != "match"]
    matched = 1 - len(not_matched) / len(mine)
    assert matched >= MATCHED_FLOORS[category], f"{category}: {matched:.3f} as match\n{_describe(not_matched)}"


@pytest.mark.parametrize("category", sorted(MATCH_CEILINGS))
def test_negative_pairs_flagged_by_category(judged: list[Judged], category: str) -> None:
    mine = [j for j in judged if j.pair.category == category]
    matched = [j for j in mine if j.strength == "match"]
    flagged = [j for j in mine if j.strength is not None]
    assert len(matched) <= MATCH_CEILINGS[category], f"{category} reported as match:\n{_describe(matched)}"
    assert len(flagged) <= ANY_CEILINGS[category], f"{category} reported:\n{_describe(flagged)}"


@pytest.mark.parametrize(
    ("strengths", "floors"), [(("match",), HOLDOUT_MATCH_FLOORS), (("match", "possible"), HOLDOUT_ANY_FLOORS)]
)
def test_holdout_pairs_precision_recall_f1(
    holdout_judged: list[Judged], strengths: tuple[str, ...], floors: dict[str, float]
) -> None:
    """The out-of-sample figures; run with -rP to see them."""
    counts = perturb.Counts.of((j.pair.same for j in holdout_judged), (j.strength in strengths for j in holdout_judged))
    by_category = ", ".join(
        f"{category} {sum(j.strength in strengths for j in mine)}/{len(mine)}"
        for category in perturb.CATEGORIES
        if (mine := [j for j in holdout_judged if j.pair.category == category])
    )
    print(
        f"held-out pairs, predicted same at {' or '.join(strengths)}: P {counts.precision:.3f} "
        f"R {counts.recall:.3f} F1 {counts.f1:.3f} ({counts}); reported by category: {by_category}"
    )
    missed = [j for j in holdout_judged if j.pair.same and j.strength not in strengths]
    wrong = [j for j in holdout_judged if not j.pair.same and j.strength in strengths]
    detail = f"{counts}\nmissed:\n{_describe(missed)}\nfalse hits:\n{_describe(wrong)}"
    assert counts.precision >= floors["precision"], detail
    assert counts.recall >= floors["recall"], detail
    assert counts.f1 >= floors["f1"], detail


def test_issue_example_han_name_finds_sophgo_through_its_pinyin_alias(
    lists: RestrictedPartyList, thresholds: dict[str, float]
) -> None:
    hits = _screen(lists, thresholds, "算能科技有限公司")
    assert hits, "算能科技有限公司 found nothing"
    assert hits[0].entry.name == "Sophgo Technologies Ltd."
    assert hits[0].matched_name == "Beijing Suanneng Technology Co., Ltd"


def test_issue_example_near_miss_is_not_a_match(lists: RestrictedPartyList, thresholds: dict[str, float]) -> None:
    hits = _screen(lists, thresholds, "Dahua Garment Co., Ltd.", country="CN")
    assert not [hit for hit in hits if hit.strength == "match"], hits


# ---- seeded samples ---------------------------------------------------------------------------


def test_perturbed_list_names_rank_the_right_entry_first(
    lists: RestrictedPartyList, thresholds: dict[str, float]
) -> None:
    sample = perturb.perturbed_queries(lists.entries, SAMPLE, SEED)
    right: Counter[str] = Counter()
    right_as_match: Counter[str] = Counter()
    kinds = Counter(query.kind for query in sample)
    wrong = []
    for query in sample:
        hits = _screen(lists, thresholds, query.query, query.country)
        ranked = [(hit.entry.record_id, hit.score) for hit in hits]
        if perturb.first_is_right(ranked, query.expected):
            right[query.kind] += 1
            top = hits[0].score
            right_as_match[query.kind] += any(
                hit.entry.record_id in query.expected and hit.score == top and hit.strength == "match" for hit in hits
            )
        else:
            first = f"{hits[0].entry.name!r} {hits[0].score:.3f}" if hits else "no hit"
            wrong.append(f"  {query.kind}: {query.query!r} (from {query.source!r}) -> {first}")
    detail = "\n".join(wrong[:40])
    assert sum(right.values()) / len(sample) >= RIGHT_FIRST_FLOOR, detail
    for kind, floor in RIGHT_FIRST_KIND_FLOORS.items():
        assert right[kind] / kinds[kind] >= floor, f"{kind}: {right[kind]}/{kinds[kind]}\n{detail}"
    assert sum(right_as_match.values()) / len(sample) >= RIGHT_FIRST_MATCH_FLOOR


def test_invented_names_rarely_raise_a_match(lists: RestrictedPartyList, thresholds: dict[str, float]) -> None:
    invented = perturb.invented_names(lists.entries, SAMPLE, SEED)
    matched, flagged = [], []
    for name in invented:
        hits = _screen(lists, thresholds, name.name, name.country)
        if hits:
            flagged.append(f"  {name.name!r} -> {hits[0].entry.name!r} {hits[0].score:.3f} {hits[0].strength}")
        if any(hit.strength == "match" for hit in hits):
            matched.append(flagged[-1])
    assert len(matched) <= INVENTED_MATCH_CEILING * len(invented), "\n".join(matched)
    assert len(flagged) <= INVENTED_ANY_CEILING * len(invented), "\n".join(flagged)
