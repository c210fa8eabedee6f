"""The refusals the ledger gives, each with a precise `code` a client can branch on.

LedgerError (chipgate.errors)
 +-- LedgerInputError        bad input; also an InputError, so shells exit 2
 |    +-- UnknownAuthorization      unknown_authorization
 |    +-- UnknownReservation        unknown_reservation
 |    +-- InvalidQuantity           invalid_quantity
 |    +-- AuthorizationExpired      authorization_expired
 |    +-- AuthorizationRevoked      authorization_revoked
 |    +-- ProductNotCovered         product_not_covered
 |    +-- PartyNotCovered           party_not_covered
 |    +-- InvalidAuthorization      invalid_authorization
 |    +-- UnknownClearance          unknown_clearance
 +-- InsufficientBalance     insufficient_balance
 +-- NotCovered              not_covered
 +-- ShipmentBlocked         shipment_blocked
 +-- IdempotencyConflict     idempotency_conflict
 +-- AuthorizationExists     authorization_exists
 +-- LimitBelowUsage         limit_below_usage
 +-- AlreadyPosted           already_posted
 +-- AlreadyVoided           already_voided
 +-- ReservationExpired      reservation_expired
 +-- SchemaTooNew            schema_too_new
 +-- VerifyFailed            verify_failed
 +-- ClearanceExists         clearance_exists
 +-- ClearanceWithdrawn      clearance_withdrawn
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chipgate.errors import InputError, LedgerError

if TYPE_CHECKING:
    from chipgate.ledger.model import Clearance

__all__ = [
    "AlreadyPosted",
    "AlreadyVoided",
    "AuthorizationExists",
    "AuthorizationExpired",
    "AuthorizationRevoked",
    "ClearanceExists",
    "ClearanceWithdrawn",
    "IdempotencyConflict",
    "InsufficientBalance",
    "InvalidAuthorization",
    "InvalidQuantity",
    "LedgerError",
    "LedgerInputError",
    "LimitBelowUsage",
    "NotCovered",
    "PartyNotCovered",
    "ProductNotCovered",
    "ReservationExpired",
    "SchemaTooNew",
    "ShipmentBlocked",
    "UnknownAuthorization",
    "UnknownClearance",
    "UnknownReservation",
    "VerifyFailed",
]


class LedgerInputError(LedgerError, InputError):
    """A ledger request with bad input: `field` names where, the message says the fix."""

    code = "invalid_input"

    def __init__(self, field: str, message: str) -> None:
        InputError.__init__(self, field, message)


class UnknownAuthorization(LedgerInputError):
    code = "unknown_authorization"

    def __init__(self, authorization_id: str, field: str = "authorization") -> None:
        self.authorization_id = authorization_id
        super().__init__(
            field,
            f"no authorisation {authorization_id!r} on file; `chipgate ledger balances` lists them",
        )


class UnknownReservation(LedgerInputError):
    code = "unknown_reservation"

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__("key", f"no reservation with key {key!r}")


class InvalidQuantity(LedgerInputError):
    code = "invalid_quantity"


class InvalidAuthorization(LedgerInputError):
    code = "invalid_authorization"


class AuthorizationExpired(LedgerInputError):
    code = "authorization_expired"


class AuthorizationRevoked(LedgerInputError):
    code = "authorization_revoked"


class ProductNotCovered(LedgerInputError):
    code = "product_not_covered"


class PartyNotCovered(LedgerInputError):
    code = "party_not_covered"


class UnknownClearance(LedgerInputError):
    code = "unknown_clearance"

    def __init__(self, clearance_id: str, field: str = "id") -> None:
        self.clearance_id = clearance_id
        super().__init__(field, f"no clearance {clearance_id!r} on file; `chipgate ledger clearances` lists them")


class InsufficientBalance(LedgerError):
    """An authorisation that cannot hold the quantity (or value) asked of it."""

    code = "insufficient_balance"

    def __init__(self, authorization_id: str, needed: int, available: int, unit: str = "units"):
        self.authorization_id = authorization_id
        self.needed = needed
        self.available = available
        self.unit = unit
        super().__init__(f"{authorization_id}: needs {needed:,} {unit} but only {available:,} available")


class NotCovered(LedgerError):
    """A shipment for which a required authorisation is not on file; `missing` says which."""

    code = "not_covered"

    def __init__(self, missing: tuple[str, ...]) -> None:
        self.missing = missing
        super().__init__("not covered: " + "; ".join(missing))


class ShipmentBlocked(LedgerError):
    code = "shipment_blocked"


class IdempotencyConflict(LedgerError):
    code = "idempotency_conflict"

    def __init__(self, key: str, what: str = "reservation") -> None:
        self.key = key
        super().__init__(
            f"key {key!r} was already used for a {what} with different content; use a new key for a new request"
        )


class AuthorizationExists(LedgerError):
    code = "authorization_exists"

    def __init__(self, authorization_id: str) -> None:
        self.authorization_id = authorization_id
        super().__init__(
            f"authorisation {authorization_id!r} already exists with different content; use `amend` to change it"
        )


class LimitBelowUsage(LedgerError):
    code = "limit_below_usage"


class AlreadyPosted(LedgerError):
    code = "already_posted"


class AlreadyVoided(LedgerError):
    code = "already_voided"


class ReservationExpired(LedgerError):
    code = "reservation_expired"


class SchemaTooNew(LedgerError):
    code = "schema_too_new"


class VerifyFailed(LedgerError):
    code = "verify_failed"


class ClearanceExists(LedgerError):
    """A live clearance of the same party and entry version, given for another reason."""

    code = "clearance_exists"

    def __init__(self, existing: Clearance) -> None:
        self.clearance_id = existing.id
        super().__init__(
            f"{existing.id} already clears {existing.party!r} for {existing.list_code} entry"
            f" {existing.record_id} ({existing.reason!r}); withdraw it first to record another reason"
        )


class ClearanceWithdrawn(LedgerError):
    """A reservation relied on a clearance that has since been withdrawn."""

    code = "clearance_withdrawn"

    def __init__(self, key: str, clearance_id: str) -> None:
        self.key = key
        self.clearance_id = clearance_id
        super().__init__(
            f"reservation {key!r} relied on clearance {clearance_id}, which was withdrawn;"
            " it can only be voided (reserve again once the match is cleared)"
        )
