"""The names a list entry can be matched by, read out of the list's own wording.

Listed names carry more than a name. The trade.gov Consolidated Screening List style
used by the Entity List packs parents, short names, former names and notes into one
string, for example::

    Huawei Technologies Co., Ltd. (Huawei). Affiliated Entity: Huawei Marine Networks Co., Ltd.
    Chitron Electronics Company Ltd., a.k.a. Chi-Chung Electronics Company Ltd. (Chitron-Shenzhen)
    CNOOC Limited (a subsidiary of China National Offshore Oil Corporation)
    Beihang University - Formerly Beijing University of Aeronautics and Astronautics

`matchable_names` turns that into the names a party could really be called by:

- the listed text itself, as written, so a name pasted from the list always matches;
- for "X. Affiliated Entity: Y", "X. Subordinate Institution - Y" and
  "X, and subordinate entity Y", only Y: the row lists Y; its parent X has a row of its own,
  and matching X here would report every affiliate as a hit for the parent;
- each part of a " - "-joined list of names (the 1286 and MEU lists are written so),
  with "and affiliates:" and "Formerly" wording removed;
- each name after "a.k.a.", "f.k.a." or "formerly";
- a name with a trailing bracketed short name, with and without it: "Huawei Technologies
  Co., Ltd. (Huawei)" gives "Huawei Technologies Co., Ltd." and the short name "Huawei".
  A trailing place or kind ("(Hong Kong)", "(Group)") stays part of the name, since it
  tells sister companies apart; a trailing description in lower case ("(a subsidiary of ...)") is dropped;
- every alias from the aliases column, read the same way.

Short names are accepted only when distinctive: a name other than the listed name itself
needs at least two words or four letters once normalised. Three-letter acronyms such as
ITS, ECS, LTE or FSB are shared by unrelated businesses everywhere, and an exact
match on them would flag "ITS Ltd." as a listed party; they stay visible in the entry's
`name` and `aliases`, and are left to a matcher that can weigh other evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from chipgate.parties._model import ListEntry
from chipgate.parties._normalize import normalize_name

__all__ = ["BRACKET_QUALIFIERS", "MIN_SHORT_NAME_CHARS", "matchable_names", "parent_name"]

MIN_SHORT_NAME_CHARS = 4

# Bracketed words in listed names that say where or what kind, not who
# ("Inspur (HK) Electronics", "ETS Solutions (China)", "Chengdu Aircraft Industrial (GROUP)").
# Taken from the brackets that occur in the lists.
BRACKET_QUALIFIERS: frozenset[str] = frozenset(
    normalize_name(qualifier)
    for qualifier in (
        "Group",
        "Holding",
        "Holdings",
        "International",
        "China",
        "PRC",
        "Hong Kong",
        "Hongkong",
        "HK",
        "H.K.",
        "Macau",
        "Macao",
        "Taiwan",
        "UAE",
        "USA",
        "US",
        "UK",
        "North America",
        "Americas",
        "Pakistan",
        "Russia",
        "India",
        "Singapore",
        "Thailand",
        "Japan",
        "Vietnam",
        "New Zealand",
        "Australia",
        "Bolivia",
        "Cyprus",
        "Yangon",
        "Beijing",
        "Shanghai",
        "Shenzhen",
        "Tianjin",
        "Guangzhou",
        "Chongqing",
        "Hangzhou",
        "Nanjing",
        "Suzhou",
        "Wuxi",
        "Kunshan",
        "Xi'an",
        "Chengdu",
        "Hefei",
        "Qingdao",
        "Shenyang",
        "Dongguan",
        "Fujian",
        "Liyang",
        "Haining",
        "Lianyungang",
        "Yanjiao",
        "Shanshan",
    )
)

_CHILD_OF = re.compile(
    r"^(?P<parent>.+?)"
    r"(?:\.\s+Affiliated Entity:|\.\s+Subordinate Institution\s+-|,\s+and subordinate entity)"
    r"\s*(?P<own>.+)$",
    re.DOTALL,
)
_PARENT_NOTE = re.compile(r"\s*\(Parent Organization:.*$", re.DOTALL)
# "Ministry of Defence of the Russian Federation, including the Armed Forces ..."; and the
# State Department's "Sinobright Import and Export Company; and any successor, sub-unit, or
# subsidiary thereof", which says whom the listing reaches, not what the party is called.
_SCOPE_NOTE = re.compile(r"(?:,\s+including\b|;\s*and any successor\b).*$", re.DOTALL | re.IGNORECASE)
_NAME_LIST_SEPARATOR = re.compile(r"\s+-\s+")
_AFFILIATES_HEADER = re.compile(r",?\s+(?:and|select)\s+affiliates:?\s*$|,\s*select affiliates:?\s*$")
_KNOWN_AS = re.compile(r",?\s*\(?\s*\b(?:a\.k\.a\.?|f\.k\.a\.?|formerly)(?:\s*[,:])?\s+", re.IGNORECASE)
_TRAILING_BRACKET = re.compile(r"^(?P<base>.*?\S)\s*\((?P<inner>[^()]+)\)[\s.,]*$", re.DOTALL)


def matchable_names(entry: ListEntry) -> tuple[str, ...]:
    """The names `entry` can be matched by, as written in the list, listed name first.

    Names that normalise alike are given once; names that normalise to nothing
    (a bare legal form) are left out.
    """
    seen: set[str] = set()
    names: list[str] = []
    candidates = _from_listed_name(entry.name)
    for alias in entry.aliases:
        candidates.extend(_from_alias(alias))
    for raw, distinctive_required in candidates:
        normalized = normalize_name(raw)
        if not normalized or normalized in seen:
            continue
        if distinctive_required and not _distinctive(normalized):
            continue
        seen.add(normalized)
        names.append(raw)
    return tuple(names)


def parent_name(listed_name: str) -> str | None:
    """The parent named in "X. Affiliated Entity: Y" style names, or None."""
    found = _CHILD_OF.match(listed_name.strip())
    return found.group("parent").strip() if found else None


def _from_listed_name(listed: str) -> list[tuple[str, bool]]:
    text = listed.strip()
    candidates: list[tuple[str, bool]] = [(text, False)]
    found = _CHILD_OF.match(text)
    own = found.group("own") if found else text
    own = _SCOPE_NOTE.sub("", _PARENT_NOTE.sub("", own)).strip()
    parts = _NAME_LIST_SEPARATOR.split(own)
    parts[0] = _AFFILIATES_HEADER.sub("", parts[0])
    for part in parts:
        for name in _split_known_as(part):
            candidates.extend(_with_short_name(name, name_required=False))
    return candidates


def _from_alias(alias: str) -> list[tuple[str, bool]]:
    candidates: list[tuple[str, bool]] = []
    for name in _split_known_as(alias.strip()):
        candidates.extend(_with_short_name(name, name_required=True))
    return candidates


def _split_known_as(text: str) -> Iterator[str]:
    for part in _KNOWN_AS.split(text):
        cleaned = _balance_brackets(part.strip(" ,;"))
        if cleaned:
            yield cleaned


def _with_short_name(name: str, *, name_required: bool) -> list[tuple[str, bool]]:
    """`name`, and when it ends in a bracketed short name, the name without it and the short name.

    The boolean says whether the candidate must pass the distinctiveness test.
    """
    candidates = [(name, name_required)]
    found = _TRAILING_BRACKET.match(name)
    if found is None:
        return candidates
    base, inner = found.group("base").strip(" ,"), found.group("inner").strip()
    if normalize_name(inner) in BRACKET_QUALIFIERS:
        return candidates
    candidates.append((base, name_required))
    # A short name is a proper name; bracketed text starting in lower case is a note.
    if inner[:1].isupper() or inner[:1].isdigit():
        candidates.append((inner, True))
    return candidates


def _distinctive(normalized: str) -> bool:
    return " " in normalized or len(normalized) >= MIN_SHORT_NAME_CHARS


def _balance_brackets(text: str) -> str:
    while text.endswith(")") and text.count(")") > text.count("("):
        text = text[:-1].rstrip()
    while text.startswith("(") and text.count("(") > text.count(")"):
        text = text[1:].lstrip()
    return text
