"""`chipgate ledger ...` and `chipgate demo`: the ledger's command-line shell.

Every command takes `--ledger PATH_OR_URL` (default: `$CHIPGATE_HOME/ledger.sqlite`, else
the user's data directory). The commands that decide or look list entries up (`reserve`,
`check`, `clear`, `clearances`, `demo`) screen against the list snapshot in use
(`chipgate lists use`), or the one `--lists` names. Exit status: 0 done; 1 `verify` found
a discrepancy; 2 bad input or a refused operation (the message names the field or the
authorisation).
"""

from __future__ import annotations

import datetime as dt
import getpass
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table

from chipgate.errors import InputError
from chipgate.inputs import parse_shipment
from chipgate.ledger import clearances as clearing
from chipgate.ledger.errors import LedgerInputError
from chipgate.ledger.ledger import Ledger
from chipgate.ledger.model import Balance, Clearance, JournalEntry, Reservation
from chipgate.ledger.scenario import load_scenario, run_orders, seed
from chipgate.shell import (
    EXIT_FINDING,
    ListsOption,
    console,
    emit_json,
    err_console,
    parse_date,
    read_json_input,
    user_errors,
)

if TYPE_CHECKING:
    from chipgate.rulebook import Rulebook

app = typer.Typer(
    help="The authorisation ledger: licences, approvals, caps and quotas that are never overdrawn.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

LedgerOpt = Annotated[
    str | None,
    typer.Option(
        "--ledger",
        help="SQLite file, directory, or postgresql:// URL; default $CHIPGATE_HOME/ledger.sqlite"
        " or the user data directory.",
    ),
]
ActorOpt = Annotated[
    str | None, typer.Option("--actor", help="Who makes the change (journalled); default: your login.")
]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
NowOpt = Annotated[
    str | None,
    typer.Option("--now", help="The time of the operation, ISO 8601 with zone; default the clock."),
]


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _now(raw: str | None) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise InputError("--now", f"{raw!r} is not a time; use e.g. 2026-03-10T09:00:00+00:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _open(target: str | None) -> Ledger:
    """The ledger, for commands that neither decide nor look list entries up."""
    return Ledger(target)


def _screening_rulebook(lists: str | None) -> Rulebook:
    """The shipped rulebook, screening against the snapshot `--lists` names (default: the one in use)."""
    from chipgate.parties.store import screening_rulebook

    return screening_rulebook(lists, field="--lists")


def _open_screening(target: str | None, lists: str | None) -> Ledger:
    """The ledger, deciding and looking entries up in the list snapshot `--lists` names."""
    # The lists are resolved first: a bad --lists opens (and creates) no ledger.
    return Ledger(target, rulebook=_screening_rulebook(lists))


def _fmt(value: int | None) -> str:
    return "unpublished" if value is None else f"{value:,}"


KIND_LABELS = {
    "us_export_license": "US export licence",
    "cn_import_approval": "China import approval",
    "per_customer_cap": "per-customer cap",
    "derived_volume_cap": "derived volume cap",
    "duty_free_quota": "duty-free quota",
}


def balances_table(balances: list[Balance], title: str = "Authorisation balances") -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("authorisation", overflow="fold", min_width=27)
    for col in ("limit", "held", "used", "available"):
        wide = col in ("limit", "available")
        table.add_column(col, justify="right", no_wrap=True, min_width=11 if wide else 7)
    for b in balances:
        what = KIND_LABELS.get(b.kind, b.kind)
        if b.parent:
            what += f" (share of {b.parent})"
        if b.basis != "enacted":
            what += f" · {b.basis}"
        if b.revoked:
            what += " · [red]revoked[/]"
        table.add_row(
            f"{b.authorization_id}\n[dim]{what}[/]",
            _fmt(b.limit),
            f"{b.held:,}",
            f"{b.used:,}",
            _fmt(b.available),
        )
    return table


def _show_reservation(r: Reservation) -> None:
    console.print(f"reservation [bold]{r.key}[/]: {r.status}, {r.quantity:,} units", highlight=False)
    for leg in r.legs:
        console.print(f"  held on {leg.authorization_id}: {leg.quantity:,}", highlight=False)
    if r.expires_at and r.status == "pending":
        console.print(f"  expires {r.expires_at.isoformat()}", highlight=False)


def _journal_table(entries: list[JournalEntry]) -> Table:
    table = Table(title="Journal", title_justify="left")
    for col in ("seq", "at", "actor", "op", "subject", "hash"):
        table.add_column(col)
    for e in entries:
        table.add_row(str(e.seq), e.at[:19], e.actor, e.op, e.subject, e.hash.hex()[:12])
    return table


@app.command()
def authorize(
    source: Annotated[str, typer.Argument(help="JSON file (an object or a list of them), or '-'.")],
    ledger: LedgerOpt = None,
    actor: ActorOpt = None,
    now: NowOpt = None,
) -> None:
    """Put authorisations on file (US licence, China approval, cap, volume cap, quota)."""
    with user_errors():
        raw = read_json_input(source, "authorization")
        items = raw if isinstance(raw, list) else [raw]
        with _open(ledger) as book:
            for item in items:
                auth = book.authorize(item, actor=_actor(actor), now=_now(now))
                console.print(f"on file: [bold]{auth.id}[/] ({auth.kind})", highlight=False)


@app.command()
def amend(
    authorization: Annotated[str, typer.Argument(help="Authorisation id.")],
    source: Annotated[str, typer.Argument(help="JSON object of the fields to change, or '-'.")],
    ledger: LedgerOpt = None,
    actor: ActorOpt = None,
    now: NowOpt = None,
) -> None:
    """Change an authorisation's terms; the previous terms stay in the journal."""
    with user_errors():
        changes = read_json_input(source, "changes")
        if not isinstance(changes, dict):
            raise InputError("changes", "expected a JSON object of fields to change")
        with _open(ledger) as book:
            auth = book.amend(authorization, changes, actor=_actor(actor), now=_now(now))
            console.print(f"amended: [bold]{auth.id}[/]", highlight=False)


@app.command()
def revoke(
    authorization: Annotated[str, typer.Argument(help="Authorisation id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (journalled).")] = "",
    ledger: LedgerOpt = None,
    actor: ActorOpt = None,
    now: NowOpt = None,
) -> None:
    """Revoke an authorisation: nothing new can be reserved or posted against it."""
    with user_errors(), _open(ledger) as book:
        book.revoke(authorization, actor=_actor(actor), reason=reason, now=_now(now))
        console.print(f"revoked: [bold]{authorization}[/]", highlight=False)


@app.command()
def reserve(
    key: Annotated[str, typer.Argument(help="Idempotency key: a retry with it returns the first result.")],
    source: Annotated[str, typer.Argument(help="Shipment JSON file, or '-'.")],
    using: Annotated[list[str] | None, typer.Option("--using", help="Draw only on these authorisations.")] = None,
    ttl_hours: Annotated[float, typer.Option("--ttl-hours", help="Hours before it expires.")] = 24.0,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Rules in force on this date; default the shipment's.")
    ] = None,
    ledger: LedgerOpt = None,
    lists: ListsOption = None,
    actor: ActorOpt = None,
    now: NowOpt = None,
    json_out: JsonOut = False,
) -> None:
    """Decide a shipment and hold its quantity on every authorisation that covers it, or none."""
    with user_errors():
        shipment = parse_shipment(read_json_input(source, "shipment"))
        on = parse_date(as_of) if as_of else None
        if ttl_hours <= 0:
            raise InputError("--ttl-hours", "must be more than 0")
        with _open_screening(ledger, lists) as book:
            reservation = book.reserve(
                key,
                shipment,
                actor=_actor(actor),
                on=on,
                using=using or None,
                now=_now(now),
                ttl=dt.timedelta(hours=ttl_hours),
            )
        if json_out:
            emit_json(reservation)
        else:
            _show_reservation(reservation)


@app.command()
def post(
    key: Annotated[str, typer.Argument(help="Reservation key.")],
    ledger: LedgerOpt = None,
    actor: ActorOpt = None,
    now: NowOpt = None,
    json_out: JsonOut = False,
) -> None:
    """Mark a reservation shipped: its holds become used."""
    with user_errors(), _open(ledger) as book:
        reservation = book.post(key, actor=_actor(actor), now=_now(now))
        emit_json(reservation) if json_out else _show_reservation(reservation)


@app.command()
def void(
    key: Annotated[str, typer.Argument(help="Reservation key.")],
    ledger: LedgerOpt = None,
    actor: ActorOpt = None,
    now: NowOpt = None,
    json_out: JsonOut = False,
) -> None:
    """Cancel a pending reservation and free its holds."""
    with user_errors(), _open(ledger) as book:
        reservation = book.void(key, actor=_actor(actor), now=_now(now))
        emit_json(reservation) if json_out else _show_reservation(reservation)


@app.command()
def expire(ledger: LedgerOpt = None, actor: ActorOpt = None, now: NowOpt = None) -> None:
    """Expire pending reservations whose time has passed, freeing their holds."""
    with user_errors(), _open(ledger) as book:
        keys = book.expire(actor=_actor(actor), now=_now(now))
        console.print(f"expired {len(keys)} reservation(s)" + (": " + ", ".join(keys) if keys else ""))


@app.command()
def balances(ledger: LedgerOpt = None, json_out: JsonOut = False) -> None:
    """Limit, held, used and available per authorisation."""
    with user_errors(), _open(ledger) as book:
        found = book.balances()
        if json_out:
            emit_json(found)
        else:
            console.print(balances_table(found))


@app.command()
def journal(
    since: Annotated[int, typer.Option("--since", help="Entries after this seq.")] = 0,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many entries.")] = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only entries about this authorisation or key.")
    ] = None,
    ledger: LedgerOpt = None,
    json_out: JsonOut = False,
) -> None:
    """The append-only, hash-chained record of every change."""
    with user_errors(), _open(ledger) as book:
        entries = book.journal(since=since, limit=limit, subject=subject)
        if json_out:
            emit_json(entries)
        else:
            console.print(_journal_table(entries))


