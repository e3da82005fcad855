"""A person's natural key in the checks' findings is one document's type and number together: the first current
document (lowest id), never the MIN of each column (the type of one document with the number of another), and
not the MIN of the sealed ciphertexts (another document after a key rotation, so another fingerprint)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.engine import Engine

from liangshi import sealed
from liangshi.checks.sql import _DOCS, _FIRST_DOC, _first_number_of
from liangshi.persons import service as persons
from liangshi.persons.schemas import DocumentIn, PersonCreate
from tests import factories
from tests.conftest import INSIDE, World


def _two_documents(world: World) -> tuple[int, list[tuple[int, str, str]]]:
    """A person holding a resident ID and a passport; returns her id and her documents (id, type, number)."""
    number = factories.make_id("420704", dt.date(1986, 2, 3), 512)
    with world.session() as s:
        snap = persons.create_person(
            s,
            world.ctx(s),
            PersonCreate(
                area_id=world.area(INSIDE),
                name="陈静",
                sex="2",
                birth_date=dt.date(1986, 2, 3),
                documents=[
                    DocumentIn(doc_type="resident_id", number=number),
                    DocumentIn(doc_type="passport", number="E20241207", country="CHN"),
                ],
                valid_from=dt.date(2020, 1, 1),
            ),
        )
        person_id = int(snap.entity.id)
        ring = sealed.keyring(s.get_bind().dialect)
        docs = [
            (int(i), str(t), ring.decrypt("document.number", str(n)))
            for i, t, n in s.execute(
                text(
                    f"SELECT doc_id, doc_type, number FROM ({_DOCS}) d WHERE d.person_id = :p ORDER BY doc_id"
                ),
                {"p": person_id},
            )
        ]
    return person_id, docs


def test_the_first_document_gives_its_own_type_and_number(world: World, engine: Engine) -> None:
    person_id, docs = _two_documents(world)
    assert [t for _, t, _ in docs] == ["resident_id", "passport"]
    ring = sealed.keyring(engine.dialect)
    with engine.connect() as conn:
        [(doc_type, token)] = conn.execute(
            text(f"SELECT doc_type, id_number FROM ({_FIRST_DOC}) fd WHERE fd.person_id = :p"),
            {"p": person_id},
        ).all()
        [(landlord_token,)] = conn.execute(text(f"SELECT {_first_number_of(':p')}"), {"p": person_id}).all()
    first = docs[0]
    assert (doc_type, ring.decrypt("document.number", token)) == (first[1], first[2])
    assert ring.decrypt("document.number", landlord_token) == first[2]
