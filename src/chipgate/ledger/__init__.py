"""The authorisation ledger: licences, approvals, caps and quotas that can never be overdrawn.

from chipgate.ledger import Ledger
with Ledger("ledger.sqlite") as ledger:
    ledger.authorize({...}, actor="alice")
    reservation = ledger.reserve("order-1", shipment, actor="alice")
    ledger.post(reservation.key, actor="alice")
    ledger.record_clearance(party, record_id, entry_fingerprint=..., list_code=..., reason=..., actor=...)
    ledger.verify()
"""

from chipgate.ledger.clearances import apply_clearances
from chipgate.ledger.errors import (
    AlreadyPosted,
    AlreadyVoided,
    AuthorizationExists,
    AuthorizationExpired,
    AuthorizationRevoked,
    ClearanceExists,
    ClearanceWithdrawn,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidAuthorization,
    InvalidQuantity,
    LedgerError,
    LedgerInputError,
    LimitBelowUsage,
    NotCovered,
    PartyNotCovered,
    ProductNotCovered,
    ReservationExpired,
    SchemaTooNew,
    ShipmentBlocked,
    UnknownAuthorization,
    UnknownClearance,
    UnknownReservation,
    VerifyFailed,
)
from chipgate.ledger.ledger import Ledger, ReserveRequest
from chipgate.ledger.model import (
    Authorization,
    Balance,
    Clearance,
    JournalEntry,
    Leg,
    Reservation,
    VerifyReport,
)
from chipgate.ledger.store import default_location

__all__ = [
    "AlreadyPosted",
    "AlreadyVoided",
    "Authorization",
    "AuthorizationExists",
    "AuthorizationExpired",
    "AuthorizationRevoked",
    "Balance",
    "Clearance",
    "ClearanceExists",
    "ClearanceWithdrawn",
    "IdempotencyConflict",
    "InsufficientBalance",
    "InvalidAuthorization",
    "InvalidQuantity",
    "JournalEntry",
    "Ledger",
    "LedgerError",
    "LedgerInputError",
    "Leg",
    "LimitBelowUsage",
    "NotCovered",
    "PartyNotCovered",
    "ProductNotCovered",
    "Reservation",
    "ReservationExpired",
    "ReserveRequest",
    "SchemaTooNew",
    "ShipmentBlocked",
    "UnknownAuthorization",
    "UnknownClearance",
    "UnknownReservation",
    "VerifyFailed",
    "VerifyReport",
    "apply_clearances",
    "default_location",
]
