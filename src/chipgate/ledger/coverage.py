"""Which authorisations on file cover a shipment: pure matching, no I/O and no clock.

`plan_coverage` turns a shipment and its decision into slots: each slot is one thing the
shipment must draw on (a US licence, the derived volume cap, a per-customer cap, a China
import approval, a duty-free quota) with the alternative routes that could satisfy it.
`choose` then picks, per slot, the first route whose balances can take the quantity.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

from chipgate.ledger.errors import (
    AuthorizationExpired,
    AuthorizationRevoked,
    LedgerInputError,
    PartyNotCovered,
    ProductNotCovered,
)
from chipgate.ledger.model import Authorization, Leg, cents
from chipgate.model import Decision, Reason, Shipment
from chipgate.rulebook import RuleSet

_LEGAL_SUFFIXES = frozenset(
    {
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "ltd",
        "limited",
        "llc",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "bv",
        "nv",
        "kk",
        "pte",
        "holdings",
        "holding",
        "group",
    }
)


def _fallback_normalize(name: str) -> str:
    """Casefold, strip accents and punctuation, drop trailing legal forms."""
    text = unicodedata.normalize("NFKD", name).casefold()
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    tokens = re.sub(r"[^\w]+", " ", text).split()
    while len(tokens) > 1 and tokens[-1] in _LEGAL_SUFFIXES:
        tokens.pop()
    return " ".join(tokens)


def _pick_normalizer() -> Callable[[str], str]:
    # chipgate.parties owns name normalisation for screening; the ledger uses the same
    # one when it is available so a name matches alike in both places.
    try:
        from chipgate import parties
    except ImportError:
        return _fallback_normalize
    found = getattr(parties, "normalize_name", None)
    return found if callable(found) else _fallback_normalize


normalize_name: Callable[[str], str] = _pick_normalizer()


@lru_cache(maxsize=65536)
def _normalized(name: str) -> str:
    return normalize_name(name)


def same_party(a: str, b: str) -> bool:
    return a == b or _normalized(a) == _normalized(b)


def child_id(approval_id: str, holder: str) -> str:
    """The account that carries one holder's sub-limit inside a pooled approval."""
    return f"{approval_id}#{holder}"


@dataclass(frozen=True, slots=True)
class NearMiss:
    """An authorisation of the right kind that does not cover the shipment, and why."""

    authorization_id: str
    code: str
    message: str

    def error(self) -> LedgerInputError:
        cls: type[LedgerInputError] = {
            "authorization_expired": AuthorizationExpired,
            "authorization_revoked": AuthorizationRevoked,
            "product_not_covered": ProductNotCovered,
        }.get(self.code, PartyNotCovered)
        return cls("authorization", f"{self.authorization_id}: {self.message}")


@dataclass(frozen=True, slots=True)
class Slot:
    """One thing the shipment draws on, with the alternative routes (account-id tuples)."""

    requirement: str
    routes: tuple[tuple[str, ...], ...]
    quantity: int
    value_cents: int | None


@dataclass(frozen=True, slots=True)
class Plan:
    slots: tuple[Slot, ...]
    missing: tuple[str, ...]
    near_misses: tuple[NearMiss, ...]
    # Every account any route could draw on, in lock order (sorted by id).
    accounts: tuple[str, ...] = field(init=False)
    # When every slot has a single route and no account serves two slots: the accounts
    # drawn, in the order `choose` checks them (slot by slot), each with whether the
    # shipment's value is drawn on it too (the US licence slot). None otherwise. Lets
    # `take` skip the general search of `choose`.
    draws: tuple[tuple[str, bool], ...] | None = field(init=False)
    # The same accounts in id order (the order legs are stored and locked in).
    draws_by_id: tuple[tuple[str, bool], ...] | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "accounts", tuple(sorted({a for s in self.slots for r in s.routes for a in r})))
        draws: list[tuple[str, bool]] | None = []
        for slot in self.slots:
            if len(slot.routes) != 1:
                draws = None
                break
            assert draws is not None
            draws.extend((a, slot.requirement == "us_export_license") for a in slot.routes[0])
        if draws is not None and len({a for a, _ in draws}) != len(draws):
            draws = None
        object.__setattr__(self, "draws", tuple(draws) if draws is not None else None)
        object.__setattr__(self, "draws_by_id", tuple(sorted(draws)) if draws is not None else None)

    def resized(self, quantity: int, value_cents: int | None) -> Plan:
        """The same routes for another quantity (and value) of the same kind of shipment."""
        slots = tuple(
            Slot(
                s.requirement,
                s.routes,
                quantity,
                value_cents if s.requirement == "us_export_license" else None,
            )
            for s in self.slots
        )
        return Plan(slots, self.missing, self.near_misses)


