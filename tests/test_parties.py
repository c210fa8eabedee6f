"""Restricted-party screening against the shipped snapshot of the US lists."""

from __future__ import annotations

import datetime as dt
import doctest
import shutil
import timeit
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chipgate.parties as parties
from chipgate.errors import InputError, RuleDataError
from chipgate.parties import (
    MATCHERS,
    ListEntry,
    NameMatch,
    RestrictedPartyList,
    matchable_names,
    normalize_name,
)
from chipgate.parties._names import parent_name
from chipgate.rulebook import Rulebook

DATA_DIR = Path(str(resources.files("chipgate") / "data"))
DOCS = Path(__file__).resolve().parents[1] / "docs" / "screening.md"
LIST_FILE = DATA_DIR / "restricted_parties.csv"
META_FILE = DATA_DIR / "restricted_parties.meta.yaml"

# Entity List record ids of the chip and AI companies the decision rules care most about.
HUAWEI = "rpl-999d6fa1f426d0ad77c1"  # Huawei Technologies Co., Ltd. (Huawei), CN
HUAWEI_HK = "rpl-a57f6db8b7779071c4a6"  # Huawei Technologies Co., Ltd., HK;CN
HUAWEI_MARINE = "rpl-c129e7559e56856cb922"  # Huawei affiliate
SUGON = "rpl-73b9e3c4e0de4ed717fd"
INSPUR_GROUP = "rpl-30e66183c0dcc75f59d7"
ZHIPU_HUAZHANG = "rpl-8a0f5bcb39ffdb9d1e5a"
SMIC = "rpl-c8eec3ed187f320d66d8"
CAMBRICON = "rpl-d9fb36356c840f906d6a"
BIREN = "rpl-bd42b2e461045fa53fd8"
MOORE_THREADS = "rpl-8024a84ab4df00b2c1e7"
SOPHGO = "rpl-ab70889244b33ed52aab"
HISILICON = "rpl-5ced089592a5c8ad0331"

EXAMPLE_CLOUD = ("Example Cloud Co., Ltd.", "EXAMPLE CLOUD COMPANY LIMITED", "Example-Cloud Co Ltd")
LEGAL_SUFFIXES = (
    " Co., Ltd.",
    " Company Limited",
    " Co Ltd",
    " Limited",
    " Ltd",
    " Ltd.",
    " LLC",
    " L.L.C.",
    " Limited Liability Company",
    " Inc.",
    ", Inc.",
    " Incorporated",
    " Corp.",
    " Corporation",
    " GmbH",
    " JSC",
    " OOO",
    " LLP",
    " PLC",
    " S.A.",
    " Pte. Ltd.",
)


@pytest.fixture(scope="module")
def rpl() -> RestrictedPartyList:
    return RestrictedPartyList.from_csv(LIST_FILE)


def el_ids(rpl: RestrictedPartyList, name: str) -> list[str]:
    """The Entity List entries `name` matches (a `possible` match is not one)."""
    return [match.entry.record_id for match in rpl.screen(name, lists=("EL",)) if match.strength == "match"]


# --- the public surface -------------------------------------------------------------


def test_public_names_are_deliberate() -> None:
    assert sorted(parties.__all__) == sorted(
        [
            "DEFAULT_MATCHER",
            "MATCHERS",
            "ListEntry",
            "ListInfo",
            "Matcher",
            "NameMatch",
            "NormalizedExactMatcher",
            "RestrictedPartyList",
            "matchable_names",
            "normalize_name",
        ]
    )
    assert "normalized-exact" in MATCHERS


def test_the_documentation_examples_run() -> None:
    for result in (
        doctest.testfile(str(DOCS), module_relative=False),
        doctest.testmod(parties),
    ):
        assert result.attempted > 0
        assert result.failed == 0


# --- normalisation ------------------------------------------------------------------


