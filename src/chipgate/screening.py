"""Screen one party name against the restricted-party lists: the answer the CLI, batch and API share.

    import chipgate
    result = chipgate.screen("Dawning Information Industry Co., Ltd.", "CN")
    result.hits[0].list, result.hits[0].name, result.hits[0].strength   # best hit first
    result.to_dict()                                                    # the `screen --json` contract

`screen` validates its input (naming the field), screens the name with the lists'
default matcher, and ranks the hits best first. A hit is a lead for a compliance review,
not a finding that the party is the listed entity; no hit is not a finding that it is
clear (docs/screening.md says what the matcher does and does not find).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from chipgate.errors import InputError
from chipgate.inputs import parse_country, require_text
from chipgate.parties import NameMatch, RestrictedPartyList
from chipgate.parties.store import resolve_lists
from chipgate.rulebook import default_rulebook

__all__ = [
    "MAX_NAME_CHARS",
    "Fields",
    "Screening",
    "ScreeningHit",
    "parse_list_codes",
    "party_lists",
    "screen",
    "screen_with",
]

# Listed names run to about 300 characters; a longer query is a pasted document, not a name.
MAX_NAME_CHARS = 1_000
THRESHOLDS_PARAMETER = "us.party_lists.match_thresholds"


@dataclass(frozen=True, slots=True)
class Fields:
    """How each input is called where it came from, so an error names what the user typed."""

    name: str = "name"
    country: str = "country"
    identifiers: str = "identifiers"
    list_codes: str = "list_codes"
    lists: str = "lists"


@dataclass(frozen=True, slots=True)
class ScreeningHit:
    """One list entry the name matched: which entry, through which of its names, and how well."""

    record_id: str
    list: str
    list_name: str
    # The entry's name as listed; `matched_name` is the name or alias of it that the query matched.
    name: str
    matched_name: str
    score: float
    strength: Literal["match", "possible"]
    countries: tuple[str, ...]
    identifiers: tuple[str, ...]
    features: Mapping[str, float]
    entry_fingerprint: str

    @classmethod
    def from_match(cls, match: NameMatch) -> ScreeningHit:
        entry = match.entry
        return cls(
            record_id=entry.record_id,
            list=entry.list_code,
            list_name=entry.list_name,
            name=entry.name,
            matched_name=match.matched_name,
            score=float(match.score),
            strength=match.strength,
            countries=entry.countries,
            identifiers=entry.identifiers,
            features=dict(match.features),
            entry_fingerprint=entry.fingerprint,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "list": self.list,
            "list_name": self.list_name,
            "name": self.name,
            "matched_name": self.matched_name,
            "score": self.score,
            "strength": self.strength,
            "countries": list(self.countries),
            "identifiers": list(self.identifiers),
            "features": dict(self.features),
            "entry_fingerprint": self.entry_fingerprint,
        }


@dataclass(frozen=True, slots=True)
class Screening:
    """A name screened against one snapshot of the lists; `hits` ranked best first, empty when clear."""

    query: str
    country: str | None
    snapshot_id: str
    snapshot_date: dt.date
    matcher: str
    thresholds: Mapping[str, float]
    hits: tuple[ScreeningHit, ...] = field(default=())
    identifiers: tuple[str, ...] = ()
    list_codes: tuple[str, ...] | None = None

    @property
    def clear(self) -> bool:
        """No entry reached the `possible` threshold."""
        return not self.hits

    @property
    def strength(self) -> Literal["match", "possible"] | None:
        """The strongest hit's strength: `match`, `possible`, or None when clear."""
        if any(hit.strength == "match" for hit in self.hits):
            return "match"
        return "possible" if self.hits else None

    def to_dict(self) -> dict[str, Any]:
        """The `chipgate screen --json` and `POST /v1/screen` contract (docs/contracts.md)."""
        return {
            "query": self.query,
            "country": self.country,
            "snapshot": {"id": self.snapshot_id, "date": self.snapshot_date.isoformat()},
            "matcher": self.matcher,
            "thresholds": dict(self.thresholds),
            "hits": [hit.to_dict() for hit in self.hits],
        }


def party_lists(spec: str | None = None, field: str = "lists") -> RestrictedPartyList:
    """The list snapshot `spec` names (see `chipgate.parties.store.resolve_lists`): None or
    "active", "shipped", a stored snapshot's id, or a list file; errors name `field`."""
    try:
        return resolve_lists(spec)
    except InputError as exc:
        if exc.field == "lists" and field != "lists":
            raise InputError(field, exc.message) from None
        raise


