"""Fixtures of the master person index tests: the stand-in engine and a few persons."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from liangshi.linkage import api as linkage
from tests.mpi import engine


@pytest.fixture(autouse=True)
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The stand-in engine (a test module may override this fixture to run the real one)."""
    monkeypatch.setattr(linkage, "explain_pair", engine.explain_pair)
    monkeypatch.setattr(linkage, "match_against_master", engine.match_against_master)
    monkeypatch.setattr(linkage, "dedupe", engine.dedupe)
    yield
