"""`chipgate batch`: decide whole order books from Parquet, CSV or JSON Lines, locally or on Dask.

Exit status: 0 done (rows that cannot be decided are marked in the `error` column);
2 bad input, or with --strict any row that cannot be decided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, Task, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from chipgate.batch._row_errors import StrictStop
from chipgate.batch._settings import BATCH_ROWS, FORMATS
from chipgate.errors import InputError
from chipgate.shell import (
    EXIT_BAD_INPUT,
    ListsOption,
    console,
    emit_json,
    err_console,
    fail,
    parse_date,
    user_errors,
)

if TYPE_CHECKING:
    from chipgate.batch._replay import ReplayReport
    from chipgate.batch._run import Summary
    from chipgate.batch.screen import ScreenSummary
    from chipgate.rulebook import Rulebook

app = typer.Typer(
    help="Decide whole order books: Parquet, CSV or JSON Lines in, one decision per row out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Source = Annotated[
    Path, typer.Argument(help="The order book: .parquet, .csv or .jsonl with the columns in docs/batch.md.")
]
InputFormat = Annotated[str | None, typer.Option("--input-format", help=f"Input format ({', '.join(FORMATS)}).")]
OutputFormat = Annotated[
    str | None, typer.Option("--format", help=f"Output format ({', '.join(FORMATS)}); default from -o's extension.")
]
BatchRows = Annotated[int, typer.Option("--batch-rows", min=1, help="Rows decided per step (bounds memory).")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]


class _RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rows/s" if speed else "", style="progress.data.speed")


@contextmanager
def _progress(total: int | None, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A progress bar with rows/s on standard error, only when it is a terminal."""
    if not enabled or not err_console.is_terminal:
        yield None
        return
    columns = [
        SpinnerColumn(),
        TextColumn("{task.completed:,} rows"),
        BarColumn(),
        _RowsPerSecond(),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("deciding", total=total)

        def advance(rows: int) -> None:
            bar.advance(task, rows)

        yield advance


@contextmanager
def _strict_stops() -> Iterator[None]:
    """When --strict stops a run: the first rows that cannot be decided or screened, and exit 2."""
    try:
        yield
    except StrictStop as stop:
        err_console.print(f"[bold red]error:[/] --strict: rows that cannot be {stop.action} (nothing written):")
        _print_rows(stop.errors, err_console)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _print_rows(lines: list[str], where: Console) -> None:
    for line in lines:
        where.print(f"  {line}", highlight=False, markup=False)


def _show_pace_and_first_errors(summary: Summary | ScreenSummary, action: str) -> None:
    console.print(f"{summary.seconds:.2f} s, {summary.rows_per_second:,.0f} rows/s", highlight=False)
    if summary.first_errors:
        console.print(f"[bold]First rows that cannot be {action}[/] (see the error column):")
        _print_rows(summary.first_errors, console)


def _parse_day(raw: str | None, field: str) -> dt.date | None:
    return None if raw is None else parse_date(raw, field)


def _rulebook(lists: str | None) -> Rulebook:
    """The shipped rulebook, screening against the snapshot `--lists` names (default: the one in use)."""
    from chipgate.parties.store import screening_rulebook

    return screening_rulebook(lists, field="--lists")


@app.command("decide")
def decide_command(
    source: Source,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the rows with their decisions.")],
    output_format: OutputFormat = None,
    input_format: InputFormat = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Decide every row under the rules of this date instead of its own.")
    ] = None,
    ledger: Annotated[
        str | None,
        typer.Option(
            "--ledger", help="Check rows needing an authorisation against this ledger (file or postgresql:// URL)."
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop with exit 2 at the first rows that cannot be decided.")
    ] = False,
    engine: Annotated[str, typer.Option("--engine", help="local (threads on this machine) or dask.")] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address (tcp://HOST:PORT); default a local cluster."),
    ] = None,
    lists: ListsOption = None,
    batch_rows: BatchRows = BATCH_ROWS,
    json_out: JsonOut = False,
) -> None:
    """Decide every row of an order book and write the decisions."""
    from chipgate.batch._run import decide_file  # Arrow and Polars load only when used

    if scheduler and engine != "dask":
        fail("--scheduler: needs --engine dask")
    with user_errors():
        on = _parse_day(as_of, "--as-of")
        book = _rulebook(lists)
        total = _row_count(source)
        with _strict_stops(), _progress(total, not json_out) as advance:
            summary = decide_file(
                source,
                output,
                input_format=input_format,
                output_format=output_format,
                on=on,
                rulebook=book,
                strict=strict,
                ledger=ledger,
                engine=engine,
                scheduler=scheduler,
                batch_rows=batch_rows,
                progress=advance,
            )
    if json_out:
        emit_json(summary.to_dict())
    else:
        _show_summary(summary)


def _row_count(source: Path) -> int | None:
    if source.suffix.lower() not in (".parquet", ".pq") or not source.exists():
        return None
    import pyarrow.parquet as pq

    try:
        return int(pq.ParquetFile(source).metadata.num_rows)
    except Exception:
        return None


def _show_summary(summary: Summary) -> None:
    table = Table(title=f"{summary.rows:,} rows decided → {summary.output}", title_justify="left")
    table.add_column("outcome")
    table.add_column("rows", justify="right")
    for outcome, count in sorted(summary.outcomes.items()):
        table.add_row(outcome, f"{count:,}")
    if summary.errors:
        table.add_row("[red]error[/]", f"{summary.errors:,}")
    console.print(table)
    _show_pace_and_first_errors(summary, "decided")


@app.command("replay")
def replay_command(
    source: Source,
    dates: Annotated[
        str, typer.Option("--dates", help="Comma-separated dates to decide the book under, e.g. 2023-01-01,2026-03-01.")
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the per-row comparison (state and fields per date).")
    ] = None,
    output_format: OutputFormat = None,
    input_format: InputFormat = None,
    lists: ListsOption = None,
    batch_rows: BatchRows = BATCH_ROWS,
    json_out: JsonOut = False,
) -> None:
    """Decide the same book under several dates and summarise what changed between them."""
    from chipgate.batch._replay import replay_file  # Arrow and Polars load only when used

    with user_errors():
        days = [_parse_day(part.strip(), "--dates") for part in dates.split(",") if part.strip()]
        if any(day is None for day in days):
            raise InputError("--dates", "give dates as YYYY-MM-DD, comma-separated")
        book = _rulebook(lists)
        with _progress(None, not json_out) as advance:
            report = replay_file(
                source,
                [d for d in days if d is not None],
                rulebook=book,
                input_format=input_format,
                output=output,
                output_format=output_format,
                batch_rows=batch_rows,
                progress=advance,
            )
    if json_out:
        emit_json(report.to_dict())
    else:
        _show_replay(report)


def _show_replay(report: ReplayReport) -> None:
    states = sorted({s for counts in report.by_date.values() for s in counts})
    table = Table(title=f"{report.rows:,} rows under {len(report.dates)} dates", title_justify="left")
    table.add_column("outcome / review policy", overflow="fold")
    for day in report.dates:
        table.add_column(day.isoformat(), justify="right")
    for name in states:
        table.add_row(name, *(f"{report.by_date[day].get(name, 0):,}" for day in report.dates))
    console.print(table)
    moves = report.to_dict()["transitions"]
    if not moves:
        console.print("No row changed between these dates.")
        return
    changes = Table(title=f"What changed ({report.changed_rows:,} rows changed at least once)", title_justify="left")
    for name in ("from date", "to date", "from", "to"):
        changes.add_column(name, overflow="fold")
    changes.add_column("rows", justify="right")
    for move in moves:
        changes.add_row(move["from_date"], move["to_date"], move["from"], move["to"], f"{move['rows']:,}")
    console.print(changes)
    if report.output:
        console.print(f"Per-row comparison written to {report.output}", highlight=False)


@app.command("screen")
def screen_command(
    source: Annotated[
        Path, typer.Argument(help="The parties: .csv, .jsonl or .parquet with a name column (and country, id).")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write one row per hit.")],
    name_column: Annotated[str, typer.Option("--name-column", help="The column holding party names.")] = "name",
    country_column: Annotated[
        str | None,
        typer.Option("--country-column", help="The column of ISO 3166 alpha-2 countries; default country, if present."),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option("--id-column", help="The row's own id, copied to each hit; default id, if present."),
    ] = None,
    identifiers_column: Annotated[
        str | None,
        typer.Option(
            "--identifiers-column",
            help="Party identifiers as SCHEME:VALUE, several joined by |; default identifiers, if present.",
        ),
    ] = None,
    list_codes: Annotated[
        list[str] | None, typer.Option("--list", help="Only this list (EL, MEU, 1260H, ...); repeatable.")
    ] = None,
    lists: ListsOption = None,
    min_strength: Annotated[
        str, typer.Option("--min-strength", help="Write hits of this strength or stronger: possible or match.")
    ] = "possible",
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop with exit 2 at the first rows that cannot be screened.")
    ] = False,
    output_format: OutputFormat = None,
    input_format: InputFormat = None,
    batch_rows: BatchRows = BATCH_ROWS,
    json_out: JsonOut = False,
) -> None:
    """Screen the party in every row against the restricted-party lists; one output row per hit.

    Each distinct party is screened once. Rows without hits are counted as clear;
    rows that cannot be screened (an empty name, a bad country) are written with
    their error. Exit 0 whether or not there are hits.
    """
    from chipgate.batch.screen import screen_file  # Arrow loads only when used

    with user_errors(), _strict_stops(), _progress(_row_count(source), not json_out) as advance:
        summary = screen_file(
            source,
            output,
            input_format=input_format,
            output_format=output_format,
            lists=lists,
            list_codes=list_codes or None,
            min_strength=min_strength,
            name_column=name_column,
            country_column=country_column,
            id_column=id_column,
            identifiers_column=identifiers_column,
            strict=strict,
            batch_rows=batch_rows,
            progress=advance,
        )
    if json_out:
        emit_json(summary.to_dict())
    else:
        _show_screen_summary(summary)


def _show_screen_summary(summary: ScreenSummary) -> None:
    console.print(Text(f"{summary.rows:,} rows screened → {summary.output}", style="bold"))
    table = Table()
    table.add_column("best hit")
    table.add_column("rows", justify="right")
    table.add_row("[bold red]match[/]", f"{summary.match:,}")
    table.add_row("[yellow]possible[/]", f"{summary.possible:,}")
    table.add_row("clear", f"{summary.clear:,}")
    if summary.errors:
        table.add_row("[red]error[/]", f"{summary.errors:,}")
    console.print(table)
    console.print(
        f"{summary.distinct:,} distinct parties screened, {summary.hits:,} hit rows written; "
        f"snapshot {summary.snapshot}, matcher {summary.matcher}",
        highlight=False,
    )
    _show_pace_and_first_errors(summary, "screened")
