"""The public API: dedupe on a small labelled set, matching against a master index keeps person ids."""

from __future__ import annotations

import pandas as pd
import pytest

from liangshi.errors import ValidationFailed
from liangshi.linkage import score
from liangshi.linkage.api import ACCEPT, REVIEW, LinkRecord, dedupe, match_against_master
from liangshi.linkage.cluster import components
from liangshi.linkage.compare import COMPARISONS
from liangshi.linkage.evaluate import evaluate

from .helpers import TODAY, TWIN_ID, ZHANG_ID, labelled_records, wrong_digit


def test_dedupe_finds_the_duplicates_and_keeps_twins_and_namesakes_apart() -> None:
    records, truth = labelled_records()
    clusters = dedupe(records, today=TODAY)
    assert set(clusters) == {r.record_id for r in records}
    scores = evaluate(truth, clusters)
    assert scores.precision == 1.0
    assert scores.recall == 1.0
    assert clusters["h1"] == clusters["j1"] == clusters["c1"] == clusters["p1"] == "c1"
    assert clusters["p2"] != clusters["p1"]
    assert clusters["p3"] != clusters["p1"]


def test_dedupe_refuses_duplicate_record_ids() -> None:
    records = [LinkRecord("x", name="王芳"), LinkRecord("x", name="李娜")]
    with pytest.raises(ValidationFailed) as info:
        dedupe(records, today=TODAY)
    assert info.value.code == "linkage.duplicate_record_id"


def test_dedupe_refuses_an_unknown_engine() -> None:
    with pytest.raises(ValidationFailed) as info:
        dedupe([LinkRecord("x"), LinkRecord("y")], engine="oracle", today=TODAY)
    assert info.value.code == "linkage.engine_unknown"


def test_cluster_guard_never_chains_two_valid_ids_into_one_person() -> None:
    # b resembles both a and c strongly; a and c have different valid ID numbers.
    edges = [("a", "b", 0.999), ("b", "c", 0.998)]
    result = components(["a", "b", "c"], edges, valid_ids={"a": ZHANG_ID, "c": TWIN_ID}, threshold=ACCEPT)
    assert result["a"] == result["b"] == "a"
    assert result["c"] == "c"


def test_splink_and_the_direct_duckdb_scorer_agree_on_every_pair() -> None:
    records, _ = labelled_records()
    frame = score.prepare(records, today=TODAY)
    predictions = score.predict_frame(frame)
    assert len(predictions) > 0
    by_id = {r.record_id: r for r in records}
    for row in predictions.itertuples(index=False):
        _probability, weight, evidence = score.explain(
            by_id[row.unique_id_l], by_id[row.unique_id_r], today=TODAY
        )
        assert weight == pytest.approx(row.match_weight, abs=1e-6)
        gammas = {c.field: int(getattr(row, f"gamma_{c.field}")) for c in COMPARISONS}
        assert score.evidence(gammas)[2] == evidence


def _master() -> list[LinkRecord]:
    records, _ = labelled_records()
    police = [r for r in records if r.source == "police"]
    return [
        LinkRecord(
            r.record_id, r.source, r.name, r.sex, r.birth_date, r.id_number, r.phone, r.address, 100 + i
        )
        for i, r in enumerate(police)
    ]


def test_match_against_master_returns_the_existing_person_id() -> None:
    master = _master()
    new = [
        LinkRecord("n1", "hospital", "張曉明", "男", "1990年1月2日", wrong_digit(ZHANG_ID, 12)),
        LinkRecord("n2", "hospital", "赵雷", "男", "2001-05-05"),
    ]
    result = match_against_master(new, master, today=TODAY)
    assert set(result) == {"n1", "n2"}
    best = result["n1"][0]
    assert best.person_id == 100
    assert best.probability >= ACCEPT
    assert all(c.probability >= REVIEW for c in result["n1"])
    assert result["n2"] == []
    assert [r.person_id for r in master] == [100, 101, 102, 103]


def test_match_against_master_accepts_a_dataframe_and_a_prepared_frame() -> None:
    master = _master()
    frame = pd.DataFrame([r.__dict__ for r in master])
    new = [LinkRecord("n1", name="张晓亮", birth_date="1990-01-02", id_number=TWIN_ID)]
    assert match_against_master(new, frame, today=TODAY)["n1"][0].person_id == 101
    prepared = score.prepare(master, today=TODAY)
    assert match_against_master(new, prepared, today=TODAY)["n1"][0].person_id == 101


def test_a_master_frame_stored_before_the_dialect_key_gets_it_from_the_written_name() -> None:
    master = [
        LinkRecord("m1", name="刘晓明", sex="男", birth_date="1990-01-02", id_number=ZHANG_ID, person_id=7)
    ]
    stored = score.prepare(master, today=TODAY).drop(columns=["name_dialect"])
    new = [LinkRecord("n1", name="牛晓明", sex="男", birth_date="1990-01-02", id_number=ZHANG_ID)]
    best = match_against_master(new, stored, today=TODAY)["n1"][0]
    assert best.person_id == 7
    assert {e.field: e.level for e in best.evidence}["name"] == "near_homophone"


def test_candidates_are_best_first_and_capped() -> None:
    master = [
        LinkRecord(f"m{i}", name="王芳", sex="女", birth_date="1985-12-30", person_id=i) for i in range(1, 6)
    ]
    result = match_against_master(
        [LinkRecord("n", name="王芳", sex="女", birth_date="1985-12-30")], master, top=3, today=TODAY
    )
    assert len(result["n"]) == 3
    weights = [c.weight for c in result["n"]]
    assert weights == sorted(weights, reverse=True)


def test_master_records_need_a_person_id() -> None:
    with pytest.raises(ValidationFailed) as info:
        match_against_master([LinkRecord("n", name="王芳")], [LinkRecord("m", name="王芳")], today=TODAY)
    assert info.value.code == "linkage.master_without_person"