@app.command()
def verify(ledger: LedgerOpt = None, json_out: JsonOut = False) -> None:
    """Recompute the hash chain and every balance from the journal. Exit 1 on a discrepancy."""
    with user_errors(), _open(ledger) as book:
        report = book.verify()
    if json_out:
        emit_json(report)
    elif report.ok:
        console.print(
            f"[green]ok[/]: {report.entries:,} journal entries, {report.authorizations} authorisations recomputed"
        )
    else:
        console.print(f"[bold red]discrepancy[/]: {report.problem}", highlight=False)
    if not report.ok:
        raise typer.Exit(EXIT_FINDING)


@app.command("record-us-shipment")
def record_us_shipment(
    key: Annotated[str, typer.Argument(help="Idempotency key for this record.")],
    exporter: Annotated[str, typer.Option("--exporter", help="Who shipped.")],
    product: Annotated[str, typer.Option("--product", help="Chip id, e.g. nvidia-h200-sxm.")],
    quantity: Annotated[int, typer.Option("--quantity", help="Units shipped to US end users.")],
    date: Annotated[str, typer.Option("--date", help="Shipment date, YYYY-MM-DD.")],
    ledger: LedgerOpt = None,
    actor: ActorOpt = None,
    now: NowOpt = None,
) -> None:
    """Record units shipped to US end users; the exporter's derived volume caps rise."""
    with user_errors(), _open(ledger) as book:
        caps = book.record_us_shipment(
            key,
            exporter=exporter,
            product=product,
            quantity=quantity,
            shipped_on=parse_date(date, "--date"),
            actor=_actor(actor),
            now=_now(now),
        )
        console.print(f"recorded; caps updated: {', '.join(caps) or 'none on file'}")


