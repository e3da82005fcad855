"""Each check's rule: its SQL (`checks.sql`) run over the scope, its rows turned into findings with natural keys."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from liangshi.addresses.rules import render_plate_number
from liangshi.checks import rules, sql
from liangshi.checks.models import SourceRecord
from liangshi.checks.service.scope import Found
from liangshi.persons.models import DocumentVersion
from liangshi.sealed import opener, reveal

# -- the checks ------------------------------------------------------------------------------------------------


def _number(row: Any) -> str:
    return render_plate_number(int(row.base_number), row.sub_number, row.style or "dash")


def _plate_keys(row: Any, number: str | None = None) -> dict[str, str]:
    return {
        "community_code": str(row.community_code),
        "street": str(row.street or ""),
        "number": number if number is not None else _number(row),
    }


def _dwelling_keys(row: Any, number: str | None = None) -> dict[str, str]:
    return {
        **_plate_keys(row, number),
        "building": str(row.building or ""),
        "unit": "" if row.unit is None else str(row.unit),
        "room": str(row.room or ""),
    }


def _rows(session: Session, statement: str, prefix: str, **params: Any) -> Sequence[Any]:
    return session.execute(text(statement), {"prefix": prefix, **params}).all()


#: The result columns of the register's SQL that carry a document number (`sql._DOCS`, `sql._FIRST_DOC`).
REGISTER_NUMBERS = ("id_number", "landlord_id_number")


def register_rows(session: Session, statement: str, prefix: str, **params: Any) -> list[SimpleNamespace]:
    """The rows of a statement over the register's documents, the document numbers they carry opened (sealed,
    docs/encryption.md: `id_number`, `landlord_id_number` where present)."""
    rows = _rows(session, statement, prefix, **params)
    if not rows:
        return []
    present = set(rows[0]._mapping)
    return opened(session, rows, **{c: DocumentVersion.number for c in REGISTER_NUMBERS if c in present})


def opened(session: Session, rows: Iterable[Any], **columns: Any) -> list[SimpleNamespace]:
    """Rows of textual SQL with their sealed values opened: each keyword names a result column and the sealed
    column it was read from (`id_norm=SourceRecord.id_norm`)."""
    openers = [(name, opener(session, column)) for name, column in columns.items()]
    out = []
    for r in rows:
        values = dict(r._mapping)
        for name, open_ in openers:
            values[name] = open_(values[name])
        out.append(SimpleNamespace(**values))
    return out


def source_numbers(session: Session, statement: str, prefix: str) -> list[SimpleNamespace]:
    """The department-file rows a statement selects, their numbers opened (`id_number`, `id_norm`)."""
    return opened(
        session,
        _rows(session, statement, prefix),
        id_number=SourceRecord.id_number,
        id_norm=SourceRecord.id_norm,
    )


def source_holders(session: Session, kind: str, prefix: str) -> dict[int, list[tuple[int, Any, Any]]]:
    """The register persons holding the number of each department-file record of a kind as a current document:
    (person id, name, birth date) each, by record id. Both numbers are sealed: SQL joins their keyed-hash
    indexes (`sql.SOURCE_HOLDERS`)."""
    held: dict[int, list[tuple[int, Any, Any]]] = {}
    for record_id, person_id, name, born in _rows(session, sql.SOURCE_HOLDERS, prefix, kind=kind):
        held.setdefault(int(record_id), []).append((int(person_id), name, born))
    return held


def _not_installed(session: Session, prefix: str) -> Iterable[Found]:
    for r in _rows(session, sql.PLATE_NOT_INSTALLED, prefix):
        yield Found(
            "plate.not_installed",
            "address",
            r.object_id,
            r.area_id,
            r.county_code,
            _plate_keys(r),
            {"status": r.status},
        )


def _missing(session: Session, prefix: str) -> Iterable[Found]:
    for r in _rows(session, sql.PLATE_MISSING, prefix):
        # The register lacks the plate: its number is known only as the department wrote it.
        yield Found(
            "plate.missing",
            "address",
            None,
            r.area_id,
            r.county_code,
            _plate_keys(r, str(r.number_text)),
            {"source": r.source, "line": r.line, "dwellings_named": r.dwellings, "as_written": r.number_text},
        )


Axis = tuple[int, float | None, float | None, float | None, float | None]


def _street_axes(session: Session, prefix: str) -> list[Axis]:
    """Each street's start (lon, lat) and unit direction (east, north) from its start description and bearing;
    None where the street's start is written in words or its bearing is unknown."""
    rows = session.execute(
        text(f"SELECT DISTINCT p.street_id, p.start_description, p.bearing_deg FROM ({sql.STREET_PLATES}) p"),
        {"prefix": prefix},
    ).all()
    axes: list[Axis] = []
    for street_id, start, bearing in rows:
        try:
            lon, lat = (float(v) for v in str(start).split()[-1].split(","))
            b = math.radians(float(bearing))
        except (ValueError, TypeError):
            axes.append((int(street_id), None, None, None, None))
            continue
        axes.append((int(street_id), lon, lat, math.sin(b), math.cos(b)))
    return axes


