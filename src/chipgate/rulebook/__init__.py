"""The rulebook: every rule value, the chip catalogue and the restricted-party lists, by date.

`Rulebook.at(date)` gives the `RuleSet` in force on that date. Rule sets are cached per
epoch (the span between two dates on which any value changes), so asking for many
dates costs one snapshot per epoch.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
from collections.abc import Hashable, Iterable, Mapping
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chipgate.errors import RuleDataError
from chipgate.rulebook.loader import DatedValue, Parameter, load_overlay, load_rule_dir

if TYPE_CHECKING:
    from chipgate.catalogue import Catalogue
    from chipgate.parties import RestrictedPartyList

__all__ = ["DatedValue", "Parameter", "RuleSet", "Rulebook", "default_rulebook"]


class RuleSet:
    """The rule values in force on one date (the start of an epoch)."""

    __slots__ = ("_rulebook", "_values", "epoch_start", "memo")

    def __init__(self, rulebook: Rulebook, epoch_start: dt.date) -> None:
        self._rulebook = rulebook
        self.epoch_start = epoch_start
        self._values: dict[str, DatedValue | None] = {pid: p.at(epoch_start) for pid, p in rulebook.parameters.items()}
        # Answers derived from this snapshot's values (e.g. "is AE in D:4 and not A:5/A:6?")
        # hold for the whole epoch; callers key them.
        self.memo: dict[Hashable, Any] = {}

    @property
    def rulebook(self) -> Rulebook:
        return self._rulebook

    def get(self, parameter: str) -> DatedValue | None:
        """The dated value in force, or None when the parameter is not in force on this date.

        An unknown parameter id is a programming error and raises KeyError.
        """
        return self._values[parameter]

    def value(self, parameter: str, default: Any = None) -> Any:
        found = self._values[parameter]
        return default if found is None else found.value


class Rulebook:
    """Rule parameters plus the chip catalogue and restricted-party lists they are read with."""

    def __init__(
        self,
        parameters: Mapping[str, Parameter],
        *,
        data_dir: Path | None = None,
        source_bytes: bytes = b"",
    ) -> None:
        self.parameters: dict[str, Parameter] = dict(parameters)
        self._data_dir = data_dir
        changes: set[dt.date] = set()
        for p in self.parameters.values():
            changes |= p.change_dates()
        self.change_dates: tuple[dt.date, ...] = tuple(sorted(changes))
        self._source_bytes = source_bytes
        self._snapshots: dict[dt.date, RuleSet] = {}

    @classmethod
    def from_directory(cls, rules_dir: Path, data_dir: Path | None = None) -> Rulebook:
        params = load_rule_dir(rules_dir)
        digest = b"".join(
            path.relative_to(rules_dir).as_posix().encode() + path.read_bytes()
            for path in sorted(rules_dir.rglob("*.yaml"))
        )
        if data_dir is not None:
            digest += b"".join(path.name.encode() + path.read_bytes() for path in sorted(data_dir.glob("*.csv")))
        return cls(params, data_dir=data_dir, source_bytes=digest)

    @cached_property
    def version(self) -> str:
        """A short hash of every rule file and data file: equal versions decide alike."""
        return hashlib.sha256(self._source_bytes).hexdigest()[:16]

    def epoch_start(self, on: dt.date) -> dt.date:
        """The latest date on or before `on` on which any rule value changed."""
        i = bisect.bisect_right(self.change_dates, on)
        return self.change_dates[i - 1] if i else dt.date.min

    def at(self, on: dt.date) -> RuleSet:
        start = self.epoch_start(on)
        snapshot = self._snapshots.get(start)
        if snapshot is None:
            snapshot = self._snapshots[start] = RuleSet(self, start)
        return snapshot

    def history(self, parameter: str) -> tuple[DatedValue, ...]:
        return self.parameters[parameter].values

    def with_parameters(self, overlay: Iterable[Parameter]) -> Rulebook:
        """A rulebook where the given parameters replace these (a reform overlay, OpenFisca-style).

        An overlay may only replace parameters the rulebook has: a misspelt id would
        otherwise be silently ignored by every rule that reads the real one.
        """
        merged = dict(self.parameters)
        extra = b""
        for p in overlay:
            if p.id not in merged:
                raise RuleDataError(p.file, p.id, "the overlay names a parameter the rulebook does not have")
            merged[p.id] = p
            extra += repr(p).encode()
        book = Rulebook(merged, data_dir=self._data_dir, source_bytes=self._source_bytes + extra)
        # The catalogue and lists do not change with an overlay; share them rather than reload.
        for shared in ("catalogue", "restricted_parties"):
            if shared in self.__dict__:
                book.__dict__[shared] = self.__dict__[shared]
        return book

    def with_restricted_parties(self, parties: RestrictedPartyList) -> Rulebook:
        """This rulebook screening against another list snapshot (e.g. one imported with `chipgate lists`).

        The snapshot's id enters the version, so decisions made against different lists
        never look alike.
        """
        book = Rulebook(
            self.parameters,
            data_dir=self._data_dir,
            source_bytes=self._source_bytes + b"\x00lists:" + parties.snapshot_id.encode(),
        )
        if "catalogue" in self.__dict__:
            book.__dict__["catalogue"] = self.__dict__["catalogue"]
        book.__dict__["restricted_parties"] = parties
        return book

    def with_overlay(self, path: Path) -> Rulebook:
        """This rulebook with the parameters of an overlay file replaced (see docs/rules.md)."""
        return self.with_parameters(load_overlay(path).values())

    @cached_property
    def catalogue(self) -> Catalogue:
        from chipgate.catalogue import Catalogue

        return Catalogue.from_csv(self._require_data_dir() / "chips.csv")

    @cached_property
    def restricted_parties(self) -> RestrictedPartyList:
        from chipgate.parties import RestrictedPartyList

        return RestrictedPartyList.from_csv(self._require_data_dir() / "restricted_parties.csv")

    def _require_data_dir(self) -> Path:
        if self._data_dir is None:
            raise LookupError("this rulebook was built without a data directory")
        return self._data_dir


def package_path(name: str) -> Path:
    return Path(str(resources.files("chipgate").joinpath(name)))


@lru_cache(maxsize=1)
def default_rulebook() -> Rulebook:
    """The rule data and catalogue that ship inside the package."""
    return Rulebook.from_directory(package_path("rules"), package_path("data"))
