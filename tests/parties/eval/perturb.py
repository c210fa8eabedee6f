"""Queries for evaluating name screening: perturbed list names, invented names, the labelled pairs.

    import perturb
    lists = default_rulebook().restricted_parties
    sample = perturb.perturbed_queries(lists.entries, 2000, seed=7)     # list names, changed a little
    clean = perturb.invented_names(lists.entries, 2000, seed=7)         # names that are on no list
    pairs = perturb.load_pairs()                                        # name_pairs.csv beside this file

Everything is deterministic for a given seed and list snapshot. Used by
tests/parties/test_screen_quality.py and benchmarks/bench_screen.py.

**Perturbed list names.** A name is taken from an entry's matchable names (the names
screening compares against; a listed text that packs several names, such as
"X. Affiliated Entity: Y", is left out, its parts are used) and changed in one way:

``legal_form``  the legal form is dropped ("Co., Ltd.", "JSC", "OOO" ...); names without one
                get another kind of change;
``case_punct``  case changed (upper, lower, title) and punctuation dropped or moved;
``word_order``  a leading place moved to the end in brackets ("Beijing X Technology" ->
                "X Technology (Beijing)"), or two neighbouring words swapped;
``typo``        one letter inserted, deleted, substituted or two transposed, in a word of
                four or more letters.

The right answer for a perturbed name is every entry that has the source name (normalised
with `normalize_name`) among its matchable names: "Sugon" is on three lists. A perturbation
whose normal form is some other entry's name is discarded, so no query is ambiguous.

**Invented names** combine places, invented brand syllables and industry words, in Latin
script ("Zhejiang Qinglan Textile Co., Ltd.", "Veltronix General Trading LLC") and in Han
script ("宁波瑞禾纺织有限公司"). A name is kept only if it is no list name once normalised,
and its brand is neither a word of any listed name nor one edit away from one (in pinyin
for Han brands), so a screening hit on it is a false alarm and not a near miss.
"""

from __future__ import annotations

import csv
import random
import string
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from chipgate.parties import ListEntry, matchable_names, normalize_name

__all__ = [
    "CATEGORIES",
    "KINDS",
    "NEGATIVE_CATEGORIES",
    "PAIRS_PATH",
    "Counts",
    "Invented",
    "Pair",
    "Perturbed",
    "first_is_right",
    "invented_names",
    "listed_entries",
    "load_pairs",
    "name_index",
    "perturb",
    "perturbed_queries",
    "source_names",
]

PAIRS_PATH = Path(__file__).with_name("name_pairs.csv")
KINDS = ("legal_form", "case_punct", "word_order", "typo")
POSITIVE_CATEGORIES = (
    "legal_form",
    "case_punct",
    "word_order",
    "typo",
    "han_pinyin",
    "han_translation",
    "transliteration",
    "alias_pair",
)
NEGATIVE_CATEGORIES = ("near_miss", "sibling", "unrelated")
CATEGORIES = POSITIVE_CATEGORIES + NEGATIVE_CATEGORIES


# ---- the labelled pairs ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pair:
    """One labelled pair: is `query` the legal entity listed under the name `listed`?"""

    query: str
    listed: str
    same: bool
    category: str
    note: str
    line: int


