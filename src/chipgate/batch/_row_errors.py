"""Rows that cannot be decided or screened: how a run names them, and how `strict` stops it.

Light on purpose (no Arrow): the command line catches `StrictStop` before any columnar
library is loaded.
"""

from __future__ import annotations

from chipgate.errors import ChipgateError

# Rows listed in the summary (and when --strict stops).
FIRST_ERRORS = 10


def row_error(row: int, ident: object, message: object) -> str:
    """'row N (id X): message'; rows count from 1 after the header, the id only when the row has one."""
    return f"row {row}" + (f" (id {ident})" if ident is not None else "") + f": {message}"


class StrictStop(ChipgateError):
    """`strict` found rows that cannot be `action` ("decided", "screened"); `errors` lists the first of them."""

    def __init__(self, errors: list[str], action: str) -> None:
        self.errors = errors
        self.action = action
        super().__init__(f"rows that cannot be {action}:\n" + "\n".join(errors))