def test_example_cloud_spellings_normalise_equal() -> None:
    assert {normalize_name(name) for name in EXAMPLE_CLOUD} == {"example cloud"}


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("Huawei Technologies Co., Ltd.", "huawei technologies"),
        ("Inspur Group Co., Ltd.", "inspur group"),  # "Group" is part of the name
        ("Foo L.L.C.", "foo"),
        ("Foo S. A.", "foo"),
        ("Foo Pte. Ltd.", "foo"),
        ("Huawei Technologies India Pvt., Ltd.", "huawei technologies india"),
        ("Huawei Technologies India Private Limited", "huawei technologies india"),
        ("Joint Stock Company Gazprom Space Systems", "gazprom space systems"),
        ("Huawei do Brasil Telecomunicações Ltda", "huawei do brasil telecomunicacoes"),
        ("Xi’an Huawei", "xian huawei"),
        ("Research & Development", "research and development"),
        ("ＡＢＣ Ｔｅｃｈ", "abc tech"),  # full-width letters, as pasted from CJK documents
        ("P.N. Lebedev Physical Institute", "pn lebedev physical institute"),
        ("P. N. Lebedev Physical Institute", "pn lebedev physical institute"),
        ("Huawei Technologies Lanka Company (Private) Limited", "huawei technologies lanka"),
        ("Private Equity Partners", "private equity partners"),  # "private" only as a legal form
        ("Foo Co. Limited Liability Company", "foo"),
        ("Co-Win Technology Co.", "co win technology"),  # "co" inside a name is not a legal form
        ("Company Limited", ""),
    ],
)
def test_normalisation_examples(written: str, normalised: str) -> None:
    assert normalize_name(written) == normalised


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Huawei Technologies", "Huawei Cloud"),
        ("Huawei Technologies", "Huawei Technology"),
        ("Inspur Group", "Inspur"),
        ("Huawei Device (Dongguan) Co., Ltd.", "Huawei Device Co., Ltd."),
        ("Foo B S.A.", "Foo"),
    ],
)
def test_normalisation_does_not_over_strip(one: str, other: str) -> None:
    assert normalize_name(one) != normalize_name(other)


@given(st.text())
@settings(max_examples=500)
def test_normalisation_is_idempotent(name: str) -> None:
    once = normalize_name(name)
    assert normalize_name(once) == once


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=40), st.sampled_from(LEGAL_SUFFIXES))
def test_a_legal_suffix_after_a_word_never_changes_the_normal_form(word: str, suffix: str) -> None:
    name = f"Acme {word} Widgets"
    assert normalize_name(name + suffix) == normalize_name(name)


# --- real names from the lists ------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "record_id"),
    [
        ("Huawei Technologies Co., Ltd.", HUAWEI),
        ("HUAWEI TECHNOLOGIES CO LTD", HUAWEI),
        ("Huawei", HUAWEI),
        ("Shenzhen Huawei Technologies", HUAWEI),
        ("Huawei Marine Networks Co., Ltd.", HUAWEI_MARINE),
        ("HMN Technologies", HUAWEI_MARINE),
        ("Sugon", SUGON),
        ("Dawning Information Industry Co., Ltd.", SUGON),
        ("Zhongke Shuguang", SUGON),
        ("Inspur Group", INSPUR_GROUP),
        ("Inspur Group Co., Ltd.", INSPUR_GROUP),
        ("Beijing Zhipu Huazhang Technology Co., Ltd.", ZHIPU_HUAZHANG),
        ("Zhipu AI", ZHIPU_HUAZHANG),
        ("Semiconductor Manufacturing International Corporation", SMIC),
        ("Semiconductor Manufacturing International Corporation (SMIC)", SMIC),
        ("SMIC", SMIC),
        ("Cambricon Technologies Corporation Limited", CAMBRICON),
        ("Cambricon", CAMBRICON),
        ("Shanghai Biren Intelligent Technology Co., Ltd.", BIREN),
        ("Biren Technology", BIREN),
        ("Moore Threads", MOORE_THREADS),
        ("Moore Thread Intelligent Technology (Beijing) Co., Ltd.", MOORE_THREADS),
        ("Sophgo", SOPHGO),
        ("Sophgo Technologies Ltd.", SOPHGO),
        ("HiSilicon", HISILICON),
        ("HiSilicon Technologies Co., Ltd.", HISILICON),
    ],
)
def test_real_spellings_of_listed_companies_hit_the_entity_list(
    rpl: RestrictedPartyList, query: str, record_id: str
) -> None:
    assert record_id in el_ids(rpl, query)


