"""ID numbers in the department files held for checking (issue 15, stop 25): a number failing its check, and a
sound number whose sex or birth date the file writes otherwise, found with the number as the file wrote it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from liangshi.checks import rules
from liangshi.checks import service as checks
from tests import factories
from tests.conftest import INSIDE, World

BORN = dt.date(1990, 1, 1)


def test_a_number_is_judged_by_its_check_character_and_birth_segment_and_an_old_one_upgrades() -> None:
    sound = factories.make_id(birth=BORN, seq=103)  # odd sequence: a man's
    wrong = sound[:17] + ("0" if sound[17] != "0" else "1")
    assert rules.id_problem(sound) is None
    assert rules.id_problem(wrong) == "check_character"
    assert rules.id_problem("42070419901301103X") in ("check_character", "birth_segment")
    assert rules.id_problem("4207041990") == "format"
    assert rules.id_problem("420704900101103") is None  # 15 digits, born 1990-01-01
    assert rules.id_problem("420704901301103") == "birth_segment"
    assert rules.id_disagreement(sound, "1", BORN) == []
    assert rules.id_disagreement(sound, "女", BORN) == ["sex"]
    assert rules.id_disagreement(sound, "1", dt.date(1990, 2, 1)) == ["birth_date"]
    assert rules.id_disagreement(wrong, "2", dt.date(1991, 1, 1)) == []  # unsound: that is id_problem's
    assert rules.id_disagreement("420704900101104", "1", BORN) == ["sex"]


def test_department_records_failing_or_disagreeing_with_their_number_are_found_as_written(
    world: World, tmp_path: Path
) -> None:
    sound = factories.make_id(birth=BORN, seq=105)
    wrong = sound[:17] + ("0" if sound[17] != "0" else "1")
    other = factories.make_id(birth=BORN, seq=107)
    with world.session() as s:
        factories.place(s, world.ctx(s), area_id=world.area(INSIDE), district_id=world.area("420704"))
        s.commit()
    path = tmp_path / "justice_persons.csv"
    path.write_text(
        "证件号码,姓名,性别,出生日期,管辖社区\n"
        f"{sound},张伟,1,1990-01-01,{INSIDE}\n"  # sound and agreeing: nothing
        f"{wrong.lower()},李强,1,1990-01-01,{INSIDE}\n"  # a wrong check character
        f"{other},王芳,2,1990-01-01,{INSIDE}\n"  # an odd sequence written as a woman
        f"420704900101103,赵军,1,1990-01-01,{INSIDE}\n",  # an old 15-digit number, sound
        encoding="utf-8",
    )
    with world.session() as s:
        ctx = world.ctx(s)
        checks.load_source(s, ctx, source="justice_persons", kind="persons", path=path)
        result = checks.run_checks(s, ctx, codes=["person.id_invalid", "person.id_disagrees"])
    found = {(f.check, f.keys["id_number"], f.keys.get("source")) for f in result.found}
    assert found == {
        ("person.id_invalid", wrong.lower(), "justice_persons"),
        ("person.id_disagrees", other, "justice_persons"),
    }
    disagrees = next(f for f in result.found if f.check == "person.id_disagrees")
    assert disagrees.evidence["differs"] == ["sex"] and disagrees.evidence["line"] == 4
