"""Capped blocking (issue 19): a frequent key never grows into a near-cartesian block, and the cuts a master
index makes are the cuts its batches get."""

from __future__ import annotations

import pandas as pd

from liangshi.linkage import score
from liangshi.linkage.api import LinkRecord, dedupe, match_against_master
from liangshi.linkage.block import BLOCK_CAP, BLOCK_COLUMNS, apply_cuts, cap_blocks
from liangshi.linkage.evaluate import evaluate

from .helpers import TODAY, valid_id

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


def _crowd(n: int) -> list[LinkRecord]:
    """n different people sharing one switchboard phone and one dormitory address."""
    records = []
    for i in range(n):
        born = f"19{70 + i % 30:02d}{1 + i % 12:02d}{1 + i % 28:02d}"
        name = SURNAMES[i % 20] + GIVEN[(i // 20) % len(GIVEN)] + GIVEN[(i // 440) % len(GIVEN)]
        records.append(
            LinkRecord(
                f"r{i}",
                "police",
                name,
                "1" if i % 2 else "2",
                f"{born[:4]}-{born[4:6]}-{born[6:]}",
                valid_id("420704", born, 100 + i % 800),
                "07273200000",
                "湖北省鄂州市鄂城区工业园宿舍1号",
            )
        )
    return records


def _block_sizes(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].dropna().value_counts()


def test_no_capped_block_is_over_the_cap_and_small_blocks_are_untouched() -> None:
    frame = score.prepare(_crowd(3000), today=TODAY)
    cap_blocks(frame)
    for column in BLOCK_COLUMNS:
        sizes = _block_sizes(frame, column)
        assert sizes.empty or int(sizes.max()) <= BLOCK_CAP, column
    # the phone block (rule 7) held all 3,000 records: it was split, not kept whole
    assert frame["blk_7"].nunique() > 1
    # the ID number rule's blocks are single records here: kept exactly as the raw key
    assert frame["blk_0"].tolist() == frame["id"].tolist()


def test_a_shared_phone_and_address_do_not_explode_the_pairs_and_duplicates_are_still_found() -> None:
    people = _crowd(2000)
    # two of them appear twice: once more in a department file, written differently
    extra = [
        LinkRecord("d1", "health", people[5].name, people[5].sex, people[5].birth_date, people[5].id_number),
        LinkRecord(
            "d2", "health", people[77].name, people[77].sex, people[77].birth_date, None, "07273200000"
        ),
    ]
    records = people + extra
    frame = score.prepare(records, today=TODAY)
    predictions = score.predict_frame(frame)
    uncapped_pairs = 2002 * 2001 // 2  # what the phone rule alone compared before the cap
    assert len(predictions) < uncapped_pairs // 20
    clusters = dedupe(records, today=TODAY)
    truth = {r.record_id: r.record_id for r in people}
    truth["d1"], truth["d2"] = "r5", "r77"
    scores = evaluate(truth, clusters)
    assert scores.recall == 1.0
    assert scores.precision == 1.0


def test_a_batch_is_cut_as_its_master_was() -> None:
    master = score.prepare(_crowd(1500), today=TODAY)
    cuts = cap_blocks(master)
    batch = master.drop(columns=list(BLOCK_COLUMNS)).copy()
    apply_cuts(batch, cuts)
    for column in BLOCK_COLUMNS:
        assert batch[column].tolist() == master[column].tolist(), column


def test_matching_against_a_master_with_a_frequent_key_still_finds_the_person() -> None:
    people = _crowd(1500)
    master = [
        LinkRecord(
            r.record_id,
            r.source,
            r.name,
            r.sex,
            r.birth_date,
            r.id_number,
            r.phone,
            r.address,
            person_id=i + 1,
        )
        for i, r in enumerate(people)
    ]
    target = people[321]
    new = [LinkRecord("n1", "health", target.name, target.sex, target.birth_date, None, target.phone)]
    result = match_against_master(new, master, today=TODAY)
    assert result["n1"], "the person was not found"
    assert result["n1"][0].person_id == 322