def test_a_match_names_the_entry_and_the_name_that_matched(rpl: RestrictedPartyList) -> None:
    (match,) = rpl.screen("Dawning Information Industry Co Ltd", lists=("EL",), matcher="normalized-exact")
    assert match.entry.name == "Sugon"
    assert match.entry.list_code == "EL"
    assert match.entry.countries == ("CN",)
    assert match.matched_name == "Dawning Information Industry"
    assert match.query == "Dawning Information Industry Co Ltd"
    assert (match.matcher, match.score) == ("normalized-exact", 1.0)


@pytest.mark.parametrize(
    "query",
    [
        "Alibaba Cloud",
        "ByteDance Ltd.",
        "Tencent Holdings",
        *EXAMPLE_CLOUD,
        "Huawei Cloud",
        "Nvidia Corporation",
        "Advanced Micro Devices, Inc.",
        "Lenovo Group Limited",
        "Inspur Cloud",
        "ITS Ltd.",  # a bare three-letter acronym on the list is not a name to match on
        "LTE",
        "",
        "Co., Ltd.",
    ],
)
def test_ordinary_names_do_not_hit_the_entity_list(rpl: RestrictedPartyList, query: str) -> None:
    assert el_ids(rpl, query) == []


def test_bare_acronyms_match_only_when_they_are_the_listed_name(rpl: RestrictedPartyList) -> None:
    exact = "normalized-exact"
    assert rpl.screen("FSB", matcher=exact) == ()  # "Federal Security Service (FSB)"
    assert el_ids(rpl, "Federal Security Service") != []
    assert [m.entry.name for m in rpl.screen("DJI", lists=("EL",), matcher=exact)] == ["DJI"]
    assert [m.matched_name for m in rpl.screen("SMIC", lists=("EL",), matcher=exact)] == ["SMIC"]
    assert not any(m.strength == "match" for m in rpl.screen("FSB"))


def test_tencent_is_a_1260h_red_flag_but_not_on_the_entity_list(rpl: RestrictedPartyList) -> None:
    matches = rpl.screen("Tencent Holdings")
    assert [(m.entry.list_code, m.entry.name) for m in matches] == [("1260H", "Tencent Holdings Limited (Tencent)")]


@pytest.mark.parametrize(
    "near_miss",
    [
        "Cambricon Technology",  # the list says "Technologies"
        "Sugon Information",  # the alias is "Sugon Information Industry"
        "Huawei Technologies Cloud",
        "Moore Thread",  # the alias is "Moore Threads"
        "Sophgo Technology",
    ],
)
def test_the_exact_matcher_does_not_find_near_misses(rpl: RestrictedPartyList, near_miss: str) -> None:
    assert rpl.screen(near_miss, lists=("EL",), matcher="normalized-exact") == ()
    # The default matcher finds each of them, at least as a possible match for an analyst.
    assert rpl.screen(near_miss, lists=("EL",))


def test_legal_form_variants_give_the_same_matches(rpl: RestrictedPartyList) -> None:
    spellings = [
        "Huawei Technologies Co., Ltd.",
        "HUAWEI TECHNOLOGIES COMPANY LIMITED",
        "Huawei-Technologies Co Ltd",
        "huawei technologies corporation",
        "Huawei Technologies",
    ]
    results = {tuple(m.entry.record_id for m in rpl.screen(s)) for s in spellings}
    assert len(results) == 1
    assert {HUAWEI, HUAWEI_HK} <= set(next(iter(results)))


def test_an_affiliate_row_matches_the_affiliate_not_its_parent(rpl: RestrictedPartyList) -> None:
    parent_hits = el_ids(rpl, "Huawei Technologies Co., Ltd.")
    assert HUAWEI_MARINE not in parent_hits
    assert {HUAWEI, HUAWEI_HK} <= set(parent_hits)
    exact = [
        m.entry.record_id
        for m in rpl.screen("Huawei Technologies Co., Ltd.", lists=("EL",), matcher="normalized-exact")
    ]
    assert set(exact) == {HUAWEI, HUAWEI_HK}


