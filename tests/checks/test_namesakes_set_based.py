"""`person.duplicate`'s namesakes in the register, set-based (issue 15): the statement pairs only the persons whose
(name pinyin, birth date, sex) is held more than once, and finds exactly the pairs a plain reading of the rule
gives — every two current persons alike in all three, the later one with a current resident ID whose number
differs from the earlier one's — on a seeded population full of namesakes."""

from __future__ import annotations

import datetime as dt
import random
from itertools import combinations

from sqlalchemy import select

from liangshi.checks import sql_register as sq
from liangshi.checks.service.found import _rows
from liangshi.persons.models import Document, DocumentVersion, PersonVersion
from tests import factories
from tests.conftest import INSIDE, World

NAMES = ("张伟", "张玮", "王芳", "李娜")  # 张伟 and 张玮 share their pinyin
BIRTHS = (dt.date(1990, 1, 1), dt.date(1990, 1, 2))


def test_the_namesakes_statement_finds_exactly_the_pairs_of_the_rule(world: World) -> None:
    rng = random.Random(15)
    with world.session() as s:
        ctx, area = world.ctx(s), world.area(INSIDE)
        for _ in range(40):
            factories.person(
                s,
                ctx,
                area_id=area,
                name=rng.choice(NAMES),
                male=rng.random() < 0.5,
                birth=rng.choice(BIRTHS),
            )
    with world.session() as s:
        persons = {
            v.entity_id: (v.name_pinyin, v.birth_date, v.sex)
            for v in s.execute(
                select(PersonVersion).where(
                    PersonVersion.superseded_at.is_(None), PersonVersion.valid_to.is_(None)
                )
            ).scalars()
        }
        ids: dict[int, list[str]] = {}
        for person_id, idx in s.execute(
            select(Document.person_id, DocumentVersion.number_idx)
            .join(Document, Document.id == DocumentVersion.entity_id)
            .where(
                DocumentVersion.superseded_at.is_(None),
                DocumentVersion.valid_to.is_(None),
                DocumentVersion.doc_type == "resident_id",
            )
        ):
            ids.setdefault(int(person_id), []).append(str(idx))
        expected = {
            (b, a)
            for a, b in combinations(sorted(persons), 2)
            if persons[a] == persons[b] and None not in persons[a]
            for ia in ids.get(a, [])
            for ib in ids.get(b, [])
            if ia != ib
        }
        got = {(int(r.object_id), int(r.twin)) for r in _rows(s, sq.PERSON_NAMESAKES, "%")}
    assert len(expected) > 20  # the seeded population is full of namesakes
    assert got == expected