def _sided(session: Session, prefix: str, select_sql: str) -> Iterable[Any]:
    """Run `select_sql` over the street plates with their side (`p`, street by street in chunks) and each side's
    parity counts (`m`).

    The side is the plate's stored side (address_versions.side, filled on creation and import); where none is
    stored, the sign of the cross product of the street's direction with the plate's offset from the street's
    start (in local metres east and north); NULL where the plate or the street has no position. Which parity
    belongs to which side is the street's convention, as most of its plates follow it (odd on the left, 左单右双,
    or the reverse: `m.odd_left` against `m.even_left`), so a side with few plates is judged by the whole street;
    a plate of the other parity is on the wrong side (`p.wrong`). A stored odd / even side (the numbering side a
    collector saw) is judged directly: an even number on the odd side is on the wrong side.
    """
    axes = _street_axes(session, prefix)
    for i in range(0, len(axes), 400):
        chunk = axes[i : i + 400]
        params: dict[str, Any] = {"prefix": prefix}
        values = []
        for j, (sid, lon, lat, east, north) in enumerate(chunk):
            values.append(
                f"(CAST(:s{j} AS BIGINT), CAST(:x{j} AS FLOAT), CAST(:y{j} AS FLOAT), CAST(:e{j} AS FLOAT),"
                f" CAST(:n{j} AS FLOAT), CAST(:c{j} AS FLOAT))"
            )
            params |= {
                f"s{j}": sid,
                f"x{j}": lon,
                f"y{j}": lat,
                f"e{j}": east,
                f"n{j}": north,
                f"c{j}": None if lat is None else math.cos(math.radians(lat)),
            }
        statement = f"""
WITH st(street_id, x0, y0, ux, uy, coslat) AS (VALUES {", ".join(values)}),
s AS (
  SELECT q.*, CASE
      WHEN q.stored_side IN ('left', 'right') THEN q.stored_side
      WHEN q.stored_side IN ('odd', 'even') THEN NULL
      WHEN st.x0 IS NULL OR q.lon IS NULL OR q.lat IS NULL THEN NULL
      WHEN st.ux * (q.lat - st.y0) - st.uy * (q.lon - st.x0) * st.coslat > 0 THEN 'left'
      ELSE 'right' END AS side
  FROM ({sql.STREET_PLATES}) q JOIN st ON st.street_id = q.street_id
),
m AS (
  SELECT street_id,
    SUM(CASE WHEN (side = 'left') = (base_number % 2 = 1) THEN 1 ELSE 0 END) AS odd_left,
    SUM(CASE WHEN (side = 'left') = (base_number % 2 = 0) THEN 1 ELSE 0 END) AS even_left
  FROM s WHERE side IS NOT NULL GROUP BY street_id
),
p AS (
  SELECT s.*, m.odd_left, m.even_left,
    CASE WHEN s.stored_side = 'odd' THEN CASE WHEN s.base_number % 2 = 0 THEN 1 ELSE 0 END
         WHEN s.stored_side = 'even' THEN CASE WHEN s.base_number % 2 = 1 THEN 1 ELSE 0 END
         WHEN s.side IS NOT NULL AND (
           (m.odd_left > m.even_left AND (s.side = 'left') = (s.base_number % 2 = 0))
        OR (m.even_left > m.odd_left AND (s.side = 'left') = (s.base_number % 2 = 1)))
         THEN 1 ELSE 0 END AS wrong
  FROM s LEFT JOIN m ON m.street_id = s.street_id
)
{select_sql}
"""
        yield from session.execute(text(statement), params).all()