def plan_key(shipment: Shipment, decision: Decision, on: dt.date, using: Collection[str] | None) -> tuple[object, ...]:
    """Everything `plan_coverage` reads except quantity and value: equal keys, equal routes."""
    return (
        shipment.consignee.name,
        shipment.end_user.name,
        shipment.exporter,
        shipment.item.chip,
        shipment.kind,
        shipment.to_country,
        decision.eccn,
        decision.classification.chip_id,
        decision.us_export.review_policy,
        decision.us_export.license_required,
        decision.china_import.approval_required,
        tuple(sorted({r.kind for r in decision.requirements})),
        on,
        tuple(sorted(using)) if using is not None else None,
    )


@dataclass(frozen=True, slots=True)
class Shortfall:
    authorization_id: str
    needed: int
    available: int
    unit: str

    def __str__(self) -> str:
        return f"{self.authorization_id}: needs {self.needed:,} {self.unit}, {self.available:,} available"


def shipment_products(shipment: Shipment, decision: Decision) -> frozenset[str]:
    """The names an authorisation may use for the shipped item: chip id and ECCN."""
    names = set()
    if shipment.item.chip:
        names.add(shipment.item.chip.casefold())
    if decision.classification.chip_id:
        names.add(decision.classification.chip_id.casefold())
    if decision.eccn:
        names.add(decision.eccn.casefold())
    return frozenset(names)


def _valid_on(auth: Authorization, on: dt.date) -> str | None:
    if auth.valid_from and on < auth.valid_from:
        return f"not valid before {auth.valid_from.isoformat()}"
    if auth.valid_until and on > auth.valid_until:
        return f"expired on {auth.valid_until.isoformat()}"
    return None


def _covers_product(auth: Authorization, products: frozenset[str]) -> bool:
    if not auth.products and auth.kind == "duty_free_quota":
        return True  # a quota that names no products counts every chip imported
    return any(p.casefold() in products for p in auth.products)


def _any_party(names: Iterable[str], party: str) -> bool:
    return any(same_party(n, party) for n in names)


SECTION_232 = "section-232-semiconductors"
QUOTA_MULTIPLIER = "tariffs.taiwan_232_quota.multiplier"


def owes_section_232(decision: Decision) -> bool:
    return any(d.tariff == SECTION_232 and d.rate > 0 for d in decision.duties)


def duty_free_within_quota(decision: Decision, quotas: Sequence[str], rules: RuleSet) -> Decision:
    """The decision with its Section 232 duty waived because a duty-free quota covers the import."""
    if not quotas or not owes_section_232(decision):
        return decision
    multiplier = rules.get(QUOTA_MULTIPLIER)
    duties = tuple(
        replace(d, rate=Decimal(0), amount_usd=Decimal(0) if d.amount_usd is not None else None)
        if d.tariff == SECTION_232
        else d
        for d in decision.duties
    )
    reason = Reason(
        rule=QUOTA_MULTIPLIER,
        citation=multiplier.citation if multiplier else "US-Taiwan agreement of 2026-01-15",
        effective_from=multiplier.effective_from if multiplier else None,
        text=f"No Section 232 duty: the import is inside the duty-free quota {', '.join(quotas)} on file.",
        facts={"quotas": list(quotas)},
    )
    return replace(decision, duties=duties, reasons=(*decision.reasons, reason))


