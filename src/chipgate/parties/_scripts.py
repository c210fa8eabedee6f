"""Names in Han or Cyrillic script, read into the Latin spelling the US lists use.

The lists are published in English: 浪潮电子信息产业股份有限公司 is listed as Inspur
Electronic Information Industry Co., Ltd., 算能 as Suanneng or Sophgo, ООО «Технологии»
as Tekhnologii OOO. `latinize` turns a name in another script into words a Latin listed
name can be compared with:

- Han text: Chinese company forms (有限公司 ...) are dropped; the rest is read left to
  right taking the longest known word at each point: a listed party's Chinese name
  (浪潮 -> inspur), a place (北京 -> beijing) or a common word translated the way listed
  names translate it (科技 -> technology). Characters between known words are read as
  pinyin without tones (pypinyin), two characters to a word as Chinese names mostly are
  (算能 -> suanneng).
- Cyrillic: letter by letter, with the BGN/PCGN-style spellings the Entity List uses for
  Russian names (х kh, ц ts, ч ch, ш sh, щ shch, ж zh, ю yu, я ya, й i, ы y, ь and ъ
  dropped), so ООО Радиотехника reads ooo radiotekhnika.
- Anything else is left to `normalize_name` (accents stripped, other scripts kept).

The word lists are data: `chipgate/data/name_variants.yaml`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

__all__ = ["NameVariants", "has_foreign_script", "latinize", "name_variants"]

_HAN_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RUN = re.compile(f"[{_HAN_CHARS}](?:[{_HAN_CHARS}0-9]*[{_HAN_CHARS}])?")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_ORDINAL = re.compile(r"第([零〇一二两三四五六七八九十百千]+|[0-9]+)")
_FOREIGN = re.compile(r"[\u0400-\u04ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Russian (and the common Ukrainian and Belarusian letters), as the Entity List romanises them.
_CYRILLIC_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "u",
}  # fmt: skip
_CYRILLIC_TABLE = str.maketrans(
    {**_CYRILLIC_LATIN, **{upper: _CYRILLIC_LATIN[lower] for lower in _CYRILLIC_LATIN for upper in lower.upper()}}
)


@dataclass(frozen=True, slots=True)
class NameVariants:
    """The word lists of `name_variants.yaml`."""

    han_legal_forms: tuple[str, ...]
    han_words: Mapping[str, str]
    places: Mapping[str, str]
    synonyms: Mapping[tuple[str, ...], tuple[str, ...]]

    @property
    def place_words(self) -> frozenset[str]:
        """Latin place names, one word each ("beijing", "hong kong" counts as "hong" and "kong")."""
        return frozenset(word for latin in self.places.values() for word in latin.split())


@cache
def name_variants() -> NameVariants:
    text = resources.files("chipgate").joinpath("data/name_variants.yaml").read_text(encoding="utf-8")
    raw: dict[str, Any] = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    places = {str(k): str(v) for k, v in raw["places"].items()}
    # Longer Chinese words first, so 研究所 is read before 研究 and 中科曙光 before 曙光.
    words = {str(k): str(v) for k, v in {**raw["han_words"], **raw["han_names"], **places}.items()}
    return NameVariants(
        han_legal_forms=tuple(sorted(map(str, raw["han_legal_forms"]), key=len, reverse=True)),
        han_words=dict(sorted(words.items(), key=lambda kv: -len(kv[0]))),
        places=places,
        synonyms={tuple(str(k).split()): tuple(str(v).split()) for k, v in raw["synonyms"].items()},
    )


def has_foreign_script(text: str) -> bool:
    """Whether `text` has Han or Cyrillic letters that `latinize` would rewrite."""
    return not text.isascii() and _FOREIGN.search(text) is not None


@lru_cache(maxsize=16_384)
def latinize(text: str) -> str:
    """`text` with Han and Cyrillic runs rewritten in Latin letters; other text unchanged."""
    if not has_foreign_script(text):
        return text
    if _CYRILLIC.search(text):
        text = text.translate(_CYRILLIC_TABLE)
    # A number inside a Han run ("第38研究所") belongs to it.
    return _HAN_RUN.sub(lambda run: f" {_read_han(run.group())} ", text)


def _read_han(run: str) -> str:
    variants = name_variants()
    for form in variants.han_legal_forms:
        run = run.replace(form, " ")
    # 第三十八研究所 is listed as the "38th Research Institute".
    run = _ORDINAL.sub(lambda found: f" {_ordinal(found.group(1))} ", run)
    words: list[str] = []
    for chunk in run.split():
        words += [chunk] if chunk.isascii() else _segment(chunk, variants.han_words)
    return " ".join(words)


def _ordinal(numeral: str) -> str:
    """A Chinese or Arabic number as an English ordinal: 三十八 -> 38th."""
    if numeral.isdigit():
        n = int(numeral)
    else:
        n, digit = 0, 0
        for char in numeral:
            if char in _UNITS:
                n += max(digit, 1) * _UNITS[char]
                digit = 0
            else:
                digit = _DIGITS[char]
        n += digit
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _segment(chunk: str, known: Mapping[str, str]) -> list[str]:
    """Longest known word at each point; unknown characters as pinyin, two to a word."""
    longest = max(map(len, known), default=1)
    out: list[str] = []
    unknown = ""
    i = 0
    while i < len(chunk):
        for size in range(min(longest, len(chunk) - i), 0, -1):
            latin = known.get(chunk[i : i + size])
            if latin is not None:
                if unknown:
                    out += _pinyin_words(unknown)
                    unknown = ""
                out.append(latin)
                i += size
                break
        else:
            unknown += chunk[i]
            i += 1
    if unknown:
        out += _pinyin_words(unknown)
    return out


def _pinyin_words(chars: str) -> list[str]:
    # Imported on first use: the dictionaries cost a noticeable part of a second to load,
    # and most screened names are in Latin script.
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(chars, style=Style.NORMAL, errors="ignore")
    # Two syllables to a word ("suan neng" -> "suanneng"); an odd one out joins the last word.
    words = ["".join(syllables[i : i + 2]) for i in range(0, len(syllables), 2)]
    if len(words) > 1 and len(syllables) % 2:
        words[-2:] = [words[-2] + words[-1]]
    return words