def test_every_parent_of_an_affiliate_row_has_its_own_entry(rpl: RestrictedPartyList) -> None:
    for entry in rpl.entries:
        parent = parent_name(entry.name)
        if parent is None:
            continue
        hits = {m.entry.record_id for m in rpl.screen(parent, lists=(entry.list_code,))}
        assert hits - {entry.record_id}, f"{parent!r} has no entry of its own"


def test_former_and_also_known_as_names_match(rpl: RestrictedPartyList) -> None:
    (former,) = rpl.screen("ZEMIC", lists=("1260H",))
    assert former.entry.name == "AVIC Chengdu Aircraft Co., Ltd. (formerly ZEMIC)"
    assert el_ids(rpl, "Chi-Chung Electronics Company Ltd.") == ["rpl-8e0165fa22c3eed2bf45"]
    assert el_ids(rpl, "IPP-International Petroleum Products Ltd.") != []


def test_descriptions_in_names_are_not_names(rpl: RestrictedPartyList) -> None:
    cnooc = next(e for e in rpl.entries if e.name.startswith("CNOOC Limited ("))
    assert "CNOOC Limited" in matchable_names(cnooc)
    assert rpl.screen("China National Offshore Oil Corporation", lists=("EL",)) == ()
    assert el_ids(rpl, "Ministry of Defence of the Russian Federation") != []


def test_rows_of_one_record_are_merged(rpl: RestrictedPartyList) -> None:
    (edo,) = [e for e in rpl.entries if e.record_id == "rpl-3cf7dcc8a1224266584d"]
    assert edo.aliases == ("EDO ELEMED", "EDO/ELEMED")
    assert len({e.record_id for e in rpl.entries}) == len(rpl.entries)


# --- screening behaviour ------------------------------------------------------------


def test_results_are_ranked_by_score_then_list_then_record(rpl: RestrictedPartyList) -> None:
    matches = rpl.screen("Huawei Technologies Co., Ltd.")
    keys = [(-m.score, m.entry.list_code, m.entry.record_id) for m in matches]
    assert keys == sorted(keys)
    assert {m.entry.list_code for m in matches if m.score == 1.0} == {"1260H", "EL", "NS-CMIC"}


def test_lists_limit_the_search(rpl: RestrictedPartyList) -> None:
    everything = rpl.screen("Sugon")
    assert {m.entry.list_code for m in everything} == {"1260H", "EL", "NS-CMIC"}
    for lists in (("EL",), ["EL"], {"EL"}, frozenset({"EL"})):
        assert [m.entry.record_id for m in rpl.screen("Sugon", lists=lists)] == [SUGON]
    assert rpl.screen("Sugon", lists=("MEU", "UFLPA")) == ()


