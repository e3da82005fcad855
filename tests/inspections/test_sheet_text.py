"""The scoring sheet as the text the accountability page shows and reads back."""

from __future__ import annotations

from liangshi.inspections import rules


def test_a_sheet_written_as_toml_reads_back_the_same() -> None:
    sheet = rules.scoring_sheet(
        {"name": '严格 "评分" 表', "quality": {"inspection_defect": -12.5}, "penalty": {"defect_rate": 0.015}}
    )
    text = rules.sheet_toml(sheet)
    assert "[quality]" in text and "inspection_defect = -12.5" in text
    assert rules.parse_sheet(text) == sheet
    assert rules.parse_sheet(rules.sheet_toml(rules.scoring_sheet())) == rules.scoring_sheet()
