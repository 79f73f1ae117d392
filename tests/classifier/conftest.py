"""Fixtures for the detection engine tests (formats have their own in formats/)."""

from __future__ import annotations

import pytest

from agent.classifier.engine import Engine
from agent.classifier.rules import default_rules


@pytest.fixture(scope="session")
def rules():
    return default_rules()


@pytest.fixture(scope="session")
def hs_engine(rules):
    return Engine(rules, "hyperscan")


@pytest.fixture(scope="session")
def re_engine(rules):
    return Engine(rules, "re")


@pytest.fixture(scope="session", params=["hyperscan", "re"])
def engine(request, hs_engine, re_engine):
    """Both engines: the compiled one and the pure-Python fallback (PHIWATCH_ENGINE=re)."""
    return hs_engine if request.param == "hyperscan" else re_engine


@pytest.fixture(scope="session")
def engine_cache(tmp_path_factory):
    """A compiled-engine folder shared by the CLI subprocesses of a test session, so each
    fresh PHIWATCH_HOME does not pay the Hyperscan compile again."""
    return tmp_path_factory.mktemp("engine-cache")