def test_repeated_screens_return_the_cached_result(rpl: RestrictedPartyList) -> None:
    first = rpl.screen("Inspur Group", lists=("EL",))
    assert rpl.screen("Inspur Group", lists=("EL",)) is first


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lists": ("XX",)}, "lists"),
        ({"lists": "EL"}, "lists"),
        ({"matcher": "soundex"}, "matcher"),
    ],
)
def test_bad_arguments_name_the_field(rpl: RestrictedPartyList, kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as raised:
        rpl.screen("Sugon", **kwargs)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_list_names_and_citations(rpl: RestrictedPartyList) -> None:
    assert rpl.list_codes == ("1260H", "1286", "EL", "MEU", "NS-CMIC", "UFLPA")
    assert rpl.list_name("EL") == "BIS Entity List (15 CFR 744 Supp. 4)"
    assert rpl.list_info("EL").citation == "15 CFR Part 744, Supplement No. 4"
    assert "744.11" in rpl.list_info("EL").licence_requirement
    assert rpl.list_info("MEU").citation == "15 CFR Part 744, Supplement No. 7"
    with pytest.raises(InputError) as raised:
        rpl.list_name("SDN")
    assert raised.value.field == "list"


def test_snapshot_provenance(rpl: RestrictedPartyList) -> None:
    assert rpl.snapshot_date == dt.date(2026, 8, 18)
    assert "casslab-kaist/restricted-parties-db" in rpl.source
    assert "fcfe36f448058b38c66f833a4dc13e4ebb4e8d7a" in rpl.source
    assert len(rpl.entries) == 3935  # 4,002 rows; some records span several rows


def test_the_default_rulebook_path_loads_the_list() -> None:
    book = Rulebook({}, data_dir=DATA_DIR)
    assert [m.entry.record_id for m in book.restricted_parties.screen("Sugon", lists=("EL",))] == [SUGON]


def test_a_cached_screen_is_a_dictionary_lookup(rpl: RestrictedPartyList) -> None:
    rpl.screen("Beijing Zhipu Huazhang Technology Co., Ltd.", lists=("EL",))
    per_call = (
        min(
            timeit.repeat(
                lambda: rpl.screen("Beijing Zhipu Huazhang Technology Co., Ltd.", lists=("EL",)),
                number=1000,
                repeat=5,
            )
        )
        / 1000
    )
    assert per_call < 10e-6  # the decision budget is about 50 microseconds in all


# --- properties over the list's own names ---------------------------------------------


def _listed_names() -> list[str]:
    book = RestrictedPartyList.from_csv(LIST_FILE)
    return sorted({name for entry in book.entries for name in matchable_names(entry)})


LISTED_NAMES = _listed_names()


def _entries(matches: tuple[NameMatch, ...]) -> set[str]:
    return {m.entry.record_id for m in matches}


@given(st.sampled_from(LISTED_NAMES), st.sampled_from(LEGAL_SUFFIXES))
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_adding_a_legal_suffix_never_changes_the_match_set(rpl: RestrictedPartyList, name: str, suffix: str) -> None:
    assert _entries(rpl.screen(name + suffix)) == _entries(rpl.screen(name))


@given(
    st.sampled_from(LISTED_NAMES),
    st.sampled_from([str.upper, str.lower, str.title, str.swapcase]),
    st.sampled_from([" ", "  ", "-", ", ", " / ", "\t"]),
)
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_case_and_word_separators_never_change_the_match_set(
    rpl: RestrictedPartyList, name: str, recase: object, separator: str
) -> None:
    assert callable(recase)
    variant = separator.join(str(recase(name)).split(" "))
    assert _entries(rpl.screen(variant)) == _entries(rpl.screen(name))


@given(st.sampled_from(LISTED_NAMES))
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_listed_name_finds_its_own_entry(rpl: RestrictedPartyList, name: str) -> None:
    matches = rpl.screen(name, matcher="normalized-exact")
    assert matches
    assert all(normalize_name(m.matched_name) == normalize_name(name) for m in matches)


# --- loading ------------------------------------------------------------------------


def _copy(tmp_path: Path, name: str = "restricted_parties.csv", meta: str | None = None) -> Path:
    target = tmp_path / name
    shutil.copyfile(LIST_FILE, target)
    if meta is not None:
        target.with_name(f"{target.stem}.meta.yaml").write_text(meta, encoding="utf-8")
    return target


def test_a_changed_list_file_must_come_with_new_provenance(tmp_path: Path) -> None:
    target = _copy(tmp_path, meta=META_FILE.read_text(encoding="utf-8"))
    with target.open("a", encoding="utf-8") as extra:
        extra.write("rpl-x,EL,BIS Entity List (15 CFR 744 Supp. 4),New Party,,CN,China,9999\n")
    with pytest.raises(RuleDataError) as raised:
        RestrictedPartyList.from_csv(target)
    assert raised.value.key == "sha256"


def test_unknown_meta_keys_are_load_errors(tmp_path: Path) -> None:
    meta = META_FILE.read_text(encoding="utf-8") + "retrieved_by: someone\n"
    with pytest.raises(RuleDataError) as raised:
        RestrictedPartyList.from_csv(_copy(tmp_path, meta=meta))
    assert raised.value.key == "retrieved_by"


def test_without_meta_the_date_comes_from_the_file_name(tmp_path: Path) -> None:
    book = RestrictedPartyList.from_csv(_copy(tmp_path, "us_lists_2026-08-18.csv"))
    assert book.snapshot_date == dt.date(2026, 8, 18)
    assert book.list_name("EL") == "BIS Entity List (15 CFR 744 Supp. 4)"
    with pytest.raises(RuleDataError) as raised:
        RestrictedPartyList.from_csv(_copy(tmp_path, "lists.csv"))
    assert raised.value.key == "snapshot_date"


def test_an_entry_is_a_frozen_value() -> None:
    entry = ListEntry("r1", "EL", "Entity List", "Example Party Ltd.", ("Ex Party",), ("CN",))
    with pytest.raises(AttributeError):
        entry.name = "Other"  # type: ignore[misc]
    assert matchable_names(entry) == ("Example Party Ltd.", "Ex Party")


# ---- the precomputed matcher index shipped beside the list ----------------------------------


def test_shipped_index_equals_a_fresh_build(tmp_path: Path) -> None:
    """A stale index would be ignored at run time (and cost speed); regenerate with tools/build_party_index.py."""
    import hashlib
    import json

    from chipgate.parties._index import index_document, index_path

    stored = json.loads(index_path(LIST_FILE).read_text(encoding="utf-8"))
    # The entries as read from the list itself: a copy with no index beside it.
    for source in (LIST_FILE, META_FILE):
        shutil.copy(source, tmp_path / source.name)
    from_list = RestrictedPartyList.from_csv(tmp_path / LIST_FILE.name).entries
    fresh = index_document(hashlib.sha256(LIST_FILE.read_bytes()).hexdigest(), from_list)
    assert stored == fresh, "the shipped index is stale: run tools/build_party_index.py"


def test_loading_the_shipped_list_uses_its_index_and_it_matches_like_a_fresh_matcher() -> None:
    loaded = RestrictedPartyList.from_csv(LIST_FILE)
    assert "normalized-exact" in loaded._matchers
    stored = loaded.matcher("normalized-exact")
    fresh = parties.NormalizedExactMatcher(loaded.entries)
    assert isinstance(stored, parties.NormalizedExactMatcher)
    assert stored.hits() == fresh.hits()
    for name in ("Huawei Technologies Co., Ltd.", "SMIC", "Example Cloud Co., Ltd.", "Sugon"):
        assert stored.match(name) == fresh.match(name)


def _copy_list(tmp_path: Path) -> Path:
    for source in (LIST_FILE, META_FILE, DATA_DIR / "restricted_parties.index.json"):
        shutil.copy(source, tmp_path / source.name)
    return tmp_path / LIST_FILE.name


@pytest.mark.parametrize("damage", ["missing", "other list", "other code", "not json", "unknown record"])
def test_an_index_that_does_not_fit_is_ignored_and_the_matcher_built(tmp_path: Path, damage: str) -> None:
    import json

    copied = _copy_list(tmp_path)
    index = tmp_path / "restricted_parties.index.json"
    document = json.loads(index.read_text(encoding="utf-8"))
    if damage == "missing":
        index.unlink()
    elif damage == "not json":
        index.write_text("{", encoding="utf-8")
    else:
        if damage == "other list":
            document["list_sha256"] = "0" * 64
        elif damage == "other code":
            document["code_sha256"] = "0" * 64
        else:
            document["names"][0][1][0][0] = "rpl-not-in-the-list"
        index.write_text(json.dumps(document), encoding="utf-8")
    loaded = RestrictedPartyList.from_csv(copied)
    assert "normalized-exact" not in loaded._matchers
    built = loaded.matcher("normalized-exact")
    assert isinstance(built, parties.NormalizedExactMatcher)
    assert built.hits() == parties.NormalizedExactMatcher(loaded.entries).hits()
    assert [m.entry.record_id for m in loaded.screen("Huawei Technologies Co., Ltd.")]


def test_a_listing_s_reach_is_not_part_of_the_name() -> None:
    # The State Department's nonproliferation entries end in "; and any successor, sub-unit,
    # or subsidiary thereof": the party is called by what comes before it.
    entry = ListEntry(
        record_id="isn-1",
        list_code="ISN",
        list_name="Nonproliferation Sanctions (ISN) - State Department",
        name="Sinobright Import and Export Company; and any successor, sub-unit, or subsidiary thereof",
        aliases=(),
        countries=(),
    )
    lists = RestrictedPartyList([entry], snapshot_date=dt.date(2026, 1, 1), source="test")
    hits = lists.screen("Sinobright Import & Export Co.", matcher="normalized-exact")
    assert [h.matched_name for h in hits] == ["Sinobright Import and Export Company"]
