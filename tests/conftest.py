"""Fixtures shared by the whole suite."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

import pytest

from chipgate.rulebook import Rulebook, default_rulebook


@pytest.fixture(scope="session", autouse=True)
def _own_chipgate_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Commands read the user's chosen list snapshot and default ledger from CHIPGATE_HOME:
    the suite gets an empty one of its own, so a developer's choices cannot change a result."""
    before = os.environ.get("CHIPGATE_HOME")
    os.environ["CHIPGATE_HOME"] = str(tmp_path_factory.mktemp("chipgate-home"))
    yield
    if before is None:
        os.environ.pop("CHIPGATE_HOME", None)
    else:
        os.environ["CHIPGATE_HOME"] = before


@pytest.fixture(scope="session")
def rulebook() -> Rulebook:
    return default_rulebook()


def first_date(rulebook: Rulebook, parameter: str) -> dt.date:
    """The date a parameter first took effect, read from the rule data."""
    return rulebook.history(parameter)[0].effective_from
