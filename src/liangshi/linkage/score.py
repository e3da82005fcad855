"""Stage 4, score: the Fellegi–Sunter model of :mod:`liangshi.linkage.compare`, run by Splink or by DuckDB.

Batch deduplication goes through Splink (DuckDB backend, or Spark for scale-out) with the comparison levels
as custom Splink levels and fixed m/u. Single pairs (:func:`explain`) and incremental matching against a
large master index evaluate the very same level conditions directly in DuckDB (one ``CASE`` per field),
which avoids Splink's per-call set-up; a test checks both give the same levels and weights.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from liangshi.errors import ValidationFailed
from liangshi.linkage.block import BLOCK_COLUMNS, BLOCKING_RULES, KEY_COLUMNS, add_keys, cap_blocks, rules_for
from liangshi.linkage.compare import COMPARISONS, PRIOR, prior_weight, sql_condition
from liangshi.linkage.normalise import COLUMNS, normalise_frame
from liangshi.linkage.records import FieldEvidence, LinkRecord

if TYPE_CHECKING:
    import duckdb
    import pandas

__all__ = [
    "ENGINES",
    "PAIR_COLUMNS",
    "evidence",
    "explain",
    "gamma_sql",
    "predict_frame",
    "prepare",
    "probability",
    "settings",
]

ENGINES: tuple[str, ...] = ("duckdb", "spark")

#: Normalised columns the comparison levels read.
PAIR_COLUMNS: tuple[str, ...] = (
    "name_w",
    "name_s",
    "name_py",
    "surname_py",
    "given_py",
    "name_sorted",
    "name_dialect",
    "sex",
    "dob",
    "id",
    "id_valid",
    "id_ok",
    "phone",
    "addr",
)


def settings(
    dialect: str, *, link_type: str = "dedupe_only", rules: Sequence[str] = BLOCKING_RULES
) -> dict[str, Any]:
    """The Splink settings dict of the model for an engine (``duckdb`` or ``spark``)."""
    comparisons = []
    for comparison in COMPARISONS:
        levels: list[dict[str, Any]] = []
        for level in comparison.levels:
            entry: dict[str, Any] = {
                "sql_condition": sql_condition(level, dialect),
                "label_for_charts": level.name,
            }
            if level.null:
                entry["is_null_level"] = True
            else:
                entry["m_probability"] = level.m
                entry["u_probability"] = level.u
            levels.append(entry)
        comparisons.append({"output_column_name": comparison.field, "comparison_levels": levels})
    return {
        "link_type": link_type,
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": PRIOR,
        "blocking_rules_to_generate_predictions": list(rules),
        "comparisons": comparisons,
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
    }


def gamma_sql(dialect: str = "duckdb") -> list[str]:
    """One ``CASE … END AS gamma_<field>`` per comparison, numbered as Splink numbers its levels."""
    parts = []
    for comparison in COMPARISONS:
        n = len(comparison.levels) - 1
        whens = []
        for index, level in enumerate(comparison.levels):
            gamma = -1 if level.null else n - index
            if level.sql == "ELSE":
                whens.append(f"ELSE {gamma}")
            else:
                whens.append(f"WHEN {sql_condition(level, dialect)} THEN {gamma}")
        parts.append(f"CASE {' '.join(whens)} END AS gamma_{comparison.field}")
    return parts


@lru_cache(maxsize=1)
def _level_table() -> dict[str, dict[int, tuple[str, float]]]:
    """field -> gamma -> (level name, weight)."""
    table: dict[str, dict[int, tuple[str, float]]] = {}
    for comparison in COMPARISONS:
        n = len(comparison.levels) - 1
        table[comparison.field] = {
            (-1 if level.null else n - index): (level.name, level.weight)
            for index, level in enumerate(comparison.levels)
        }
    return table


def probability(weight: float) -> float:
    """Match probability of a total match weight (log2 odds)."""
    if weight > 60:
        return 1.0
    odds = math.pow(2.0, weight)
    return odds / (1.0 + odds)


def evidence(gammas: dict[str, int]) -> tuple[float, float, tuple[FieldEvidence, ...]]:
    """(probability, weight, evidence) of a pair's comparison vector; the weights sum to the total."""
    table = _level_table()
    items = [FieldEvidence("prior", "prior", prior_weight())]
    for comparison in COMPARISONS:
        name, weight = table[comparison.field][int(gammas[comparison.field])]
        items.append(FieldEvidence(comparison.field, name, weight))
    total = math.fsum(item.weight for item in items)
    return probability(total), total, tuple(items)


