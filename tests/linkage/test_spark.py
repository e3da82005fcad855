"""Scale-out: the same model through Splink's Spark backend (local mode) gives the same clusters."""

from __future__ import annotations

import os
import shutil

import pytest

from liangshi.linkage.api import dedupe

from .helpers import TODAY, labelled_records

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None and not os.environ.get("JAVA_HOME"), reason="Spark needs a Java runtime"
)


def test_spark_engine_gives_the_same_clusters_as_duckdb() -> None:
    records, truth = labelled_records()
    on_duckdb = dedupe(records, engine="duckdb", today=TODAY)
    on_spark = dedupe(records, engine="spark", today=TODAY)
    assert on_spark == on_duckdb
    assert len(set(on_spark.values())) == len(set(truth.values()))
