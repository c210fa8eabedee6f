"""Name normalisation for screening: one canonical form per way of writing a party's name.

Two spellings of one name should normalise equal; two different names should not.
The steps, in order:

1. Unicode NFKC (full-width and ligature forms become plain letters), then casefold.
2. Accents are stripped: NFKD, drop combining marks, NFC (``Telecomunicações`` ->
   ``telecomunicacoes``). Other scripts are kept as they are; nothing is transliterated.
3. Apostrophes are deleted, not spaced (``Xi'an`` and ``Xi’an`` -> ``xian``), so they
   agree with the list's own apostrophe-free spellings (``Xian Aircraft``).
4. ``&`` becomes ``and``; every other character that is not a letter or digit becomes
   a space (hyphens, dots, commas, brackets); runs of spaces collapse.
5. Runs of single letters join into one word (``L.L.C.`` -> ``l l c`` -> ``llc``,
   ``S. A.`` -> ``sa``), so dotted and undotted abbreviations agree.
6. Legal-form words are dropped (see `LEGAL_FORMS_ANYWHERE`, `LEGAL_FORMS_AT_END`,
   `LEGAL_FORMS_AT_START`). "Group", "Holding(s)", "International", "Technology" and
   the like are kept: they tell companies apart (``Inspur Group`` is not ``Inspur``).

Steps 5 and 6 repeat until nothing changes, so the result is a fixed point:
``normalize_name(normalize_name(x)) == normalize_name(x)``.
A name made only of legal-form words normalises to the empty string, which matches nothing.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "LEGAL_FORMS_ANYWHERE",
    "LEGAL_FORMS_AT_END",
    "LEGAL_FORMS_AT_START",
    "normalize_name",
]

# Word sequences that only ever say what kind of company something is, never which one.
# Dropped wherever they occur, because listed names put them mid-name too
# ("Huawei Technology Co., Ltd. Chengdu Research Institute") and in either order
# ("OOO Tridivi", "3DiVi OOO"). Written after steps 1-5, so "L.L.C." is "llc".
LEGAL_FORMS_ANYWHERE: frozenset[tuple[str, ...]] = frozenset(
    tuple(form.split())
    for form in (
        # English
        "limited",
        "ltd",
        "llc",
        "llp",
        "plc",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "company",
        "co ltd",
        "co limited",
        "co inc",
        "co llc",
        "private limited",
        "public limited",
        "limited liability company",
        "limited liability partnership",
        "pte",
        "pty",
        "pvt",
        # German, Latin-American, French, Italian, Malaysian
        "gmbh",
        "ltda",
        "sarl",
        "sasu",
        "srl",
        "sociedad anonima",
        "societe anonyme",
        "sdn bhd",
        "bhd",
        # UAE free-zone forms, common among listed resellers
        "fzc",
        "fze",
        "fzco",
        "fz llc",
        # Russian forms, abbreviated and transliterated in full
        "ooo",
        "oao",
        "zao",
        "pao",
        "jsc",
        "cjsc",
        "ojsc",
        "pjsc",
        "joint stock company",
        "closed joint stock company",
        "open joint stock company",
        "public joint stock company",
        "aktsionernoe obshchestvo",
        "otkrytoe aktsionernoe obshchestvo",
        "zakrytoe aktsionernoe obshchestvo",
        "publichnoe aktsionernoe obshchestvo",
        "obshchestvo s ogranichennoi otvetstvennostyu",
        "obshchestvo s organichennoi otvetstvennostyu",
    )
)

# Short forms that are also ordinary syllables or words ("Co-Win", "Sa Re Ga"), so they
# are dropped only where legal forms stand: at the end of a name ...
LEGAL_FORMS_AT_END: frozenset[str] = frozenset(
    {"co", "sa", "ag", "nv", "bv", "kk", "ua", "sas", "spa"}
)
# ... or at its start ("AO Kaspersky Lab", "PT Huawei Tech Investment", "The Ministry ...").
LEGAL_FORMS_AT_START: frozenset[str] = frozenset({"the", "ao", "pt"})

_LONGEST_FORM = max(len(form) for form in LEGAL_FORMS_ANYWHERE)
_APOSTROPHES = re.compile("['’‘ʼ`′]")
_NOT_WORD = re.compile(r"[^\w]|_")


def normalize_name(name: str) -> str:
    """The canonical form of a party name; equal forms mean "the same name"."""
    return _normalize(name)


@lru_cache(maxsize=65_536)
def _normalize(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).casefold()
    text = "".join(
        char for char in unicodedata.normalize("NFKD", text) if unicodedata.category(char) != "Mn"
    )
    text = unicodedata.normalize("NFC", text)
    text = _APOSTROPHES.sub("", text).replace("&", " and ")
    text = _NOT_WORD.sub(" ", text)
    words = text.split()
    while True:
        reduced = _drop_legal_forms(_join_single_letters(words))
        if reduced == words:
            return " ".join(words)
        words = reduced


def _join_single_letters(words: list[str]) -> list[str]:
    joined: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        if run:
            joined.append("".join(run))
            run = []
        if word:
            joined.append(word)
    return joined


def _drop_legal_forms(words: list[str]) -> list[str]:
    kept: list[str] = []
    i = 0
    while i < len(words):
        for size in range(min(_LONGEST_FORM, len(words) - i), 0, -1):
            if tuple(words[i : i + size]) in LEGAL_FORMS_ANYWHERE:
                i += size
                break
        else:
            kept.append(words[i])
            i += 1
    while kept and kept[-1] in LEGAL_FORMS_AT_END:
        kept.pop()
    while kept and kept[0] in LEGAL_FORMS_AT_START:
        kept.pop(0)
    return kept
