"""Load and validate rule data files: dated, cited values, rejected loudly when malformed.

A rule file is YAML shaped like OpenFisca's parameters:

    title: ECCN 3A090, integrated circuits (US EAR, Commerce Control List)
    parameters:
      prongs:
        description: ...
        unit: ...
        values:
          - from: 2022-10-07
            value: [...]
            citation: 87 FR 62186
            source: https://www.govinfo.gov/...
          - from: 2023-11-17
            until: 2030-01-01        # optional, exclusive
            value: [...]
            citation: 88 FR 73458

The parameter's id is the file's path under `rules/` with `/` as `.`, then its key:
`rules/us/eccn_3a090.yaml` + `prongs` is `us.eccn_3a090.prongs`. A value of `null`
means the parameter stops being in force from that date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chipgate.errors import RuleDataError

FILE_KEYS = frozenset({"title", "description", "parameters"})
PARAMETER_KEYS = frozenset({"description", "unit", "values", "reference"})
VALUE_KEYS = frozenset({"from", "until", "value", "citation", "source", "note", "status"})
REQUIRED_VALUE_KEYS = ("from", "value", "citation")
# How firm a value is: enacted law, a reported but unpublished measure, or a
# modelling assumption the demo needs where no figure is public.
STATUSES = frozenset({"enacted", "reported", "assumption"})


@dataclass(frozen=True, slots=True)
class DatedValue:
    """One value of a parameter with the date it took effect and the text it comes from."""

    parameter: str
    value: Any
    effective_from: dt.date
    until: dt.date | None
    citation: str
    source: str | None = None
    note: str | None = None
    status: str = "enacted"


@dataclass(frozen=True, slots=True)
class Parameter:
    """A named rule value that changes over time; `values` is ordered by `effective_from`."""

    id: str
    description: str
    unit: str | None
    values: tuple[DatedValue, ...]
    file: str

    def change_dates(self) -> set[dt.date]:
        dates = {v.effective_from for v in self.values}
        dates.update(v.until for v in self.values if v.until is not None)
        return dates

    def at(self, on: dt.date) -> DatedValue | None:
        """The value in force on `on`, or None when none is (before the first date, after an
        `until`, or where the value in force is null)."""
        found: DatedValue | None = None
        for v in self.values:
            if v.effective_from > on:
                break
            found = v
        if found is None or found.value is None:
            return None
        if found.until is not None and on >= found.until:
            return None
        return found


def _parse_date(raw: Any, file: str, key: str) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass
    raise RuleDataError(file, key, f"malformed date {raw!r}; expected YYYY-MM-DD")


def _check_keys(obj: Any, allowed: frozenset[str], file: str, key: str) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping):
        raise RuleDataError(file, key, f"expected a mapping, found {type(obj).__name__}")
    unknown = sorted(str(k) for k in obj if k not in allowed)
    if unknown:
        raise RuleDataError(
            file,
            f"{key}.{unknown[0]}" if key else unknown[0],
            f"unknown key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}",
        )
    return obj


def parse_parameter(pid: str, raw: Any, file: str) -> Parameter:
    """Validate one parameter's mapping and return it with its values in date order."""
    body = _check_keys(raw, PARAMETER_KEYS, file, pid)
    raw_values = body.get("values")
    if not isinstance(raw_values, list) or not raw_values:
        raise RuleDataError(file, f"{pid}.values", "a parameter needs a non-empty list of values")
    values: list[DatedValue] = []
    for i, raw_value in enumerate(raw_values):
        vkey = f"{pid}.values[{i}]"
        entry = _check_keys(raw_value, VALUE_KEYS, file, vkey)
        for required in REQUIRED_VALUE_KEYS:
            if required not in entry:
                raise RuleDataError(file, f"{vkey}.{required}", f"missing {required!r}")
        citation = entry["citation"]
        if not isinstance(citation, str) or not citation.strip():
            raise RuleDataError(file, f"{vkey}.citation", "every value needs a citation")
        start = _parse_date(entry["from"], file, f"{vkey}.from")
        until = _parse_date(entry["until"], file, f"{vkey}.until") if entry.get("until") is not None else None
        if until is not None and until <= start:
            raise RuleDataError(file, f"{vkey}.until", f"{until} is not after 'from' {start}")
        status = entry.get("status", "enacted")
        if status not in STATUSES:
            raise RuleDataError(file, f"{vkey}.status", f"{status!r}; allowed: {', '.join(sorted(STATUSES))}")
        if values:
            previous = values[-1]
            if start <= previous.effective_from:
                raise RuleDataError(
                    file,
                    f"{vkey}.from",
                    f"{start} is not after the previous value's date {previous.effective_from};"
                    " values must be in increasing date order",
                )
            if previous.until is not None and previous.until > start:
                raise RuleDataError(
                    file,
                    f"{pid}.values[{i - 1}].until",
                    f"{previous.until} overlaps the next value, which starts {start}",
                )
        values.append(
            DatedValue(
                parameter=pid,
                value=entry["value"],
                effective_from=start,
                until=until,
                citation=citation.strip(),
                source=entry.get("source"),
                note=entry.get("note"),
                status=status,
            )
        )
    description = body.get("description") or ""
    return Parameter(
        id=pid,
        description=str(description).strip(),
        unit=body.get("unit"),
        values=tuple(values),
        file=file,
    )


# LibYAML's parser when PyYAML was built with it: reading the rules is a noticeable part
# of every command's start-up with the pure-Python one.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _RuleLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """YAML without implicit timestamps: dates stay text until validated here, so a
    malformed date is reported with its file and key instead of failing inside YAML."""


_RuleLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_rule_file(namespace: str, text: str, file: str) -> dict[str, Parameter]:
    """Parse one rule file's text; parameter ids are prefixed with `namespace`."""
    try:
        raw = yaml.load(text, Loader=_RuleLoader)
    except yaml.YAMLError as exc:
        raise RuleDataError(file, "", f"not valid YAML: {exc}") from exc
    body = _check_keys(raw, FILE_KEYS, file, "")
    params = body.get("parameters")
    if not isinstance(params, Mapping) or not params:
        raise RuleDataError(file, "parameters", "a rule file needs a mapping of parameters")
    out: dict[str, Parameter] = {}
    for key, raw_param in params.items():
        pid = f"{namespace}.{key}" if namespace else str(key)
        out[pid] = parse_parameter(pid, raw_param, file)
    return out


def load_overlay(path: Path) -> dict[str, Parameter]:
    """A reform overlay: a rule file whose parameter keys are full ids (`us.license_policy.h200_lane`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleDataError(str(path), "", f"cannot read the overlay: {exc.strerror}") from None
    return parse_rule_file("", text, str(path))


def load_rule_dir(root: Path) -> dict[str, Parameter]:
    """Every `*.yaml` under `root`, namespaced by its relative path."""
    params: dict[str, Parameter] = {}
    for path in sorted(root.rglob("*.yaml")):
        rel = path.relative_to(root).with_suffix("")
        namespace = ".".join(rel.parts)
        params.update(parse_rule_file(namespace, path.read_text(encoding="utf-8"), str(path)))
    return params