@app.command("plant-status")
def plant_status(
    authorization: Annotated[str, typer.Argument(help="Duty-free quota id.")],
    status: Annotated[str, typer.Argument(help="construction or completed")],
    date: Annotated[str, typer.Option("--date", help="Date the status took effect.")],
    ledger: LedgerOpt = None,
    actor: ActorOpt = None,
    now: NowOpt = None,
) -> None:
    """Record a plant's status; the duty-free quota's limit follows the rule's multiplier."""
    with user_errors(), _open(ledger) as book:
        balance = book.set_plant_status(
            authorization, status, parse_date(date, "--date"), actor=_actor(actor), now=_now(now)
        )
        console.print(f"{authorization}: limit now {_fmt(balance.limit)}")


@app.command()
def check(
    source: Annotated[str, typer.Argument(help="Shipment JSON file, or '-'.")],
    ledger: LedgerOpt = None,
    lists: ListsOption = None,
    json_out: JsonOut = False,
) -> None:
    """Decide a shipment and say which authorisations on file cover it (nothing is held)."""
    with user_errors():
        shipment = parse_shipment(read_json_input(source, "shipment"))
        with _open_screening(ledger, lists) as book:
            decision = book.check(shipment)
    if json_out:
        emit_json(decision)
        return
    console.print(f"outcome: [bold]{decision.outcome}[/]")
    console.print(f"covered by: {', '.join(decision.covered_by) or 'nothing'}", highlight=False)
    for missing in decision.missing:
        console.print(f"[red]missing[/]: {missing}", highlight=False)