def _wrong_side(session: Session, prefix: str) -> Iterable[Found]:
    for r in _sided(session, prefix, "SELECT * FROM p WHERE wrong = 1"):
        yield Found(
            "plate.wrong_side",
            "address",
            r.object_id,
            r.area_id,
            r.county_code,
            _plate_keys(r),
            {
                "side": r.side or r.stored_side,
                "side_from": "stored" if r.stored_side else "position",
                "chainage_m": r.chainage_m,
                **(
                    {
                        "street_convention": "odd_left" if r.odd_left > r.even_left else "even_left",
                        "plates_following_it": int(max(r.odd_left, r.even_left)),
                        "plates_against_it": int(min(r.odd_left, r.even_left)),
                    }
                    if r.odd_left is not None and r.side is not None
                    else {}
                ),
            },
        )


def _out_of_order(session: Session, prefix: str) -> Iterable[Found]:
    # Order is judged among the plates that belong to a side: one on the wrong side is reported as such, and its
    # number (taken from the other side's sequence) neither is nor makes another plate out of order. SQL finds
    # the sequences with an inversion; the rule on each sequence says which plates are out of place.
    rows = list(_sided(session, prefix, sql.OUT_OF_ORDER_OVER_P))
    sequences: dict[tuple[int, int], list[Any]] = {}
    for r in rows:
        sequences.setdefault((int(r.street_id), int(r.base_number) % 2), []).append(r)
    for plates in sequences.values():
        numbers = [(int(r.base_number), int(r.sub_number or 0)) for r in plates]
        for i in sorted(rules.out_of_order(numbers)):
            r = plates[i]
            yield Found(
                "plate.out_of_order",
                "address",
                r.object_id,
                r.area_id,
                r.county_code,
                _plate_keys(r),
                {
                    "chainage_m": r.chainage_m,
                    "before": _number(plates[i - 1]) if i > 0 else None,
                    "after": _number(plates[i + 1]) if i + 1 < len(plates) else None,
                },
            )


def _person_keys(doc_type: str | None, number: str | None) -> dict[str, str]:
    return {"doc_type": doc_type or "", "id_number": number or ""}


def _duplicate(session: Session, prefix: str) -> Iterable[Found]:
    records = source_numbers(session, sql.SOURCE_PERSONS, prefix)
    held = source_holders(session, "persons", prefix)
    by_name_birth = {int(i): int(p) for i, p in _rows(session, sql.PERSON_BY_NAME_BIRTH, prefix)}
    for r in records:
        holders = held.get(int(r.object_id), [])
        by_number = min((p for p, _, _ in holders), default=None)
        by_name = by_name_birth.get(int(r.object_id))
        # A holder of the number with the record's name and birth date: the record is that person, no duplicate
        # (SQL's equality: a missing name or birth date agrees with nothing).
        alike = any(
            r.name is not None and r.birth_date is not None and name == r.name and born == r.birth_date
            for _, name, born in holders
        )
        if (by_number is None and by_name is None) or alike:
            continue
        yield Found(
            "person.duplicate",
            "person",
            by_number or by_name,
            r.area_id,
            r.county_code,
            {**_person_keys(r.doc_type or "resident_id", r.id_number), "source": r.source},
            {
                "source": r.source,
                "line": r.line,
                "name": r.name,
                "birth_date": str(r.birth_date) if r.birth_date else None,
                "same_number_as_person": by_number,
                "same_name_and_birth_as_person": by_name,
            },
        )


