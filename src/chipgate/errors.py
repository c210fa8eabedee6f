"""The errors chipgate raises, each naming what went wrong and how to fix it.

ChipgateError
 +-- InputError            bad user input: names the field and what is allowed (CLI exit 2, HTTP 4xx)
 |    +-- UnknownChipError  a chip id or name that is not in the catalogue, with the closest ids
 +-- RuleDataError          a rule file that does not load: names the file and the key
 +-- LedgerError            a ledger operation that was refused (see chipgate.ledger.errors)
"""

from __future__ import annotations

from collections.abc import Sequence


class ChipgateError(Exception):
    """Base class of every error chipgate raises on purpose."""


class InputError(ChipgateError, ValueError):
    """Bad input from a user: `field` names where, `message` says what is allowed."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


class UnknownChipError(InputError):
    """A chip id or name that does not resolve to exactly one catalogue entry."""

    def __init__(self, field: str, query: str, candidates: Sequence[str], ambiguous: bool) -> None:
        self.query = query
        self.candidates = tuple(candidates)
        self.ambiguous = ambiguous
        listed = ", ".join(self.candidates) if self.candidates else "none"
        what = "is ambiguous" if ambiguous else "is not in the chip catalogue"
        super().__init__(
            field,
            f"{query!r} {what}; closest ids: {listed} (see `chipgate chips`)",
        )


class RuleDataError(ChipgateError):
    """A rule data file that fails validation; names the file and the key."""

    def __init__(self, file: str, key: str, message: str) -> None:
        self.file = file
        self.key = key
        super().__init__(f"{file}: {key}: {message}")


class LedgerError(ChipgateError):
    """A ledger operation that was refused; subclasses carry a precise `code`."""

    code = "ledger_error"