# ---- clearances of possible restricted-party matches -------------------------------------

# The ledger names its fields as Python does; a user of these commands knows the options.
_CLEAR_OPTIONS = {
    "party": "--party",
    "record_id": "--entry",
    "entry_fingerprint": "--fingerprint",
    "list_code": "--list",
    "reason": "--reason",
    "actor": "--by",
    "id": "ID",
}


@contextmanager
def _as_options() -> Iterator[None]:
    try:
        yield
    except LedgerInputError as exc:
        raise InputError(_CLEAR_OPTIONS.get(exc.field, exc.field), exc.message) from None


def _show_clearance(c: Clearance, status: str | None = None) -> None:
    state = status or ("live" if c.live else "withdrawn")
    console.print(
        f"[bold]{c.id}[/] ({state}): {c.party!r} is not {c.list_code} entry {c.record_id}"
        f" [dim](fingerprint {c.entry_fingerprint})[/]",
        highlight=False,
    )
    console.print(f"  cleared by {c.actor} at {c.created_at.isoformat()}: {c.reason}", highlight=False)
    if c.revoked_at is not None:
        console.print(
            f"  withdrawn by {c.revoked_by} at {c.revoked_at.isoformat()}: {c.revoke_reason}", highlight=False
        )


@app.command()
def clear(
    party: Annotated[str, typer.Option("--party", help="The party name as screened (consignee or end user).")],
    entry: Annotated[str, typer.Option("--entry", help="The list entry's record id, e.g. rpl-cbc119ede19e1431ba2a.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the party is not that entry (journalled).")],
    by: Annotated[str, typer.Option("--by", help="Who cleared it (journalled).")],
    fingerprint: Annotated[
        str | None,
        typer.Option(
            "--fingerprint",
            help="The entry version cleared (a hit's entry_fingerprint); default: the entry in the list in use.",
        ),
    ] = None,
    list_code: Annotated[
        str | None,
        typer.Option("--list", help="The entry's list code, when the entry is not in the list in use."),
    ] = None,
    ledger: LedgerOpt = None,
    lists: ListsOption = None,
    now: NowOpt = None,
    json_out: JsonOut = False,
) -> None:
    """Record that a party is not a list entry it possibly matched: those possible matches
    are cleared until the entry changes or the clearance is withdrawn."""
    with user_errors():
        with _as_options():
            party = clearing.required_text(party, "party")
            entry = clearing.required_text(entry, "record_id")
            reason = clearing.required_text(reason, "reason", clearing.MAX_REASON)
            by = clearing.required_text(by, "actor")
            if fingerprint is not None:
                fingerprint = clearing.required_text(fingerprint, "entry_fingerprint")
        rules = _screening_rulebook(lists)
        with _as_options():
            cleared = clearing.cleared_entry(
                rules.restricted_parties,
                entry,
                fingerprint,
                list_code,
                elsewhere="`chipgate screen NAME` shows the record ids a name matches,"
                " or give --fingerprint and --list",
            )
        listed = cleared.in_use
        if listed is not None and cleared.entry_fingerprint != listed.fingerprint:
            err_console.print(
                f"note: {entry} reads differently in the list in use (fingerprint {listed.fingerprint});"
                " this clearance does not apply to it",
                highlight=False,
            )
        with _as_options(), Ledger(ledger, rulebook=rules) as book:
            found = book.record_clearance(
                party,
                entry,
                entry_fingerprint=cleared.entry_fingerprint,
                list_code=cleared.list_code,
                reason=reason,
                actor=by,
                snapshot=cleared.snapshot,
                now=_now(now),
            )
    if json_out:
        emit_json(found)
    else:
        _show_clearance(found)


