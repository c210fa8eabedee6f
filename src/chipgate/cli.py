"""The `chipgate` command line: classify, decide, timeline, chips, rules, and the shells below
(ledger, demo, batch, serve, keys).

Exit status: 0 done; 1 only where a command documents a finding (`decide --fail-on-license`);
2 bad input, with a message naming the field.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from chipgate.batch.cli import app as batch_app
from chipgate.classify import classify as classify_chip
from chipgate.decide import decide as decide_shipment
from chipgate.errors import InputError
from chipgate.inputs import parse_shipment, parse_spec
from chipgate.ledger import Ledger
from chipgate.ledger.cli import app as ledger_app
from chipgate.ledger.cli import demo as ledger_demo
from chipgate.model import Chip, Classification, Decision, Reason
from chipgate.parties.lists_cli import app as lists_app
from chipgate.parties.screen_cli import screen_command
from chipgate.rulebook import Rulebook, default_rulebook
from chipgate.service.cli import keys_app, serve
from chipgate.shell import (
    EXIT_FINDING,
    ListsOption,
    console,
    emit_json,
    parse_date,
    read_json_input,
    user_errors,
)
from chipgate.timeline import Period, classification_timeline, decision_timeline

app = typer.Typer(
    name="chipgate",
    help="Export-control gates and quotas for advanced AI chips: classify, decide, keep the ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
chips_app = typer.Typer(help="The chip catalogue.", invoke_without_command=True)
app.add_typer(chips_app, name="chips")

AsOf = Annotated[str | None, typer.Option("--as-of", help="Rules in force on this date (YYYY-MM-DD); default today.")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Overlay = Annotated[
    str | None,
    typer.Option("--overlay", help="A reform overlay: a rule file whose values replace the bundled ones (what-if)."),
]


def _rulebook(overlay: str | None) -> Rulebook:
    book = default_rulebook()
    return book if overlay is None else book.with_overlay(Path(overlay))


def _screening_rulebook(overlay: str | None, lists: str | None) -> Rulebook:
    """`_rulebook`, screening parties against the chosen list snapshot (see `resolve_lists`)."""
    from chipgate.parties.store import screening_rulebook

    return screening_rulebook(lists, _rulebook(overlay), field="--lists")


def _print_reasons(reasons: tuple[Reason, ...] | list[Reason], title: str = "Reasons") -> None:
    """Reasons as numbered paragraphs: a wide table wraps badly in a terminal of 80 columns."""
    console.print(f"[bold]{title}[/]")
    for i, r in enumerate(reasons, 1):
        since = f" · in force from {r.effective_from}" if r.effective_from else ""
        console.print(f"{i:>2}. [cyan]{r.rule}[/] · {r.citation}{since}", highlight=False)
        console.print(f"    {r.text}", highlight=False)


def _show_classification(c: Classification) -> None:
    table = Table(title=f"{c.name or c.chip_id or 'chip'} as of {c.as_of}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("chip", c.chip_id or "(spec)")
    table.add_row("TPP", f"{c.tpp:,.1f}".removesuffix(".0") + (f"  ({c.tpp_precision})" if c.tpp_precision else ""))
    table.add_row(
        "performance density", f"{c.performance_density:.2f}" if c.performance_density is not None else "unknown"
    )
    table.add_row(
        "DRAM bandwidth", f"{c.dram_bandwidth_gbs:,.0f} GB/s" if c.dram_bandwidth_gbs is not None else "unknown"
    )
    table.add_row("interconnect", f"{c.interconnect_gbs:,.0f} GB/s" if c.interconnect_gbs is not None else "unknown")
    table.add_row("datacenter", "yes" if c.datacenter else "no")
    table.add_row("ECCN", f"[bold]{c.eccn}[/] ({c.prong})" if c.eccn else "[bold]not 3A090[/]")
    if c.undetermined:
        table.add_row("undetermined", ", ".join(c.undetermined))
    console.print(table)
    _print_reasons(c.reasons)


@app.command()
def classify(
    chip: Annotated[
        str, typer.Argument(help="Chip id or common name, or '-' to read a spec as JSON on standard input.")
    ],
    as_of: AsOf = None,
    json_out: JsonOut = False,
    overlay: Overlay = None,
) -> None:
    """Classify a chip under ECCN 3A090 as in force on a date."""
    with user_errors():
        on = parse_date(as_of)
        book = _rulebook(overlay)
        if chip == "-" or chip.endswith(".json"):
            spec = parse_spec(read_json_input(chip, "spec"))
            result = classify_chip(spec, on, rulebook=book)
        else:
            result = classify_chip(book.catalogue.resolve(chip), on, rulebook=book)
    if json_out:
        emit_json(result.to_dict())
    else:
        _show_classification(result)


def _show_decision(d: Decision) -> None:
    colour = {"allowed": "green", "needs_authorization": "yellow", "blocked": "red"}[d.outcome]
    table = Table(title=f"Decision as of {d.as_of}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("outcome", f"[bold {colour}]{d.outcome}[/]")
    table.add_row("ECCN", d.eccn or "not 3A090")
    us = d.us_export
    table.add_row(
        "US export licence",
        ("required, " + (us.review_policy or "policy not stated").replace("_", " "))
        if us.license_required
        else "not required",
    )
    for condition in us.conditions:
        table.add_row("  condition", condition)
    cn = d.china_import
    table.add_row(
        "China import approval",
        ("required" + (f" (on record: {', '.join(cn.approvals_on_record)})" if cn.approvals_on_record else ""))
        if cn.approval_required
        else "not required",
    )
    for duty in d.duties:
        amount = f"USD {duty.amount_usd:,.2f}" if duty.amount_usd is not None else "unit value needed"
        table.add_row("duty", f"{duty.tariff}: {duty.rate * 100:.0f}% = {amount}")
    for hit in d.party_hits:
        table.add_row(
            f"restricted party ({hit.strength})",
            f"{hit.role}: {hit.query} ~ {hit.list_code} {hit.entry_name} (score {hit.score:.2f})",
        )
    if d.covered_by:
        table.add_row("covered by", ", ".join(d.covered_by))
    if d.missing:
        table.add_row("missing", "; ".join(d.missing))
    table.add_row("rulebook", f"{d.rulebook_version}  input {d.input_hash}")
    console.print(table)
    _print_reasons(d.reasons)


@app.command()
def decide(
    source: Annotated[str, typer.Argument(help="Shipment JSON file, or '-' for standard input.")] = "-",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Decide under the rules of this date instead of the shipment's.")
    ] = None,
    json_in: Annotated[bool, typer.Option("--json", help="Print JSON (the shipment is JSON either way).")] = False,
    fail_on_license: Annotated[bool, typer.Option(help="Exit 1 when the outcome is not 'allowed'.")] = False,
    ledger: Annotated[
        str | None,
        typer.Option("--ledger", help="Check the authorisations on file in this ledger (path or postgresql:// URL)."),
    ] = None,
    overlay: Overlay = None,
    lists: ListsOption = None,
) -> None:
    """Decide a shipment: US export licence and review policy, China import approval, duties.

    With --ledger, the outcome is `allowed` when the authorisations on file cover the shipment,
    and the decision names them (covered by) or what is missing or exhausted.
    """
    with user_errors():
        shipment = parse_shipment(read_json_input(source, "shipment"))
        on = parse_date(as_of) if as_of else None
        if ledger is not None and overlay is not None:
            raise InputError(
                "--overlay", "cannot be combined with --ledger: the ledger decides under the bundled rules"
            )
        rules = _screening_rulebook(overlay, lists)
        if ledger is None:
            result = decide_shipment(shipment, on, rulebook=rules)
        else:
            with Ledger(ledger, rulebook=rules) as book:
                result = book.check(shipment, on)
    if json_in:
        emit_json(result.to_dict())
    else:
        _show_decision(result)
    if fail_on_license and result.outcome != "allowed":
        raise typer.Exit(EXIT_FINDING)


def _show_periods(title: str, periods: list[Period], columns: list[str]) -> None:
    """One line per period and the citations it rests on: readable at any terminal width."""
    console.print(f"[bold]{title}[/]")
    for p in periods:
        span = f"{p.start} to {p.until - dt.timedelta(days=1)}" if p.until else f"{p.start} onwards"
        fields = " · ".join(f"{c.replace('_', ' ')}: [bold]{_cell(p.summary.get(c))}[/]" for c in columns)
        console.print(f"[cyan]{span}[/]  {fields}", highlight=False)
        basis = "; ".join(
            dict.fromkeys(f"{r.citation} ({r.effective_from})" if r.effective_from else r.citation for r in p.reasons)
        )
        console.print(f"    basis: {basis}", highlight=False)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    if isinstance(value, float):
        return f"{value:,.2f}".removesuffix(".00")
    return str(value).replace("_", " ")


@app.command()
def timeline(
    chip: Annotated[str, typer.Argument(help="Chip id or common name.")],
    to: Annotated[
        str | None,
        typer.Option("--to", help="Destination country: show the decision for a plain datacenter export from the US."),
    ] = None,
    since: Annotated[str, typer.Option("--from", help="First date to show.")] = "2022-01-01",
    until: Annotated[str | None, typer.Option("--until", help="Last date to consider.")] = None,
    json_out: JsonOut = False,
    overlay: Overlay = None,
) -> None:
    """How a chip's classification (or, with --to, a shipment's decision) changed over time."""
    from chipgate.inputs import parse_country

    with user_errors():
        book = _rulebook(overlay)
        found: Chip = book.catalogue.resolve(chip)
        start = parse_date(since, "--from")
        end = parse_date(until, "--until") if until else None
        if to is None:
            periods = classification_timeline(found, start=start, end=end, rulebook=book)
            columns = ["eccn", "prong", "undetermined"]
        else:
            country = parse_country(to, "--to")
            assert country is not None
            periods = decision_timeline(found, country, start=start, end=end, rulebook=book)
            columns = ["outcome", "eccn", "license_required", "review_policy", "china_approval_required", "duty_rate"]
    if json_out:
        emit_json({"chip": found.id, "to": to, "periods": [p.to_dict() for p in periods]})
    else:
        what = f"{found.id} to {to}" if to else found.id
        _show_periods(f"Timeline of {what}", periods, columns)


@chips_app.callback()
def chips(
    ctx: typer.Context,
    vendor: Annotated[str | None, typer.Option(help="Only this vendor (case-insensitive).")] = None,
    json_out: JsonOut = False,
) -> None:
    """List the chip catalogue; `chipgate chips show ID` shows one chip."""
    if ctx.invoked_subcommand is not None:
        return
    catalogue = default_rulebook().catalogue
    with user_errors():
        if vendor is not None and vendor.casefold() not in {v.casefold() for v in catalogue.vendors()}:
            raise InputError(
                "--vendor", f"{vendor!r} is not a vendor in the catalogue; known: {', '.join(catalogue.vendors())}"
            )
    selected = [c for c in catalogue if vendor is None or c.vendor.casefold() == vendor.casefold()]
    if json_out:
        emit_json([c.to_dict() for c in selected])
        return
    table = Table(title=f"Chip catalogue ({len(selected)} chips)", title_justify="left")
    for col in ("id", "vendor", "model", "variant", "datacenter", "sources"):
        table.add_column(col)
    for c in selected:
        table.add_row(c.id, c.vendor, c.model, c.variant, "yes" if c.spec.datacenter else "no", str(len(c.sources)))
    console.print(table)


@chips_app.command("show")
def chips_show(chip: Annotated[str, typer.Argument(help="Chip id or common name.")], json_out: JsonOut = False) -> None:
    """Show one catalogue chip with its figures and sources."""
    with user_errors():
        found = default_rulebook().catalogue.resolve(chip)
    if json_out:
        emit_json(found.to_dict())
        return
    table = Table(title=found.display_name, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("id", found.id)
    table.add_row("common names", ", ".join(found.aliases) or "-")
    for precision, value in found.spec.dense_tops.items():
        table.add_row(f"dense {precision}", f"{value:,}")
    table.add_row("die area (mm2)", _cell(found.spec.die_area_mm2))
    table.add_row("DRAM bandwidth (GB/s)", _cell(found.spec.dram_bandwidth_gbs))
    table.add_row("interconnect (GB/s)", _cell(found.spec.interconnect_gbs))
    table.add_row("datacenter", "yes" if found.spec.datacenter else "no")
    table.add_row("confidence", found.confidence or "-")
    table.add_row("reported classification", found.reported_classification or "-")
    table.add_row("notes", found.notes or "-")
    table.add_row("sources", "\n".join(found.sources) or "-")
    console.print(table)


@app.command()
def rules(
    parameter: Annotated[
        str | None, typer.Argument(help="A parameter id (e.g. us.license_policy.h200_lane); omit to list all.")
    ] = None,
    as_of: AsOf = None,
    json_out: JsonOut = False,
) -> None:
    """Show the rule data: every parameter in force on a date, or one parameter's history."""
    book = default_rulebook()
    with user_errors():
        if parameter is not None and parameter not in book.parameters:
            raise InputError("parameter", f"{parameter!r} is not a rule parameter; run `chipgate rules` to list them")
        on = parse_date(as_of)
    if parameter is not None:
        history = book.history(parameter)
        if json_out:
            emit_json(
                [
                    {
                        "from": v.effective_from,
                        "until": v.until,
                        "value": v.value,
                        "citation": v.citation,
                        "status": v.status,
                        "source": v.source,
                    }
                    for v in history
                ]
            )
            return
        table = Table(title=f"{parameter}: {book.parameters[parameter].description}", title_justify="left")
        for col in ("from", "until", "value", "citation", "status"):
            table.add_column(col)
        for v in history:
            table.add_row(str(v.effective_from), str(v.until or "-"), str(v.value), v.citation, v.status)
        console.print(table)
        return
    ruleset = book.at(on)
    in_force = {pid: ruleset.get(pid) for pid in sorted(book.parameters)}
    if json_out:
        emit_json(
            {
                pid: (
                    None
                    if v is None
                    else {"value": v.value, "citation": v.citation, "from": v.effective_from, "status": v.status}
                )
                for pid, v in in_force.items()
            }
        )
        return
    table = Table(title=f"Rule parameters in force on {on} (rulebook {book.version})", title_justify="left")
    for col in ("parameter", "in force from", "citation", "status"):
        table.add_column(col)
    for pid, dated in in_force.items():
        table.add_row(
            pid,
            str(dated.effective_from) if dated else "not in force",
            dated.citation if dated else "-",
            dated.status if dated else "-",
        )
    console.print(table)


# Shells that live in their own packages contribute their commands.
app.add_typer(ledger_app, name="ledger", help="The authorisation ledger: authorise, reserve, post, void, verify.")
app.add_typer(lists_app, name="lists", help="Restricted-party list snapshots: import, list, show, use, remove.")
app.command("demo")(ledger_demo)
app.command("serve")(serve)
app.command("screen")(screen_command)
app.add_typer(batch_app, name="batch", help="Decide whole order books (CSV, JSON Lines, Parquet), locally or on Dask.")
app.add_typer(keys_app, name="keys", help="API keys for `chipgate serve`: create, list, revoke.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