def plan_coverage(
    shipment: Shipment,
    decision: Decision,
    authorizations: Mapping[str, Authorization],
    on: dt.date | None = None,
    *,
    revoked: Collection[str] = (),
    using: Collection[str] | None = None,
) -> Plan:
    """The slots a shipment must draw on and the routes on file for each.

    `using` restricts the choice to the named authorisations; one of them that does not
    apply raises the precise error (expired, revoked, wrong product, wrong party).
    """
    on = on or shipment.date
    products = shipment_products(shipment, decision)
    quantity = shipment.quantity
    value = cents(Decimal(quantity) * shipment.unit_value_usd) if shipment.unit_value_usd is not None else None
    near: list[NearMiss] = []
    slots: list[Slot] = []
    missing: list[str] = []
    ordered = [authorizations[k] for k in sorted(authorizations)]
    if using is not None:
        ordered = [a for a in ordered if a.id in using]

    def applicable(auth: Authorization, party_ok: bool, party_text: str) -> bool:
        if auth.id in revoked:
            near.append(NearMiss(auth.id, "authorization_revoked", "was revoked"))
            return False
        why = _valid_on(auth, on)
        if why:
            near.append(NearMiss(auth.id, "authorization_expired", f"{why} (shipment {on})"))
            return False
        if not _covers_product(auth, products):
            near.append(
                NearMiss(
                    auth.id,
                    "product_not_covered",
                    f"covers {', '.join(auth.products)}, not {', '.join(sorted(products)) or '?'}",
                )
            )
            return False
        if not party_ok:
            near.append(NearMiss(auth.id, "party_not_covered", party_text))
            return False
        return True

    us_required = decision.us_export.license_required or any(
        r.kind == "us_export_license" for r in decision.requirements
    )
    cn_required = decision.china_import.approval_required or any(
        r.kind == "cn_import_approval" for r in decision.requirements
    )

    if us_required:
        licences = []
        for auth in ordered:
            if auth.kind != "us_export_license":
                continue
            party_ok = (
                _any_party(auth.consignees, shipment.consignee.name)
                and (not auth.end_users or _any_party(auth.end_users, shipment.end_user.name))
                and (not (auth.licensee and shipment.exporter) or same_party(auth.licensee, shipment.exporter))
            )
            if applicable(
                auth,
                party_ok,
                f"licensed to {auth.licensee or '?'} for {', '.join(auth.consignees)},"
                f" not {shipment.exporter or '?'} -> {shipment.consignee.name}"
                f" / {shipment.end_user.name}",
            ):
                licences.append(auth)
        if licences:
            slots.append(Slot("us_export_license", tuple((a.id,) for a in licences), quantity, value))
            exporter = shipment.exporter or licences[0].licensee
            # 91 FR 1684: under the case-by-case lane, China/Macau shipments of a product
            # stay within a share of the exporter's US end-user shipments of it.
            if decision.us_export.review_policy == "case_by_case" and exporter:
                caps = [
                    a
                    for a in ordered
                    if a.kind == "derived_volume_cap"
                    and applicable(
                        a,
                        same_party(a.exporter or "", exporter),
                        f"exporter {a.exporter}, not {exporter}",
                    )
                ]
                if caps:
                    slots.append(Slot("derived_volume_cap", tuple((a.id,) for a in caps), quantity, None))
            for auth in ordered:
                if auth.kind == "per_customer_cap" and applicable(
                    auth,
                    _any_party(auth.consignees, shipment.consignee.name)
                    or _any_party(auth.consignees, shipment.end_user.name),
                    f"cap for {', '.join(auth.consignees)}, not {shipment.consignee.name}",
                ):
                    slots.append(Slot("per_customer_cap", ((auth.id,),), quantity, None))
        else:
            missing.append(
                "us_export_license: no licence on file for"
                f" {shipment.exporter or 'the exporter'} -> {shipment.consignee.name}"
                f" ({shipment.end_user.name}), {', '.join(sorted(products))}, on {on}"
            )

    if cn_required:
        routes: list[tuple[str, ...]] = []
        for auth in ordered:
            if auth.kind != "cn_import_approval":
                continue
            holder = next((h for h in auth.holders if same_party(h, shipment.end_user.name)), None)
            if not applicable(
                auth,
                holder is not None,
                f"held by {', '.join(auth.holders)}, not {shipment.end_user.name}",
            ):
                continue
            assert holder is not None
            share = next((h for h in auth.sub_limits if same_party(h, holder)), None)
            routes.append((auth.id, child_id(auth.id, share)) if share else (auth.id,))
        if routes:
            slots.append(Slot("cn_import_approval", tuple(routes), quantity, None))
        else:
            missing.append(
                f"cn_import_approval: no approval on file for {shipment.end_user.name},"
                f" {', '.join(sorted(products))}, on {on}"
            )

    if shipment.kind == "import" and shipment.to_country == "US" and owes_section_232(decision):
        # Taiwan Section 232 deal (2026-01-15): imports by a company building US capacity
        # enter duty-free up to its quota; the quota is drawn only when a duty is owed.
        quotas = [
            a
            for a in ordered
            if a.kind == "duty_free_quota"
            and applicable(
                a,
                same_party(a.company or "", shipment.consignee.name),
                f"quota of {a.company}, not {shipment.consignee.name}",
            )
        ]
        if quotas:
            slots.append(Slot("duty_free_quota", tuple((a.id,) for a in quotas), quantity, None))

    if using is not None:
        drawn = {a for s in slots for r in s.routes for a in r}
        for auth_id in using:
            if auth_id not in drawn:
                reason = next((n for n in near if n.authorization_id == auth_id), None)
                if reason is not None:
                    raise reason.error()
                raise PartyNotCovered("authorization", f"{auth_id}: does not apply to this shipment")

    return Plan(tuple(slots), tuple(missing), tuple(near))