@app.command()
def unclear(
    clearance: Annotated[str, typer.Argument(help="Clearance id, e.g. CLR-3.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is withdrawn (journalled).")],
    by: Annotated[str, typer.Option("--by", help="Who withdraws it (journalled).")],
    ledger: LedgerOpt = None,
    now: NowOpt = None,
    json_out: JsonOut = False,
) -> None:
    """Withdraw a clearance: the possible matches it cleared are open again."""
    with user_errors():
        with _as_options():
            clearance_id = clearing.clearance_id(clearance)
            reason = clearing.required_text(reason, "reason", clearing.MAX_REASON)
            by = clearing.required_text(by, "actor")
        with _as_options(), _open(ledger) as book:
            found = book.revoke_clearance(clearance_id, reason=reason, actor=by, now=_now(now))
    if json_out:
        emit_json(found)
    else:
        _show_clearance(found)


@app.command("clearances")
def list_clearances(
    live: Annotated[bool, typer.Option("--live", help="Only clearances not withdrawn.")] = False,
    ledger: LedgerOpt = None,
    lists: ListsOption = None,
    json_out: JsonOut = False,
) -> None:
    """Clearances on file, each live, lapsed (the list entry changed since) or withdrawn."""
    with user_errors(), _open_screening(ledger, lists) as book:
        found = book.clearances(live_only=live)
        rows = book.clearance_listing(found)
    if json_out:
        emit_json(rows)
        return
    if not found:
        console.print("no clearances on file")
        return
    for c, row in zip(found, rows, strict=True):
        _show_clearance(c, row["status"])


DemoLedgerOpt = Annotated[
    str | None,
    typer.Option(
        "--ledger",
        help="Keep the seeded ledger in this SQLite file or postgresql:// URL; default a temporary one.",
    ),
]


def demo(
    ledger: DemoLedgerOpt = None,
    lists: ListsOption = None,
    json_out: JsonOut = False,
) -> None:
    """Seed a fresh ledger with the 2026 H200 scenario, run a small order book, show balances."""
    with user_errors():
        scenario = load_scenario()
        rules = _screening_rulebook(lists)
        with tempfile.TemporaryDirectory(prefix="chipgate-demo-") as scratch:
            target = ledger or str(Path(scratch) / "ledger.sqlite")
            # Orders are held for weeks between contract and shipment in this book.
            with Ledger(target, rulebook=rules, reservation_ttl=dt.timedelta(days=30)) as book:
                seed(book, scenario)
                orders = run_orders(book, scenario)
                found = book.balances()
                report = book.verify()
                location = book.location
    if json_out:
        emit_json(
            {
                "ledger": location if ledger else None,
                "orders": [o.to_dict() for o in orders],
                "balances": found,
                "verify": report,
            }
        )
        return
    console.print(f"[bold]{scenario.get('title', 'scenario')}[/]")
    table = Table(title="Order book", title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("order", "consignee", "units", "result"):
        table.add_column(col, no_wrap=True)
    table.add_column("drawn on", overflow="fold", min_width=24)
    refusals = []
    for o in orders:
        if o.reservation is not None:
            table.add_row(
                o.key,
                o.consignee,
                f"{o.quantity:,}",
                o.reservation.status,
                "\n".join(o.reservation.authorizations),
            )
        else:
            code = o.error.code if o.error else "?"
            table.add_row(o.key, o.consignee, f"{o.quantity:,}", "[red]refused[/]", "-")
            refusals.append(f"[red]{o.key}[/] refused ({code}): {o.error}")
    console.print(table)
    for line in refusals:
        console.print(line, highlight=False)
    console.print(balances_table(found))
    console.print(
        "basis: [bold]reported[/] = press reports of official decisions;"
        " [bold]assumption[/] = invented where no figure is public"
        " (see src/chipgate/data/scenario_h200_2026.yaml)."
    )
    status = "ok" if report.ok else f"DISCREPANCY: {report.problem}"
    console.print(f"journal: {report.entries} entries, verify {status}")
    if ledger:
        console.print(f"ledger kept at {location}")
