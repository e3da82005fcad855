"""Incremental matching: new records against the master person index, in DuckDB.

The master is normalised once (:class:`MasterIndex`, or a frame from :func:`prepare_master` that the master
person index can store) and kept in a DuckDB table; each batch of new records is normalised, blocked against
it with the capped blocking rules of :mod:`liangshi.linkage.block` (hash joins on the key columns; a key
shared by more than ``BLOCK_CAP`` master records is split the same way for the master and every batch, so a
new record meets at most ``BLOCK_CAP`` master records per rule), and scored with
the model's level conditions (:func:`liangshi.linkage.score.score_pairs`). Nothing here changes a master
person id: the result only proposes, per new record, the persons it may be.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from liangshi.errors import ValidationFailed
from liangshi.linkage.block import CAPPED_RULES, KEY_COLUMNS, add_keys, apply_cuts, cap_blocks
from liangshi.linkage.normalise import normalise_name, records_from_frame
from liangshi.linkage.records import REVIEW, Candidate, LinkRecord
from liangshi.linkage.score import evidence, prepare, score_pairs_sql

if TYPE_CHECKING:
    import duckdb
    import pandas

__all__ = ["MasterIndex", "match", "prepare_master"]


def prepare_master(master: Iterable[LinkRecord] | pandas.DataFrame, *, today: dt.date) -> pandas.DataFrame:
    """A normalised master frame as of `today` (records must carry person_id); a normalised frame is returned
    as is."""
    # Imported here, not at the top: pandas takes about a second to load; only the linkage engine's frames need it.
    import pandas as pd

    if isinstance(master, pd.DataFrame):
        if {"name_py", "dob_set", "unique_id"} <= set(master.columns):
            if "name_dialect" not in master.columns:
                # Normalised (and stored) before the dialect key existed: derive it from the written name.
                master = master.assign(name_dialect=[_dialect(n) for n in master["name_w"]])
            return master
        records = records_from_frame(master)
    else:
        records = list(master)
    missing = [r.record_id for r in records if r.person_id is None]
    if missing:
        raise ValidationFailed(
            "linkage.master_without_person",
            f"主索引记录缺少人员编号：{missing[0]}（共{len(missing)}条）",
            f"Master record without a person_id: {missing[0]} ({len(missing)} records)",
            {"record_id": missing[0], "count": len(missing)},
        )
    return prepare(records, today=today)


def _dialect(written: Any) -> str | None:
    name = normalise_name(written) if isinstance(written, str) else None
    return name.dialect if name else None


def _join_condition(rule: str) -> str:
    return re.sub(r"\br\.", "m.", re.sub(r"\bl\.", "n.", rule))


class MasterIndex:
    """A master person index held in DuckDB, normalised once, to match batches of new records against;
    records are normalised as of `today` (an ID number born after it is not valid)."""

    def __init__(self, master: Iterable[LinkRecord] | pandas.DataFrame, *, today: dt.date) -> None:
        # Imported here, not at the top: DuckDB loads only for a linkage run.
        import duckdb

        self.today = today
        frame = prepare_master(master, today=today)
        callers = frame is master  # the capped keys are added in place: never to the caller's frame
        if not set(KEY_COLUMNS) <= set(frame.columns):
            frame = add_keys(frame.copy())
        elif callers:
            frame = frame.copy()
        self.cuts = cap_blocks(frame)
        self.size = len(frame)
        self.con: duckdb.DuckDBPyConnection = duckdb.connect()
        self.con.register("master_df", frame)
        self.con.execute("CREATE TABLE master AS SELECT * FROM master_df")
        self.con.unregister("master_df")

    def close(self) -> None:
        """Release the DuckDB connection."""
        self.con.close()

    def __enter__(self) -> MasterIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def match(self, new: Sequence[LinkRecord], *, top: int = 3) -> dict[str, list[Candidate]]:
        """Best master candidates per new record id, best first, only >= REVIEW."""
        result: dict[str, list[Candidate]] = {r.record_id: [] for r in new}
        result.update(self.match_frame(prepare(new, today=self.today), top=top))
        return result

    def match_frame(self, frame: pandas.DataFrame, *, top: int = 3) -> dict[str, list[Candidate]]:
        """Like :meth:`match` for new records already prepared by :func:`~liangshi.linkage.score.prepare`;
        only records with candidates are in the result."""
        result: dict[str, list[Candidate]] = {}
        if not len(frame) or not self.size:
            return result
        con = self.con
        frame = frame.copy()
        apply_cuts(frame, self.cuts)
        con.register("new_df", frame)
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE new_recs AS SELECT * FROM new_df")
            joins = " UNION ".join(
                f"SELECT n.unique_id AS uid_l, m.unique_id AS uid_r FROM new_recs n JOIN master m "
                f"ON {_join_condition(rule)}"
                for rule in CAPPED_RULES
            )
            con.execute(f"CREATE OR REPLACE TEMP TABLE pairs AS {joins}")
            scored = con.execute(
                f"SELECT s.*, m.person_id FROM ({score_pairs_sql('new_recs', 'master', 'pairs')}) s "
                f"JOIN master m ON m.unique_id = s.uid_r WHERE s.match_probability >= {REVIEW!r}"
            ).df()
        finally:
            con.unregister("new_df")
        if not len(scored):
            return result
        gamma_cols = [c for c in scored.columns if c.startswith("gamma_")]
        best: dict[str, dict[int, Candidate]] = {}
        for row in scored.itertuples(index=False):
            values: dict[str, Any] = row._asdict()
            gammas = {c[len("gamma_") :]: int(values[c]) for c in gamma_cols}
            prob, weight, items = evidence(gammas)
            uid = str(values["uid_l"])
            pid = int(values["person_id"])
            per_person = best.setdefault(uid, {})
            if pid not in per_person or per_person[pid].weight < weight:
                per_person[pid] = Candidate(uid, pid, prob, weight, items)
        for uid, per_person in best.items():
            ranked = sorted(per_person.values(), key=lambda c: (-c.weight, c.person_id))
            result[uid] = ranked[:top]
        return result


def match(
    new: Sequence[LinkRecord],
    master: Iterable[LinkRecord] | pandas.DataFrame,
    *,
    top: int = 3,
    today: dt.date,
) -> dict[str, list[Candidate]]:
    """One-off matching as of `today` (builds a temporary :class:`MasterIndex`)."""
    with MasterIndex(master, today=today) as index:
        return index.match(new, top=top)