def prepare(records: Sequence[LinkRecord], *, today: dt.date) -> pandas.DataFrame:
    """Normalise records as of `today` and add blocking keys; refuse duplicate record ids."""
    frame = add_keys(normalise_frame(records, today=today))
    duplicated = frame["unique_id"][frame["unique_id"].duplicated()]
    if len(duplicated):
        first = str(duplicated.iloc[0])
        where_zh, where_en = f"共 {len(duplicated)} 个重复", f"{len(duplicated)} duplicates"
        raise ValidationFailed(
            "linkage.duplicate_record_id",
            f"record_id 重复：{first}（{where_zh}）",
            f"Duplicate record_id {first} ({where_en})",
            {"record_id": first, "count": len(duplicated)},
        )
    return frame


def _pair_select(left: str, right: str) -> str:
    cols = [f"{left}.{c} AS {c}_l" for c in PAIR_COLUMNS] + [f"{right}.{c} AS {c}_r" for c in PAIR_COLUMNS]
    return ", ".join(cols)


def explain(
    a: LinkRecord, b: LinkRecord, *, today: dt.date
) -> tuple[float, float, tuple[FieldEvidence, ...]]:
    """Score one pair (normalised as of `today`) with the model's level conditions evaluated in DuckDB."""
    # Imported here, not at the top: DuckDB loads only for a linkage run.
    import duckdb

    frame = normalise_frame([a, b], today=today)
    frame["pos_"] = [0, 1]
    con = duckdb.connect()
    try:
        con.register("recs", frame)
        sql = (
            f"WITH l AS (SELECT * FROM recs WHERE pos_ = 0), r AS (SELECT * FROM recs WHERE pos_ = 1), "
            f"p AS (SELECT {_pair_select('l', 'r')} FROM l, r) SELECT {', '.join(gamma_sql())} FROM p"
        )
        row = con.execute(sql).fetchone()
    finally:
        con.close()
    assert row is not None
    gammas = {c.field: int(g) for c, g in zip(COMPARISONS, row, strict=True)}
    return evidence(gammas)


def score_pairs_sql(left: str, right: str, pairs: str) -> str:
    """SQL scoring the pairs (table ``pairs`` of uid_l, uid_r) of tables ``left`` and ``right`` in DuckDB:
    uid_l, uid_r, gamma_<field> per comparison, match_weight and match_probability."""
    weights = []
    table = _level_table()
    for comparison in COMPARISONS:
        cases = " ".join(f"WHEN {g} THEN {w!r}" for g, (_, w) in table[comparison.field].items())
        weights.append(f"(CASE gamma_{comparison.field} {cases} END)")
    total = f"({prior_weight()!r} + " + " + ".join(weights) + ")"
    return (
        f"WITH p AS (SELECT pairs.uid_l, pairs.uid_r, {_pair_select('l', 'r')} FROM {pairs} pairs "
        f"JOIN {left} l ON l.unique_id = pairs.uid_l JOIN {right} r ON r.unique_id = pairs.uid_r), "
        f"g AS (SELECT uid_l, uid_r, {', '.join(gamma_sql())} FROM p) "
        f"SELECT *, {total} AS match_weight, 1.0 / (1.0 + pow(2.0, -{total})) AS match_probability FROM g"
    )


def score_pairs(con: duckdb.DuckDBPyConnection, left: str, right: str, pairs: str) -> pandas.DataFrame:
    """Run :func:`score_pairs_sql` and return the scored pairs as a DataFrame."""
    return con.execute(score_pairs_sql(left, right, pairs)).df()


# ---------------------------------------------------------------------------------------------------------
# Batch prediction through Splink
# ---------------------------------------------------------------------------------------------------------


def _model_frame(frame: pandas.DataFrame) -> pandas.DataFrame:
    """Only the columns Splink needs (ids, compared columns, keys), in a fixed order."""
    wanted = ["unique_id", *[c for c in COLUMNS if c in PAIR_COLUMNS or c == "surname_s"], *KEY_COLUMNS]
    wanted += [c for c in BLOCK_COLUMNS if c in frame.columns]
    return frame[[c for c in dict.fromkeys(wanted)]]


