"""The `serve` command and the `keys` commands (mounted in `chipgate` and in `python -m chipgate.service`)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from chipgate.ledger import Ledger
from chipgate.service.auth import ROLES, KeyStore
from chipgate.service.ledger_access import describe_target, seed_if_empty
from chipgate.shell import ListsOption, console, emit_json, user_errors

if TYPE_CHECKING:
    from chipgate.rulebook import Rulebook

LedgerOption = Annotated[
    str | None,
    typer.Option(
        "--ledger",
        help="SQLite path or postgresql:// URL; default the embedded ledger in the user's data directory.",
        envvar="CHIPGATE_LEDGER",
    ),
]

keys_app = typer.Typer(help="API keys for `chipgate serve`: create, list, revoke.", no_args_is_help=True)


def _open(target: str | None, **options: Any) -> tuple[Ledger, KeyStore]:
    ledger = Ledger(target, **options)
    keys = KeyStore(ledger.store)
    keys.ensure_table()
    return ledger, keys


def prepare(target: str | None, seed: bool | None, rulebook: Rulebook | None = None) -> tuple[bool, str | None]:
    """First-start work, done once before any worker starts: seed the scenario into an empty
    ledger (by default only the embedded one), deciding its orders with `rulebook` (default:
    the shipped one), and create the first admin key.

    Returns whether it seeded and the new admin token (None when keys already exist)."""
    # The scenario's orders are held for weeks between contract and shipment.
    ledger, keys = _open(target, reservation_ttl=dt.timedelta(days=30), rulebook=rulebook)
    try:
        seeded = False
        if seed if seed is not None else target is None:
            seeded = seed_if_empty(ledger)
        token = keys.create("admin", "admin") if keys.is_empty() else None
        # Holds whose time ran out while no server was running are released now, in the
        # journal, so the first balances a user sees count only live reservations.
        ledger.expire(actor="chipgate-serve")
        return seeded, token
    finally:
        ledger.close()


def worker_lists(spec: str | None) -> tuple[str, Rulebook]:
    """The list snapshot `--lists` names, as every worker is to load it, and the rulebook
    screening against it.

    The choice is fixed when the server starts: "shipped", a stored snapshot's id (the one
    in use when `spec` is None or "active", so a later `chipgate lists use` does not split
    the workers), or a list file's absolute path.
    """
    from chipgate.parties.store import (
        ACTIVE,
        SHIPPED,
        active_snapshot_id,
        get_snapshot,
        list_snapshots,
        screening_rulebook,
    )
    from chipgate.rulebook import default_rulebook

    book = screening_rulebook(spec, field="--lists")
    if book is default_rulebook():
        return SHIPPED, book
    if spec is None or spec == ACTIVE:
        chosen = active_snapshot_id()
        assert chosen is not None  # with none chosen, the shipped rulebook was returned above
        return chosen, book
    # In the order resolve_lists reads `spec`: a stored id, a file, a prefix of one stored id.
    if any(snapshot.id == spec for snapshot in list_snapshots()):
        return spec, book
    path = Path(spec).expanduser()
    if path.is_file():
        return str(path.resolve()), book
    return get_snapshot(spec).id, book


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    ledger: LedgerOption = None,
    lists: ListsOption = None,
    seed: Annotated[
        bool | None,
        typer.Option(
            "--seed/--no-seed",
            help="Seed the 2026 H200 scenario into an empty ledger (default: only the embedded ledger).",
        ),
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (each with its own ledger connections).")] = 1,
    max_body: Annotated[int, typer.Option(help="Largest request body accepted, in bytes (larger: 413).")] = 64 * 1024,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log a line per request (costs CPU on every call).")
    ] = True,
) -> None:
    """Serve the HTTP API (/v1, docs at /docs) and the dashboard (/) on one ledger."""
    import uvicorn

    with user_errors():
        chosen, book = worker_lists(lists)
        seeded, token = prepare(ledger, seed, book)
    where = describe_target(ledger)
    console.print(f"ledger: {where}" + (" (seeded with the 2026 H200 scenario)" if seeded else ""), highlight=False)
    parties = book.restricted_parties
    kind = {"shipped": "the shipped snapshot", parties.snapshot_id: "a stored snapshot"}.get(chosen, chosen)
    console.print(f"lists: {parties.snapshot_id} of {parties.snapshot_date} ({kind})", highlight=False)
    if token is not None:
        console.print(
            "[bold]First admin API key[/] (shown once; store it now):\n"
            f"  {token}\n"
            "Create more with `chipgate keys create --role analyst|officer|admin --name NAME`.",
            highlight=False,
        )
    console.print(f"dashboard: http://{host}:{port}/   API docs: http://{host}:{port}/docs", highlight=False)
    # Workers are separate processes: they read their configuration from the environment.
    if ledger:
        os.environ["CHIPGATE_SERVICE_LEDGER"] = ledger
    else:
        os.environ.pop("CHIPGATE_SERVICE_LEDGER", None)
    os.environ["CHIPGATE_SERVICE_MAX_BODY"] = str(max_body)
    os.environ["CHIPGATE_SERVICE_LISTS"] = chosen
    uvicorn.run(
        "chipgate.service.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
    )


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    name: Annotated[str, typer.Option(help="A unique name; the journal records it as the actor of every write.")],
    ledger: LedgerOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create an API key and print its token (the only time it is shown)."""
    with user_errors():
        opened, keys = _open(ledger)
        try:
            token = keys.create(name, role)
        finally:
            opened.close()
    if json_out:
        emit_json({"name": name, "role": role, "token": token})
    else:
        console.print(f"{role} key {name!r} (shown once):\n  {token}", highlight=False)


@keys_app.command("list")
def keys_list(
    ledger: LedgerOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List API keys: name, role, token prefix, created, revoked."""
    with user_errors():
        opened, keys = _open(ledger)
        try:
            found = keys.list()
        finally:
            opened.close()
    if json_out:
        emit_json([k.to_dict() for k in found])
        return
    table = Table(title=f"API keys ({len(found)})", title_justify="left")
    for col in ("name", "role", "prefix", "created", "revoked"):
        table.add_column(col)
    for k in found:
        table.add_row(k.name, k.role, k.prefix + "…", k.created_at, k.revoked_at or "-")
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    name: Annotated[str, typer.Argument(help="The key's name.")],
    ledger: LedgerOption = None,
) -> None:
    """Revoke an API key; running servers refuse it within a few seconds."""
    with user_errors():
        opened, keys = _open(ledger)
        try:
            info = keys.revoke(name)
        finally:
            opened.close()
    console.print(f"revoked {info.name!r} ({info.role}) at {info.revoked_at}", highlight=False)


app = typer.Typer(
    name="chipgate-service",
    help="chipgate's HTTP service.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve)
app.add_typer(keys_app, name="keys")