class AccountLike(Protocol):
    """What `choose` reads of an account: units and value (US cents) limits and usage."""

    limit: int | None
    held: int
    used: int
    value_limit: int | None
    value_held: int
    value_used: int


def take(
    plan: Plan, accounts: Mapping[str, AccountLike], quantity: int, value_cents: int | None
) -> tuple[Leg, ...] | Shortfall | None:
    """For a plan with `draws`: the legs `choose` would return, in id order, or the first
    of its shortfalls (the one a refusal names). None for a plan without `draws`: then
    `choose` searches the alternatives."""
    draws = plan.draws
    if draws is None or plan.draws_by_id is None:
        return None
    for account_id, carries_value in draws:
        account = accounts[account_id]
        limit = account.limit
        if limit is not None:
            room = limit - account.held - account.used
            if quantity > room:
                return Shortfall(account_id, quantity, max(0, room), "units")
        if carries_value and account.value_limit is not None:
            room = account.value_limit - account.value_held - account.value_used
            if value_cents is None:
                return Shortfall(account_id, 0, max(0, room), "US cents (give unit_value_usd)")
            if value_cents > room:
                return Shortfall(account_id, value_cents, max(0, room), "US cents")
    value = value_cents or 0
    return tuple(Leg(account_id, quantity, value if carries else 0) for account_id, carries in plan.draws_by_id)


def choose(
    plan: Plan,
    accounts: Mapping[str, AccountLike],
    quantity: int | None = None,
    value_cents: int | None = None,
) -> tuple[tuple[Leg, ...], tuple[Shortfall, ...]]:
    """Per slot, the first route every account of which can take the quantity (and value).

    `quantity` and `value_cents`, when given, replace the plan's (a plan reused for another
    shipment of the same kind). Returns the legs to hold and, for each slot no route can
    satisfy, the shortfall of its first route's first account that lacks room.
    """
    taken: dict[str, list[int]] = {}
    legs: list[Leg] = []
    shortfalls: list[Shortfall] = []
    for slot in plan.slots:
        units = slot.quantity if quantity is None else quantity
        carries_value = slot.requirement == "us_export_license"
        need_value = (slot.value_cents if quantity is None else value_cents) if carries_value else None
        value = need_value or 0
        first_short: Shortfall | None = None
        for route in slot.routes:
            short = None
            for account_id in route:
                account = accounts[account_id]
                extra = taken.get(account_id)
                extra_units, extra_value = (extra[0], extra[1]) if extra else (0, 0)
                if account.limit is not None:
                    room = account.limit - account.held - account.used - extra_units
                    if units > room:
                        short = Shortfall(account_id, units, max(0, room), "units")
                        break
                if carries_value and account.value_limit is not None:
                    room = account.value_limit - account.value_held - account.value_used
                    room -= extra_value
                    if need_value is None:
                        short = Shortfall(account_id, 0, max(0, room), "US cents (give unit_value_usd)")
                        break
                    if need_value > room:
                        short = Shortfall(account_id, need_value, max(0, room), "US cents")
                        break
            if short is None:
                for account_id in route:
                    legs.append(Leg(account_id, units, value))
                    mine = taken.setdefault(account_id, [0, 0])
                    mine[0] += units
                    mine[1] += value
                break
            first_short = first_short or short
        else:
            if first_short is not None:
                shortfalls.append(first_short)
    return tuple(legs), tuple(shortfalls)