def _train(linker: Any) -> None:
    """u by random sampling, then m by EM on two blocking passes (birth date; name pinyin)."""
    logging.getLogger("splink").setLevel(logging.ERROR)
    linker.training.estimate_u_using_random_sampling(max_pairs=3e5, seed=1)
    for rule in ("l.dob = r.dob", "l.name_py = r.name_py"):
        linker.training.estimate_parameters_using_expectation_maximisation(rule, fix_u_probabilities=True)


def spark_session() -> Any:
    """The active Spark session, or a local one (``local[1]``, bound to 127.0.0.1) with Splink's UDF jar."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Imported here, not at the top: PySpark loads only for the Spark backend;
    # Splink (and what it loads) takes seconds; only a linkage run needs it.
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    return (
        SparkSession.builder.master("local[1]")
        .appName("liangshi-linkage")
        .config("spark.jars", similarity_jar_location())
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


#: Parameter sources: ``expert`` (the m/u of :mod:`liangshi.linkage.compare`) or ``trained`` (u by random
#: sampling and m by expectation maximisation on the batch itself, starting from the expert values).
MODELS: tuple[str, ...] = ("expert", "trained")


def check_options(*, engine: str = "duckdb", model: str = "expert") -> None:
    """Refuse an unknown engine or model (``linkage.engine_unknown`` / ``linkage.model_unknown``)."""
    if engine not in ENGINES:
        raise ValidationFailed(
            "linkage.engine_unknown",
            f"未知的计算引擎：{engine}（可选 duckdb、spark）",
            f"Unknown engine: {engine} (choose duckdb or spark)",
            {"engine": engine, "allowed": list(ENGINES)},
        )
    if model not in MODELS:
        raise ValidationFailed(
            "linkage.model_unknown",
            f"未知的模型参数来源：{model}（可选 expert、trained）",
            f"Unknown model: {model} (choose expert or trained)",
            {"model": model, "allowed": list(MODELS)},
        )


def predict_frame(
    frame: pandas.DataFrame,
    *,
    engine: str = "duckdb",
    model: str = "expert",
    min_probability: float | None = None,
) -> pandas.DataFrame:
    """Scored candidate pairs within a prepared frame: unique_id_l, unique_id_r, match_weight,
    match_probability and gamma_<field> columns, via Splink on ``engine``.

    ``model="trained"`` re-estimates the parameters on the batch (for data unlike a Chinese register's,
    e.g. FEBRL); the levels, and so the explanations, stay the same. Its weights are returned in the
    ``mw_<field>`` columns as well.

    The core blocking rules are capped (:func:`liangshi.linkage.block.cap_blocks`, run on ``frame`` in place
    when its capped keys are missing), so no frequent key can explode the pair count. ``min_probability``
    keeps only the pairs at or above it, filtered inside the engine: a caller that clusters at a threshold
    never holds the pairs below it in memory.
    """
    # Imported here, not at the top: pandas takes about a second to load; only the linkage engine's frames need it;
    # Splink (and what it loads) takes seconds; only a linkage run needs it.
    import pandas as pd
    from splink import Linker

    check_options(engine=engine, model=model)
    if BLOCK_COLUMNS[0] not in frame.columns:
        cap_blocks(frame)
    data = _model_frame(frame)
    columns = ["unique_id_l", "unique_id_r", "match_weight", "match_probability"]
    columns += [f"gamma_{c.field}" for c in COMPARISONS] + [f"mw_{c.field}" for c in COMPARISONS]
    if len(data) < 2:
        return pd.DataFrame({c: [] for c in columns})
    if engine == "duckdb":
        # Imported here, not at the top: Splink (and what it loads) takes seconds; only a linkage run needs it.
        from splink import DuckDBAPI

        db_api: Any = DuckDBAPI()
        source: Any = data
    else:
        # Imported here, not at the top: Splink (and what it loads) takes seconds; only a linkage run needs it.
        from splink import SparkAPI

        spark = spark_session()
        db_api = SparkAPI(spark_session=spark, break_lineage_method="persist")  # type: ignore[no-untyped-call]
        source = spark.createDataFrame(data.astype(object).where(pd.notna(data), None))
    linker = Linker(db_api.register(source), settings(engine, rules=rules_for(frame)), log_level=None)
    if model == "trained":
        _train(linker)
    predictions = linker.inference.predict(threshold_match_probability=min_probability, warning_mode="never")
    result = predictions.as_pandas_dataframe()  # type: ignore[no-untyped-call]
    predictions.drop_table_from_database_and_remove_from_cache()
    return result[columns]
