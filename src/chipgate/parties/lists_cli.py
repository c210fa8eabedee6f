"""`chipgate lists ...`: import restricted-party list snapshots, see them, choose the one in use.

Exit status: 0 done; 2 bad input (an unknown format or snapshot id, a file that is not
what it claims, a missing column, an unparseable date), with a message naming the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from chipgate.parties._import import FORMATS, source_table
from chipgate.parties.store import (
    SHIPPED,
    StoredSnapshot,
    active_snapshot_id,
    get_snapshot,
    import_snapshot,
    list_snapshots,
    lists_home,
    remove_snapshot,
    use_snapshot,
)
from chipgate.shell import console, emit_json, parse_date, user_errors

app = typer.Typer(
    help="Restricted-party list snapshots: import CSL, OpenSanctions or chipgate files, list them, choose one.",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
SnapshotArg = Annotated[str, typer.Argument(metavar="ID", help="A snapshot id, or a prefix of exactly one.")]


@app.callback()
def _lists(ctx: typer.Context) -> None:
    """Without a command, show the snapshots (as `chipgate lists list`)."""
    if ctx.invoked_subcommand is None:
        with user_errors():
            _show_list(as_json=False)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The list file to import.")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help=f"One of {', '.join(FORMATS)}; default: read from the file."),
    ] = None,
    snapshot_date: Annotated[
        str | None,
        typer.Option(
            "--snapshot-date", help="The date the lists are as of (YYYY-MM-DD); default: the file's modification date."
        ),
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Where the file came from; default: its name and SHA-256.")
    ] = None,
    no_activate: Annotated[
        bool, typer.Option("--no-activate", help="Store the snapshot without making it the one in use.")
    ] = False,
    as_json: JsonOut = False,
) -> None:
    """Read a list file and store it as a new snapshot (the one in use, unless --no-activate)."""
    with user_errors():
        date = parse_date(snapshot_date, "--snapshot-date") if snapshot_date is not None else None
        snapshot, created = import_snapshot(file, fmt=fmt, snapshot_date=date, source=source, activate=not no_activate)
        active = active_snapshot_id() == snapshot.id
    if as_json:
        emit_json({**snapshot.to_dict(), "created": created, "active": active})
        return
    what = "Imported" if created else "Already stored:"
    console.print(
        f"{what} [bold]{snapshot.id}[/]: {snapshot.entries:,} entries from {snapshot.file} ({snapshot.format})"
        + (", now in use." if active else ", not in use (`chipgate lists use` chooses it)."),
        highlight=False,
    )
    _print_details(snapshot)


@app.command("list")
def list_(as_json: JsonOut = False) -> None:
    """The stored snapshots and the shipped one; the one in use is marked."""
    with user_errors():
        _show_list(as_json)


@app.command("show")
def show(snapshot_id: SnapshotArg, as_json: JsonOut = False) -> None:
    """One snapshot: where it came from, its lists with their entries, what was not mapped or kept."""
    with user_errors():
        if snapshot_id == SHIPPED:
            info = _shipped_row(active_snapshot_id() is None)
            if as_json:
                emit_json(info)
            else:
                _print_shipped(info)
            return
        snapshot = get_snapshot(snapshot_id, keywords=(SHIPPED,))
        active = active_snapshot_id() == snapshot.id
    if as_json:
        emit_json({**snapshot.to_dict(), "active": active, "path": str(snapshot.csv_path)})
        return
    console.print(f"[bold]{snapshot.id}[/]" + ("  (in use)" if active else ""), highlight=False)
    console.print(
        f"  snapshot date {snapshot.snapshot_date.isoformat()} ({snapshot.snapshot_date_basis})\n"
        f"  source        {snapshot.source}\n"
        f"  file          {snapshot.file} ({snapshot.format}, sha256 {snapshot.file_sha256})\n"
        f"  imported      {snapshot.imported_at}\n"
        f"  stored at     {snapshot.csv_path}",
        highlight=False,
    )
    _print_details(snapshot)


@app.command("use")
def use(snapshot_id: Annotated[str, typer.Argument(metavar="ID|shipped", help="A snapshot id, or `shipped`.")]) -> None:
    """Choose the snapshot that screening uses by default (`shipped`: the one in the package)."""
    with user_errors():
        chosen = use_snapshot(snapshot_id)
    if chosen is None:
        console.print("Using the shipped snapshot.", highlight=False)
    else:
        console.print(f"Using [bold]{chosen}[/].", highlight=False)


@app.command("remove")
def remove(snapshot_id: SnapshotArg) -> None:
    """Delete a stored snapshot; if it was in use, the shipped one is used from now on."""
    with user_errors():
        snapshot, was_active = remove_snapshot(snapshot_id)
    console.print(f"Removed [bold]{snapshot.id}[/].", highlight=False)
    if was_active:
        console.print("It was in use; the shipped snapshot is used now.", highlight=False)


def _show_list(as_json: bool) -> None:
    active = active_snapshot_id()
    snapshots = list_snapshots()
    rows: list[dict[str, Any]] = [_shipped_row(active is None)]
    for snapshot in snapshots:
        rows.append({**snapshot.to_dict(), "active": snapshot.id == active, "shipped": False})
    if as_json:
        emit_json(rows)
        return
    # Paragraphs rather than a wide table: per-list counts and sources do not fit 80 columns.
    console.print(f"[bold]Restricted-party list snapshots[/] (stored in {lists_home()})", highlight=False)
    for row in rows:
        marker = "*" if row["active"] else " "
        kind = "shipped" if row["shipped"] else row["format"]
        console.print(
            f"{marker} [bold]{row['id']}[/]  as of {row['snapshot_date']}  {kind}  {row['entries']:,} entries",
            highlight=False,
        )
        console.print("    " + ", ".join(f"{code} {count:,}" for code, count in row["lists"].items()), highlight=False)
        console.print(f"    [dim]{row['source']}[/]", highlight=False)
    console.print("* in use; choose with `chipgate lists use ID|shipped`.", highlight=False)


def _shipped_row(active: bool) -> dict[str, Any]:
    from chipgate.rulebook import default_rulebook

    shipped = default_rulebook().restricted_parties
    counts: dict[str, int] = {}
    for entry in shipped.entries:
        counts[entry.list_code] = counts.get(entry.list_code, 0) + 1
    return {
        "id": shipped.snapshot_id,
        "snapshot_date": shipped.snapshot_date.isoformat(),
        "source": shipped.source,
        "format": "chipgate-csv",
        "entries": len(shipped.entries),
        "lists": dict(sorted(counts.items())),
        "active": active,
        "shipped": True,
    }


def _print_shipped(info: dict[str, Any]) -> None:
    console.print(f"[bold]{info['id']}[/] (shipped)" + ("  (in use)" if info["active"] else ""), highlight=False)
    console.print(f"  snapshot date {info['snapshot_date']}\n  source        {info['source']}", highlight=False)
    _print_counts(info["lists"])


def _print_details(snapshot: StoredSnapshot) -> None:
    _print_counts(snapshot.lists)
    for code, info in snapshot.unmapped.items():
        console.print(
            f"[yellow]unmapped[/]: {_entries(info['entries'])} from {info['source']!r} kept under code {code}; "
            "decision rules do not act on it (see docs/lists.md).",
            highlight=False,
        )
    for why, count in snapshot.skipped.items():
        console.print(f"not kept: {count:,} {why}", highlight=False)


def _entries(count: int) -> str:
    return f"{count:,} {'entry' if count == 1 else 'entries'}"


def _print_counts(counts: dict[str, int] | Any) -> None:
    known = source_table().lists
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("list", no_wrap=True)
    table.add_column("entries", justify="right", no_wrap=True)
    table.add_column("name", overflow="fold")
    for code, count in counts.items():
        name = known[code].name if code in known else "[yellow](not a list chipgate knows)[/]"
        table.add_row(code, f"{count:,}", name)
    console.print(table)
