"""`chipgate screen NAME`: screen one party name against the restricted-party lists.

Exit status: 0 whether or not the name has hits (a hit is a lead for review, not an error);
2 bad input, with a message naming the option.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import typer
from rich.text import Text

from chipgate.screening import Fields, Screening, screen_with
from chipgate.shell import ListsOption, console, emit_json, user_errors

__all__ = ["screen_command", "show_screening"]

CLI_FIELDS = Fields(name="NAME", country="--country", identifiers="--id", list_codes="--list", lists="--lists")
_STRENGTH_STYLE = {"match": "bold red", "possible": "yellow"}


def screen_command(
    name: Annotated[str, typer.Argument(help="The party's name as written (quote it), e.g. 'Sugon'.")],
    country: Annotated[
        str | None, typer.Option("--country", help="The party's country, ISO 3166 alpha-2 (e.g. CN).")
    ] = None,
    identifiers: Annotated[
        list[str] | None,
        typer.Option("--id", help="An identifier of the party as SCHEME:VALUE (e.g. USCC:9111...); repeatable."),
    ] = None,
    list_codes: Annotated[
        list[str] | None,
        typer.Option("--list", help="Only this list (EL, MEU, 1260H, UFLPA, 1286, NS-CMIC); repeatable."),
    ] = None,
    lists: ListsOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the JSON contract instead of a table.")] = False,
) -> None:
    """Screen a party name against the US restricted-party lists, best hit first.

    Exit 0 whether or not there are hits; exit 2 on bad input, naming it.
    With --json a script tells them apart: `hits` is empty when the name
    is clear, else each hit's `strength` is `match` or `possible`:
    chipgate screen NAME --json | jq '.hits | length'
    """
    with user_errors():
        result = screen_with(
            name,
            country,
            identifiers=identifiers or (),
            lists=lists,
            list_codes=list_codes or None,
            fields=CLI_FIELDS,
        )
    if json_out:
        emit_json(result.to_dict())
    else:
        show_screening(result)


def show_screening(result: Screening) -> None:
    """The ranked hits as numbered paragraphs (a wide table wraps badly at 80 columns),
    or one line saying the name is clear on this snapshot."""
    where = f"snapshot {result.snapshot_id} ({result.snapshot_date.isoformat()}), matcher {result.matcher}"
    query = repr(result.query) + (f" ({result.country})" if result.country else "")
    if result.clear:
        console.print(Text(f"no hits for {query} on {where}"))
        return
    count = f"{len(result.hits)} hit" + ("" if len(result.hits) == 1 else "s")
    thresholds = ", ".join(f"{name} >= {value:g}" for name, value in result.thresholds.items())
    console.print(Text(f"{count} for {query}", style="bold"))
    for rank, hit in enumerate(result.hits, 1):
        head = Text(f"{rank:>2}. ")
        head.append(f"{hit.score:.2f} ")
        head.append(f"{hit.strength:<8}", style=_STRENGTH_STYLE.get(hit.strength, ""))
        head.append(f" {hit.list}: {hit.name}")
        console.print(head)
        matched = f"matched as {hit.matched_name!r}" if hit.matched_name != hit.name else "matched as listed"
        console.print(Text(f"    {matched} · {', '.join(hit.countries) or 'no country'}"), highlight=False)
        console.print(Text(f"    record {hit.record_id} · {_features(hit.features)}"), highlight=False)
    console.print(Text(where, style="dim"))
    console.print(Text(f"thresholds {thresholds}", style="dim"))


def _features(features: Mapping[str, float]) -> str:
    return ", ".join(f"{name} {value:.2f}" for name, value in features.items()) or "-"
