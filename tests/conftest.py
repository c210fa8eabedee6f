"""Fixtures shared by the whole suite."""

from __future__ import annotations

import datetime as dt

import pytest

from chipgate.rulebook import Rulebook, default_rulebook


@pytest.fixture(scope="session")
def rulebook() -> Rulebook:
    return default_rulebook()


def first_date(rulebook: Rulebook, parameter: str) -> dt.date:
    """The date a parameter first took effect, read from the rule data."""
    return rulebook.history(parameter)[0].effective_from