def screen(
    name: str,
    country: str | None = None,
    *,
    identifiers: Collection[str] = (),
    lists: RestrictedPartyList | str | None = None,
    list_codes: Collection[str] | None = None,
) -> Screening:
    """Screen a party name against the restricted-party lists; hits ranked best first.

    `country` (ISO 3166 alpha-2) and `identifiers` ("SCHEME:VALUE", e.g. "USCC:9111...")
    are evidence the matcher weighs. `lists` is the snapshot to screen against: a
    `RestrictedPartyList`, "shipped" (the default: a library call does not depend on what
    a user chose on the command line), "active" (the one chosen with `chipgate lists use`,
    else the shipped one), a stored snapshot's id or a list file. `list_codes` limits the
    search to those lists (e.g. ("EL",)). Bad input raises `InputError` naming the argument.
    """
    return screen_with(
        name, country, identifiers=identifiers, lists="shipped" if lists is None else lists, list_codes=list_codes
    )


def screen_with(
    name: Any,
    country: Any = None,
    *,
    identifiers: Any = (),
    lists: RestrictedPartyList | str | None = None,
    list_codes: Any = None,
    fields: Fields = Fields(),
    on: dt.date | None = None,
) -> Screening:
    """`screen`, with the fields named as the caller's user knows them (`--country`, `body.lists`)
    and the thresholds of the rules in force on `on` (default today)."""
    query = _name(name, fields.name)
    code = parse_country(country, fields.country, required=False) if country is not None else None
    ids = _identifiers(identifiers, fields.identifiers)
    snapshot = lists if isinstance(lists, RestrictedPartyList) else party_lists(lists, fields.lists)
    codes = parse_list_codes(list_codes, snapshot, fields.list_codes)
    thresholds = {
        str(k): float(v) for k, v in default_rulebook().at(on or dt.date.today()).value(THRESHOLDS_PARAMETER).items()
    }
    found = snapshot.screen(query, country=code, identifiers=ids, lists=codes, thresholds=thresholds)
    # Stable: hits of equal score keep the matcher's order.
    ranked = sorted(found, key=lambda match: -match.score)
    return Screening(
        query=query,
        country=code,
        snapshot_id=snapshot.snapshot_id,
        snapshot_date=snapshot.snapshot_date,
        matcher=ranked[0].matcher if ranked else snapshot.matcher().name,
        thresholds=thresholds,
        hits=tuple(ScreeningHit.from_match(match) for match in ranked),
        identifiers=ids,
        list_codes=codes,
    )


def _name(raw: Any, field: str) -> str:
    if not isinstance(raw, str):
        raise InputError(field, f"a party name must be text, not {type(raw).__name__}")
    name = require_text(raw, field).strip()
    if not name:
        raise InputError(field, "is empty: give the party's name")
    if len(name) > MAX_NAME_CHARS:
        raise InputError(field, f"is {len(name):,} characters long; a party name has at most {MAX_NAME_CHARS:,}")
    return name


def _identifiers(raw: Any, field: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str | Mapping) or not isinstance(raw, Collection):
        raise InputError(field, 'give a list of identifiers such as ["USCC:91110000100000000X"]')
    out: list[str] = []
    for i, item in enumerate(raw):
        where = f"{field}.{i}"
        if not isinstance(item, str):
            raise InputError(where, f"an identifier must be text, not {type(item).__name__}")
        scheme, colon, value = require_text(item, where).strip().partition(":")
        if not colon or not scheme.strip() or not value.strip():
            raise InputError(where, f"{item!r} is not SCHEME:VALUE (e.g. USCC:91110000100000000X)")
        out.append(f"{scheme.strip().upper()}:{value.strip()}")
    return tuple(dict.fromkeys(out))


def parse_list_codes(raw: Any, lists: RestrictedPartyList, field: str = "list_codes") -> tuple[str, ...] | None:
    """List codes of `lists` (any case) as the snapshot spells them; None (every list) for None."""
    if raw is None:
        return None
    known = ", ".join(lists.list_codes)
    if isinstance(raw, str | Mapping) or not isinstance(raw, Collection):
        raise InputError(field, f"give a list of list codes such as ['EL'] (known: {known})")
    by_upper = {code.upper(): code for code in lists.list_codes}
    codes: list[str] = []
    for item in raw:
        code = by_upper.get(item.strip().upper()) if isinstance(item, str) else None
        if code is None:
            raise InputError(field, f"{item!r} is not a list in snapshot {lists.snapshot_id}; choose from {known}")
        codes.append(code)
    if not codes:
        raise InputError(field, f"is empty: name at least one list ({known}) or leave it out")
    return tuple(dict.fromkeys(codes))