def load_pairs(path: Path = PAIRS_PATH) -> list[Pair]:
    """The labelled pairs of `path`, in file order; a malformed row is a ValueError naming its line."""
    pairs = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != ["query", "listed", "same", "category", "note"]:
            raise ValueError(f"{path}: header must be query,listed,same,category,note, not {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            same = row["same"].strip().lower()
            if same not in ("true", "false"):
                raise ValueError(f"{path}:{line}: same must be true or false, not {row['same']!r}")
            if row["category"] not in CATEGORIES:
                raise ValueError(f"{path}:{line}: unknown category {row['category']!r}")
            if not row["query"].strip() or not row["listed"].strip():
                raise ValueError(f"{path}:{line}: query and listed must not be empty")
            pairs.append(Pair(row["query"], row["listed"], same == "true", row["category"], row["note"], line))
    return pairs


def name_index(entries: Iterable[ListEntry]) -> dict[str, frozenset[str]]:
    """Normalised matchable name -> the record ids of the entries that have it."""
    index: dict[str, set[str]] = {}
    for entry in entries:
        for raw in matchable_names(entry):
            index.setdefault(normalize_name(raw), set()).add(entry.record_id)
    return {name: frozenset(ids) for name, ids in index.items()}


def listed_entries(
    entries: Iterable[ListEntry], listed: str, index: dict[str, frozenset[str]] | None = None
) -> frozenset[str]:
    """The record ids a name written in the list designates.

    The entries whose name or one of whose aliases is exactly `listed`, and every entry
    with a matchable name that normalises like it (the same company on another list, or
    written in capitals there). Empty when `listed` is not the text of a name or alias.
    """
    entries = list(entries)
    exact = {entry.record_id for entry in entries if listed == entry.name or listed in entry.aliases}
    if not exact:
        return frozenset()
    index = index if index is not None else name_index(entries)
    return frozenset(exact) | index.get(normalize_name(listed), frozenset())


@dataclass(frozen=True, slots=True)
class Counts:
    """A confusion matrix over labelled pairs, and the figures read from it."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @classmethod
    def of(cls, labels: Iterable[bool], predicted: Iterable[bool]) -> Counts:
        tp = fp = fn = tn = 0
        for truth, guess in zip(labels, predicted, strict=True):
            if truth and guess:
                tp += 1
            elif guess:
                fp += 1
            elif truth:
                fn += 1
            else:
                tn += 1
        return cls(tp, fp, fn, tn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def first_is_right(ranked: Sequence[tuple[str, float]], expected: Collection[str]) -> bool:
    """Whether a right record id is ranked first in (record id, score) pairs, best first.

    A right entry tied with the first at the same score counts as first: the order of
    equal scores says nothing about the matcher.
    """
    if not ranked:
        return False
    top = ranked[0][1]
    return any(record_id in expected for record_id, score in ranked if score == top)


# ---- perturbed list names -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Perturbed:
    """A list name changed in one way; `expected` holds the record ids that are right answers."""

    query: str
    source: str
    kind: str
    country: str | None
    expected: frozenset[str]


def _words(text: str) -> tuple[str, ...]:
    """The words of `text`: long word lists are written as one string."""
    return tuple(text.split())


# Words that only say what kind of company a name is. Dropped from the ends of a name by
# the `legal_form` perturbation and never changed by the others.
_LEGAL_WORDS = frozenset(
    _words(
        """liability co co. ltd ltd. limited llc l.l.c. inc inc. incorporated corp corp. corporation company gmbh ag
        sa s.a. jsc pjsc ojsc cjsc ooo oao zao pao ao llp plc pte pte. pty pvt private sdn bhd fze fzc
        fzco sarl srl ltda kk k.k. bv nv joint stock public open closed"""
    )
)
_LEADING_FORMS = frozenset(_words("ooo oao zao pao ao jsc pjsc ojsc cjsc pt"))
# Legal forms written in words at the start of a name, longest first.
_LEADING_PHRASES = tuple(
    sorted(
        {
            tuple(f"{lead} {head}".split())
            for lead in ("", "open", "closed", "public")
            for head in ("joint stock company", "limited liability company")
        }
        | {tuple(f"{lead} aktsionernoe obshchestvo".split()) for lead in ("", "otkrytoe", "zakrytoe", "publichnoe")}
        | {_words("obshchestvo s ogranichennoi otvetstvennostyu")},
        key=len,
        reverse=True,
    )
)
_BRACKETS = str.maketrans("", "", "()[]")
_PUNCT = str.maketrans("", "", ".,;:'’\"")


def _bare(word: str) -> str:
    return word.lower().strip(string.punctuation + "’“”")


def _split_legal_form(words: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(leading legal form, core words, trailing legal form) of a name's words.

    A bracketed short name after the legal form stays with it: "X Co., Ltd. (XC)".
    """
    start, end = 0, len(words)
    short_name = len(words) >= 3 and words[-1].startswith("(") and words[-1].endswith(")")
    if short_name and _bare(words[-2]) in _LEGAL_WORDS:
        end -= 1
    while end > start + 1 and _bare(words[end - 1]) in _LEGAL_WORDS:
        end -= 1
    if short_name and end == len(words) - 1:
        end = len(words)
    bare = [_bare(word) for word in words]
    if end > start + 1 and bare[start] in _LEADING_FORMS:
        start += 1
    for form in _LEADING_PHRASES:
        if end - start > len(form) and tuple(bare[start : start + len(form)]) == form:
            start += len(form)
            break
    return words[:start], words[start:end], words[end:]


def _drop_legal_form(name: str) -> str | None:
    lead, core, tail = _split_legal_form(name.split())
    if not (lead or tail):
        return None
    return " ".join(core).rstrip(",")


def _case_punct(name: str, rng: random.Random) -> str | None:
    text = name
    style = rng.randrange(3)
    text = text.upper() if style == 0 else text.lower() if style == 1 else string.capwords(text)
    change = rng.randrange(4)
    if change == 0:
        text = text.translate(_PUNCT).translate(_BRACKETS)
    elif change == 1:
        text = text.replace("-", " ").replace(",", "").replace(".", "")
    elif change == 2:
        words = text.split()
        if len(words) >= 2:
            i = rng.randrange(len(words) - 1)
            words[i : i + 2] = [f"{words[i]}-{words[i + 1]}"]
            text = " ".join(words)
    else:
        words = text.split()
        if len(words) >= 2:
            i = rng.randrange(len(words) - 1)
            words[i] = words[i].rstrip(",") + ","
            text = " ".join(words)
    text = " ".join(text.split())
    return None if text == name else text


def _swappable(word: str) -> bool:
    """Not a joining word ("of", "and") nor initials ("N.A.", "S.A."), which only read in place."""
    return word.lower() not in _GLUE_WORDS and not ("." in word and len(word) <= 5)


def _word_order(name: str, rng: random.Random) -> str | None:
    lead, core, tail = _split_legal_form(name.split())
    core = [word.translate(_BRACKETS) for word in core]
    core = [word for word in core if word]
    if len(core) < 2:
        return None
    if core[0].lower() in _PLACE_WORDS and rng.random() < 0.7:
        moved = [*core[1:], f"({core[0]})"]
    else:
        # Swap two neighbouring content words; "of", "and" and the like stay in place.
        spots = [i for i in range(len(core) - 1) if _swappable(core[i]) and _swappable(core[i + 1])]
        if not spots:
            return None
        i = rng.choice(spots)
        moved = [*core[:i], core[i + 1], core[i], *core[i + 2 :]]
    if [word.strip("()") for word in moved] == core:
        return None
    return " ".join([*lead, *moved, *tail])


_GLUE_WORDS = frozenset(_words("of and for the & de du la le in at on named after im. imeni"))
# Places that Chinese company names start with and that English renderings move to the end.
_PLACE_WORDS = frozenset(
    _words(
        """beijing shanghai shenzhen tianjin guangzhou chongqing hangzhou nanjing suzhou wuxi wuhan chengdu
        hefei xian xi'an xi’an qingdao shenyang dalian harbin changsha zhengzhou xiamen ningbo jinan fuzhou
        kunming zhuhai dongguan anhui jiangsu zhejiang guangdong sichuan shandong hubei hunan henan hebei
        fujian shaanxi shanxi liaoning jilin heilongjiang jiangxi yunnan guizhou hainan xinjiang"""
    )
)


def _typo(name: str, rng: random.Random) -> str | None:
    words = name.split()
    lead, core, _ = _split_legal_form(words)
    candidates = [
        len(lead) + i
        for i, word in enumerate(core)
        if sum(ch.isalpha() for ch in word) >= 4 and all(ch.isascii() for ch in word)
    ]
    if not candidates:
        return None
    at = rng.choice(candidates)
    word = words[at]
    letters = [i for i, ch in enumerate(word) if ch.isalpha()]
    pick = rng.randrange(4)
    alphabet = string.ascii_lowercase
    i = rng.choice(letters)

    def letter_like(ch: str) -> str:
        new = rng.choice(alphabet.replace(ch.lower(), ""))
        return new.upper() if ch.isupper() else new

    if pick == 0:  # insert a letter after position i
        changed = word[: i + 1] + letter_like(word[i]) + word[i + 1 :]
    elif pick == 1:  # delete a letter
        changed = word[:i] + word[i + 1 :]
    elif pick == 2:  # substitute a letter
        changed = word[:i] + letter_like(word[i]) + word[i + 1 :]
    else:  # transpose two neighbouring letters
        pairs = [j for j in letters if j + 1 < len(word) and word[j + 1].isalpha() and word[j] != word[j + 1]]
        if not pairs:
            return None
        j = rng.choice(pairs)
        changed = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    words[at] = changed
    return " ".join(words)


def perturb(name: str, kind: str, rng: random.Random) -> str | None:
    """`name` changed in the way `kind` says, or None when that change does not apply to it."""
    if kind == "legal_form":
        changed = _drop_legal_form(name)
    elif kind == "case_punct":
        changed = _case_punct(name, rng)
    elif kind == "word_order":
        changed = _word_order(name, rng)
    elif kind == "typo":
        changed = _typo(name, rng)
    else:
        raise ValueError(f"unknown perturbation {kind!r}; choose from {', '.join(KINDS)}")
    if not changed or changed == name or not normalize_name(changed):
        return None
    return changed


# Listed texts that hold several names; their parts are matchable names of their own.
_COMPOUND_MARKERS = ("Affiliated Entity", "Subordinate Institution", "subordinate entity", " - ", "a.k.a", "f.k.a")


def source_names(entry: ListEntry) -> list[str]:
    """The names of `entry` to perturb: its matchable names, less listed texts that pack several names."""
    names = [
        name
        for name in matchable_names(entry)
        if not any(marker in name for marker in _COMPOUND_MARKERS)
        and "formerly" not in name.lower()
        and len(name) <= 120
    ]
    return names


def perturbed_queries(
    entries: Sequence[ListEntry], count: int, seed: int, kinds: Sequence[str] = KINDS
) -> list[Perturbed]:
    """`count` distinct perturbed list names, the kinds taken in turn, entries drawn at random.

    Entries are drawn uniformly (not names), so an entry with forty aliases is not forty
    times as likely. When a kind does not apply to the drawn name (no legal form to drop,
    one word to reorder), another entry is drawn for it, so each kind gets its share.
    """
    rng = random.Random(seed)
    index = name_index(entries)
    pool = [(entry, names) for entry in entries if (names := source_names(entry))]
    seen: set[str] = set()
    out: list[Perturbed] = []
    attempts = 0
    while len(out) < count:
        attempts += 1
        if attempts > count * 50:
            raise RuntimeError(f"only {len(out)} distinct perturbed names found after {attempts} attempts")
        kind = kinds[len(out) % len(kinds)]
        entry, names = pool[rng.randrange(len(pool))]
        source = rng.choice(names)
        query = perturb(source, kind, rng)
        if query is None or query in seen:
            continue
        expected = index[normalize_name(source)]
        # A perturbation that turned into some other listed name is not a fair question.
        other = index.get(normalize_name(query))
        if other is not None and not other <= expected:
            continue
        seen.add(query)
        out.append(Perturbed(query, source, kind, entry.countries[0] if entry.countries else None, expected))
    return out


# ---- invented names -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invented:
    """A made-up company name that is on no list, and the country it was made up for."""

    name: str
    country: str


_CN_PLACES = _words(
    """Zhejiang Jiangsu Guangdong Shenzhen Ningbo Xiamen Changsha Zhengzhou Kunming Nanning Jinan
    Fuzhou Taiyuan Lanzhou Guiyang Dalian Qingdao Wuhan Chengdu Hefei Wenzhou Foshan Dongguan Yiwu
    Shaoxing Taizhou Nantong Yantai Weifang Zhuhai Shijiazhuang Nanchang Hohhot Urumqi Xining Haikou"""
)
_CN_SYLLABLES = _words(
    """qing lan rui xin tai heng jia kang sheng yuan feng ming hao bo chen yi zhi long yu an de fu jin
    mei ning tong xiang yang run kai he bai jing chuan xi mu lang yue cheng hong hui kun lin ping
    shan song wen ying zhen"""
)
_CN_INDUSTRIES = (
    "Textile",
    "Garment",
    "Trading",
    "Import and Export",
    "Electronic Technology",
    "Information Technology",
    "Machinery",
    "Precision Machinery",
    "Logistics",
    "Chemical",
    "New Materials",
    "Optoelectronics",
    "Environmental Technology",
    "Biotechnology",
    "Food",
    "Furniture",
    "Auto Parts",
    "Packaging",
    "Network Technology",
    "Intelligent Equipment",
    "Lighting",
    "Hardware Products",
    "Pharmaceutical",
    "Ceramics",
)
_CN_FORMS = ("Co., Ltd.", "Co., Ltd.", "Co. Ltd", "Company Limited", "Limited")
_WORLD_SYLLABLES = _words(
    """vel tra nix cor zen mar ol ex ion dra vo ka ri sta len qua mo ter vis ra na tel bri lux pro gen
    sol fin ar dex om ly"""
)
_WORLD_INDUSTRIES = (
    "General Trading",
    "Electronics",
    "Logistics",
    "Components",
    "Industrial Supplies",
    "Technologies",
    "Systems",
    "Marine Services",
    "Engineering",
    "Distribution",
    "Solutions",
)
_WORLD_PLACES = {
    "AE": ("Dubai", "Sharjah", "Ajman", "Abu Dhabi"),
    "TR": ("Istanbul", "Ankara", "Izmir", "Bursa"),
    "SG": ("Singapore",),
    "HK": ("Hong Kong", "Kowloon"),
    "MY": ("Kuala Lumpur", "Penang", "Johor"),
    "KZ": ("Almaty", "Astana"),
    "AM": ("Yerevan",),
    "IN": ("Pune", "Chennai", "Bengaluru"),
    "TH": ("Bangkok",),
    "RU": ("Kazan", "Tomsk", "Samara", "Perm"),
}
_WORLD_FORMS = {
    "AE": ("LLC", "FZE", "FZCO", "L.L.C."),
    "TR": ("Ltd. Sti.", "A.S.", "Sanayi ve Ticaret Ltd. Sti."),
    "SG": ("Pte. Ltd.", "Pte Ltd"),
    "HK": ("Limited", "Co., Limited"),
    "MY": ("Sdn. Bhd.", "Sdn Bhd"),
    "KZ": ("LLP", "TOO"),
    "AM": ("LLC", "CJSC"),
    "IN": ("Private Limited", "Pvt. Ltd."),
    "TH": ("Co., Ltd.",),
    "RU": ("LLC", "OOO", "JSC"),
}
_RU_STEMS = _words("vostok sibir kama oka tayga step ladoga onega pechora vyatka selenga")
_RU_ENDINGS = _words("tekh prom snab komplekt servis stroy avto pribor energo lab")
# Han-script parts; brand characters with the pinyin a transliterating matcher would read.
_HAN_PLACES = _words("浙江 江苏 广东 深圳 宁波 厦门 长沙 郑州 昆明 合肥 济南 福州 大连 青岛 武汉 成都 温州 佛山")
_HAN_BRAND_CHARS = (
    ("青", "qing"),
    ("蓝", "lan"),
    ("瑞", "rui"),
    ("鑫", "xin"),
    ("泰", "tai"),
    ("恒", "heng"),
    ("嘉", "jia"),
    ("康", "kang"),
    ("盛", "sheng"),
    ("源", "yuan"),
    ("丰", "feng"),
    ("明", "ming"),
    ("豪", "hao"),
    ("博", "bo"),
    ("晨", "chen"),
    ("逸", "yi"),
    ("隆", "long"),
    ("宇", "yu"),
    ("德", "de"),
    ("福", "fu"),
    ("美", "mei"),
    ("祥", "xiang"),
    ("润", "run"),
    ("凯", "kai"),
    ("禾", "he"),
    ("柏", "bai"),
    ("景", "jing"),
    ("溪", "xi"),
    ("沐", "mu"),
    ("朗", "lang"),
    ("悦", "yue"),
)
_HAN_INDUSTRIES = (
    "纺织",
    "服装",
    "贸易",
    "进出口",
    "电子科技",
    "信息技术",
    "机械",
    "物流",
    "化工",
    "新材料",
    "食品",
    "家具",
    "包装",
    "网络科技",
    "照明",
    "五金制品",
)
_HAN_FORMS = ("有限公司", "有限公司", "股份有限公司", "有限责任公司")


def _list_vocabulary(entries: Iterable[ListEntry]) -> tuple[frozenset[str], frozenset[str]]:
    """(every normalised listed name, every word of one), over names and aliases as written and as matched."""
    names: set[str] = set()
    for entry in entries:
        for raw in (*matchable_names(entry), entry.name, *entry.aliases):
            normalized = normalize_name(raw)
            if normalized:
                names.add(normalized)
    words = {word for name in names for word in name.split()}
    return frozenset(names), frozenset(words)


def _brand_is_free(brand: str, words: frozenset[str], long_words: Sequence[str]) -> bool:
    """No listed word is `brand`, and none is one edit from it (for brands of five letters or more)."""
    brand = brand.lower()
    if brand in words:
        return False
    if len(brand) < 5:
        return True
    return process.extractOne(brand, long_words, scorer=Levenshtein.distance, score_cutoff=1) is None


def _latin_brand(rng: random.Random, syllables: Sequence[str], parts: int) -> str:
    return "".join(rng.sample(syllables, parts)).capitalize()


def _invent_one(rng: random.Random) -> tuple[str, str, str]:
    """(name, country, brand as a matcher would read it)."""
    roll = rng.random()
    if roll < 0.45:
        brand = _latin_brand(rng, _CN_SYLLABLES, 2)
        place = rng.choice(_CN_PLACES)
        industry = rng.choice(_CN_INDUSTRIES)
        form = rng.choice(_CN_FORMS)
        if rng.random() < 0.7:
            return f"{place} {brand} {industry} {form}", "CN", brand
        return f"{brand} {industry} ({place}) {form}", "CN", brand
    if roll < 0.6:
        place = rng.choice(_HAN_PLACES)
        chars = rng.sample(_HAN_BRAND_CHARS, 2)
        brand = "".join(char for char, _ in chars)
        pinyin = "".join(sound for _, sound in chars)
        name = f"{place if rng.random() < 0.8 else ''}{brand}{rng.choice(_HAN_INDUSTRIES)}{rng.choice(_HAN_FORMS)}"
        return name, "CN", pinyin
    if roll < 0.72:
        brand = rng.choice(_RU_STEMS).capitalize() + rng.choice(_RU_ENDINGS)
        form = rng.choice(_WORLD_FORMS["RU"])
        if form == "OOO" or rng.random() < 0.3:
            return f"{form} {brand}", "RU", brand
        return f"{brand} {form}", "RU", brand
    country = rng.choice(sorted(_WORLD_PLACES))
    brand = _latin_brand(rng, _WORLD_SYLLABLES, rng.choice((2, 3)))
    industry = rng.choice(_WORLD_INDUSTRIES)
    form = rng.choice(_WORLD_FORMS[country])
    if rng.random() < 0.3:
        return f"{brand} {industry} ({rng.choice(_WORLD_PLACES[country])}) {form}", country, brand
    return f"{brand} {industry} {form}", country, brand


def invented_names(entries: Sequence[ListEntry], count: int, seed: int) -> list[Invented]:
    """`count` distinct invented company names, none of them a list name or built on a listed word."""
    rng = random.Random(seed)
    listed_names, words = _list_vocabulary(entries)
    long_words = sorted(word for word in words if len(word) >= 4)
    seen: set[str] = set()
    out: list[Invented] = []
    attempts = 0
    while len(out) < count:
        attempts += 1
        if attempts > count * 50:
            raise RuntimeError(f"only {len(out)} invented names found after {attempts} attempts")
        name, country, brand = _invent_one(rng)
        normalized = normalize_name(name)
        if name in seen or normalized in listed_names or not _brand_is_free(brand, words, long_words):
            continue
        seen.add(name)
        out.append(Invented(name, country))
    return out
