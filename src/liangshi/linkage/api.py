"""Public interface of the record-linkage engine (issue 7): what other domains (the master person index) call.

The pipeline behind it runs in stages, each its own module: ``normalise`` (Chinese-aware cleaning and keys),
``block`` (candidate pairs on indexed keys), ``compare`` (domain comparison levels), ``score`` (a
Fellegi–Sunter model run by Splink on DuckDB or Spark) and ``cluster`` (connected components with a guard
against chaining two different valid ID numbers). Every scored pair is explainable: each field contributes
one :class:`FieldEvidence` with its comparison level and its weight (log2 Bayes factor); the weights plus the
prior sum to the pair's total match weight.

Contract (stable; fields may be added with defaults):

- :func:`explain_pair` scores one pair and tells why;
- :func:`match_against_master` finds, for each new record, the master persons it may be (best first, only
  candidates at or above :data:`REVIEW`); master person ids are never changed;
- :func:`dedupe` clusters a batch of records: record id to cluster id (the smallest record id in the cluster).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from liangshi.linkage import cluster, score
from liangshi.linkage import master as master_mod
from liangshi.linkage.records import ACCEPT, REVIEW, Candidate, FieldEvidence, LinkRecord

if TYPE_CHECKING:
    import pandas

__all__ = [
    "ACCEPT",
    "REVIEW",
    "Candidate",
    "FieldEvidence",
    "LinkRecord",
    "dedupe",
    "explain_pair",
    "match_against_master",
]


def explain_pair(
    a: LinkRecord, b: LinkRecord, *, today: dt.date
) -> tuple[float, float, tuple[FieldEvidence, ...]]:
    """Score one pair: (match probability, total match weight, per-field evidence incl. the prior).

    ``today`` is the caller's date (the use case's ``ctx.today``): an ID number born after it is not valid.
    """
    return score.explain(a, b, today=today)


def match_against_master(
    new: Sequence[LinkRecord],
    master: Iterable[LinkRecord] | pandas.DataFrame,
    *,
    top: int = 3,
    today: dt.date,
) -> dict[str, list[Candidate]]:
    """Best master candidates per new record id (best first, only >= REVIEW; records without any: []).

    ``master`` is either LinkRecords with ``person_id`` set, a DataFrame with the LinkRecord columns, or a
    DataFrame already normalised by :func:`liangshi.linkage.normalise.normalise_frame` (the fast path for a
    large, prepared master index; see :class:`liangshi.linkage.master.MasterIndex`).
    """
    return master_mod.match(new, master, top=top, today=today)


def dedupe(
    records: Sequence[LinkRecord],
    *,
    engine: str = "duckdb",
    model: str = "expert",
    threshold: float | None = None,
    today: dt.date,
) -> dict[str, str]:
    """Cluster records that are the same person: record_id -> cluster_id, for every record.

    ``engine`` is ``"duckdb"`` (default) or ``"spark"`` (Splink's Spark backend, local mode unless a
    session exists); both run the same model and give the same clusters. ``model="trained"`` re-estimates
    the m/u parameters on the batch by EM (for data unlike a Chinese register's); ``threshold`` defaults to
    :data:`ACCEPT`. The cluster id is the smallest record id of the cluster. ``today`` is the caller's date:
    an ID number born after it is not valid.
    """
    score.check_options(engine=engine, model=model)
    frame = score.prepare(records, today=today)
    cut = ACCEPT if threshold is None else threshold
    predictions = score.predict_frame(frame, engine=engine, model=model, min_probability=cut)
    return cluster.clusters(frame, predictions, threshold=cut)
