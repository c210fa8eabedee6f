"""What every command-line shell shares: consoles, JSON output, dates, exit statuses, and --lists.

Exit statuses (documented in the README): 0 done, 1 a documented finding, 2 bad input.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from chipgate.errors import ChipgateError, InputError, RuleDataError

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_BAD_INPUT = 2

console = Console()
err_console = Console(stderr=True)

# --lists, as every command that screens parties takes it (resolved by
# chipgate.parties.store.resolve_lists).
ListsOption = Annotated[
    str | None,
    typer.Option(
        "--lists",
        help="Screen against this list snapshot: an id from `chipgate lists`, 'shipped', or a list file "
        "(default: the snapshot chosen with `chipgate lists use`, else the shipped one).",
    ),
]


def _default(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    to_dict: Callable[[], Any] | None = getattr(value, "to_dict", None)
    if to_dict is not None:
        return to_dict()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any, *, indent: int | None = 2) -> str:
    return json.dumps(value, default=_default, indent=indent, ensure_ascii=False)


def emit_json(value: Any) -> None:
    sys.stdout.write(dumps(value) + "\n")


def fail(message: str, status: int = EXIT_BAD_INPUT) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(status)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn chipgate's errors into a one-line message and the documented exit status."""
    try:
        yield
    except InputError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    except RuleDataError as exc:
        fail(f"rule data: {exc}", EXIT_BAD_INPUT)
    except ChipgateError as exc:
        fail(str(exc), EXIT_BAD_INPUT)


def parse_date(raw: str | None, field: str = "--as-of") -> dt.date:
    """A date given on the command line; today when absent (the shell's job, never the core's)."""
    if raw is None or raw == "today":
        return dt.date.today()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InputError(field, f"{raw!r} is not a date; use YYYY-MM-DD") from None


def read_json_input(source: str, field: str = "input") -> Any:
    """JSON from a file path, or from standard input when `source` is '-'."""
    if source == "-":
        text = sys.stdin.read()
    else:
        try:
            with open(source, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise InputError(field, f"cannot read {source!r}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(field, f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
