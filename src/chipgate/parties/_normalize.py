"""Name normalisation for screening: one canonical form per way of writing a party's name.

Two spellings of one name should normalise equal; two different names should not.
The steps, in order:

1. Unicode NFKC (full-width and ligature forms become plain letters), then casefold.
2. Accents are stripped: NFKD, drop combining marks, NFC (``Telecomunicações`` ->
   ``telecomunicacoes``). Other scripts are kept as they are; nothing is transliterated.
3. Apostrophes are deleted, not spaced (``Xi'an`` and ``Xi’an`` -> ``xian``), so they
   agree with the list's own apostrophe-free spellings (``Xian Aircraft``).
4. ``&`` becomes ``and``; every other character that is not a letter or digit becomes
   a space (hyphens, dots, commas, brackets, slashes); runs of spaces collapse.
5. Legal-form words are dropped (see `LEGAL_FORMS_ANYWHERE`, `LEGAL_FORMS_AT_END`,
   `LEGAL_FORMS_AT_START`), also when spelled letter by letter (``L.L.C.``, ``S. A.``).
   "Group", "Holding(s)", "International", "Technology" and the like are kept: they
   tell companies apart (``Inspur Group`` is not ``Inspur``).
6. Runs of single letters join into one word, so initials and abbreviations agree
   however they are dotted or spaced (``N.A. Dollezhal``, ``N. A. Dollezhal`` and
   ``NA Dollezhal`` -> ``na dollezhal``).

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
# ("OOO Tridivi", "3DiVi OOO"). Written as words after steps 1-4; a short form also
# matches when spelled letter by letter ("L.L.C." reads "l l c"), see `_with_spelled_out`.
_ANYWHERE = (
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
    "public limited company",
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

# Short forms that are also ordinary syllables or words ("Co-Win", "Sa Re Ga", "Private
# Equity"), so they are dropped only where legal forms stand: at the end of a name or
# before another legal form ("Co., Ltd.", "(Private) Limited") ...
_AT_END = ("co", "private", "sa", "ag", "nv", "bv", "kk", "ua", "sas", "spa")
# ... or at its start ("AO Kaspersky Lab", "PT Huawei Tech Investment", "The Ministry ...").
_AT_START = ("the", "ao", "pt")


def _with_spelled_out(forms: frozenset[tuple[str, ...]]) -> frozenset[tuple[str, ...]]:
    """Each short one-word form also as its letters ("llc" and "l l c"): how "L.L.C." reads."""
    spelled = {tuple(form[0]) for form in forms if len(form) == 1 and len(form[0]) <= 4}
    return forms | spelled


LEGAL_FORMS_ANYWHERE: frozenset[tuple[str, ...]] = _with_spelled_out(
    frozenset(tuple(form.split()) for form in _ANYWHERE)
)
LEGAL_FORMS_AT_END: frozenset[tuple[str, ...]] = _with_spelled_out(frozenset((form,) for form in _AT_END))
LEGAL_FORMS_AT_START: frozenset[tuple[str, ...]] = _with_spelled_out(frozenset((form,) for form in _AT_START))

_LONGEST_FORM = max(len(form) for form in LEGAL_FORMS_ANYWHERE)
_LONGEST_EDGE_FORM = max(len(form) for form in LEGAL_FORMS_AT_END | LEGAL_FORMS_AT_START)
_FIRST_WORDS = frozenset(form[0] for form in LEGAL_FORMS_ANYWHERE)
_LEGAL_WORDS = frozenset(
    word for form in LEGAL_FORMS_ANYWHERE | LEGAL_FORMS_AT_END | LEGAL_FORMS_AT_START for word in form
)
_APOSTROPHES = re.compile("['’‘ʼ`′]")
_NOT_WORD = re.compile(r"[^\w]|_")


def normalize_name(name: str) -> str:
    """The canonical form of a party name; equal forms mean "the same name"."""
    return _normalize(name)


@lru_cache(maxsize=65_536)
def _normalize(name: str) -> str:
    if name.isascii():
        # Steps 1 and 2 do nothing to ASCII but cost most of the time.
        text = name.lower()
    else:
        text = unicodedata.normalize("NFKC", name).casefold()
        text = "".join(char for char in unicodedata.normalize("NFKD", text) if unicodedata.category(char) != "Mn")
        text = unicodedata.normalize("NFC", text)
    text = _APOSTROPHES.sub("", text)
    text = _NOT_WORD.sub(" ", text.replace("&", " and "))
    words = text.split()
    while True:
        reduced = _join_single_letters(_drop_legal_forms(words))
        if reduced == words:
            return " ".join(words)
        words = reduced


def _drop_legal_forms(words: list[str]) -> list[str]:
    if _LEGAL_WORDS.isdisjoint(words):
        return words
    kept: list[str] = []
    i = 0
    while i < len(words):
        size = _anywhere_form_at(words, i)
        if size == 0 and (words[i],) in LEGAL_FORMS_AT_END and _anywhere_form_at(words, i + 1):
            # An end-only form is a legal form where another one follows:
            # "Co., Ltd.", "Co. LLC", "(Private) Limited".
            size = 1
        if size:
            i += size
        else:
            kept.append(words[i])
            i += 1
    trimmed = True
    while trimmed:
        trimmed = False
        for size in range(min(_LONGEST_EDGE_FORM, len(kept)), 0, -1):
            if tuple(kept[-size:]) in LEGAL_FORMS_AT_END:
                del kept[-size:]
                trimmed = True
                break
            if tuple(kept[:size]) in LEGAL_FORMS_AT_START:
                del kept[:size]
                trimmed = True
                break
    return kept


def _anywhere_form_at(words: list[str], start: int) -> int:
    """The length of the longest legal form starting at `start`, or 0."""
    if start >= len(words) or words[start] not in _FIRST_WORDS:
        return 0
    for size in range(min(_LONGEST_FORM, len(words) - start), 0, -1):
        if tuple(words[start : start + size]) in LEGAL_FORMS_ANYWHERE:
            return size
    return 0


def _join_single_letters(words: list[str]) -> list[str]:
    joined: list[str] = []
    run: list[str] = []
    for word in words:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        if run:
            joined.append("".join(run))
            run = []
        joined.append(word)
    if run:
        joined.append("".join(run))
    return joined