def _departed(session: Session, prefix: str) -> Iterable[Found]:
    for r in register_rows(session, sql.DEPARTED_NOT_DEREGISTERED, prefix):
        yield Found(
            "residence.departed_not_deregistered",
            "residence",
            r.object_id,
            r.area_id,
            r.county_code,
            _person_keys(r.doc_type, r.id_number),
            {
                "dwelling": _dwelling_keys(r),
                "dwelling_status": r.dwelling_status,
                "housing_status": r.source_status,
                "person_id": r.person_id,
            },
        )


def _tenant_unregistered(session: Session, prefix: str) -> Iterable[Found]:
    tenants = source_numbers(session, sql.SOURCE_TENANTS, prefix)
    held = source_holders(session, "rentals", prefix)
    for r in tenants:
        if held.get(int(r.object_id)):
            continue
        yield Found(
            "rental.tenant_unregistered",
            "person",
            None,
            r.area_id,
            r.county_code,
            _person_keys(r.doc_type or "resident_id", r.id_number),
            {
                "source": r.source,
                "line": r.line,
                "dwelling": {
                    "community_code": r.community_code,
                    "street": r.street or "",
                    "number": r.number,
                    "building": r.building,
                    "unit": r.unit or "",
                    "room": r.room,
                },
                "landlord_id_number": reveal(session, SourceRecord.landlord_id_number, r.landlord_id_number),
            },
        )


def _landlords(session: Session, row_ids: list[int]) -> dict[int, str | None]:
    """The landlords' ID numbers of source records, by record id (decrypted by the sealed column's type)."""
    found: dict[int, str | None] = {}
    for start in range(0, len(row_ids), 1000):
        chunk = row_ids[start : start + 1000]
        rows = session.execute(
            select(SourceRecord.id, SourceRecord.landlord_id_number).where(SourceRecord.id.in_(chunk))
        )
        found.update({int(rid): number for rid, number in rows})
    return found


def _no_agreement(session: Session, prefix: str) -> Iterable[Found]:
    seen: set[str] = set()
    for r in register_rows(session, sql.RENTAL_NO_AGREEMENT, prefix):
        keys = _dwelling_keys(r)
        seen.add(rules.canonical_keys(keys))
        yield Found(
            "rental.no_agreement",
            "dwelling",
            r.object_id,
            r.area_id,
            r.county_code,
            keys,
            {"rental_id": r.rental_id, "landlord_id_number": r.landlord_id_number, "source": "register"},
        )
    source_rows = _rows(session, sql.SOURCE_RENTAL_NO_AGREEMENT, prefix)
    landlords = _landlords(session, [r.landlord_row for r in source_rows if r.landlord_row is not None])
    for r in source_rows:
        keys = {
            "community_code": r.community_code,
            "street": r.street or "",
            "number": r.number_text,
            "building": r.building or "",
            "unit": r.unit or "",
            "room": r.room or "",
        }
        if rules.canonical_keys(keys) in seen:
            continue
        yield Found(
            "rental.no_agreement",
            "dwelling",
            None,
            r.area_id,
            r.county_code,
            keys,
            {"landlord_id_number": landlords.get(r.landlord_row), "source": r.source, "line": r.line},
        )


def _vacant_occupied(session: Session, prefix: str) -> Iterable[Found]:
    for r in _rows(session, sql.VACANT_RECORDED_OCCUPIED, prefix):
        yield Found(
            "dwelling.vacant_recorded_occupied",
            "dwelling",
            r.object_id,
            r.area_id,
            r.county_code,
            _dwelling_keys(r),
            {
                "status": r.status,
                "open_residences": int(r.open_residences),
                "housing_status": r.source_status,
            },
        )


RUNNERS: dict[str, Callable[[Session, str], Iterable[Found]]] = {
    "plate.not_installed": _not_installed,
    "plate.missing": _missing,
    "plate.wrong_side": _wrong_side,
    "plate.out_of_order": _out_of_order,
    "person.duplicate": _duplicate,
    "residence.departed_not_deregistered": _departed,
    "rental.tenant_unregistered": _tenant_unregistered,
    "rental.no_agreement": _no_agreement,
    "dwelling.vacant_recorded_occupied": _vacant_occupied,
}
