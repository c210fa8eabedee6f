"""Restricted-party screening: is a consignee or end user on a US restricted-party list?

    >>> from chipgate.parties import RestrictedPartyList, normalize_name
    >>> normalize_name("Example-Cloud Co., Ltd.")
    'example cloud'

`RestrictedPartyList.from_csv` loads a list snapshot; `screen(name, lists=...)` returns
the entries the name matches, each `NameMatch` naming the entry, the name of the entry
that matched and the matcher used. Matchers are chosen by name from `MATCHERS`.
How names are read and compared is described in docs/screening.md.
"""

from chipgate.parties._lists import DEFAULT_MATCHER, RestrictedPartyList
from chipgate.parties._matchers import MATCHERS, Matcher, NormalizedExactMatcher
from chipgate.parties._model import ListEntry, ListInfo, NameMatch
from chipgate.parties._names import matchable_names
from chipgate.parties._normalize import normalize_name

__all__ = [
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
