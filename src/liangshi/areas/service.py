"""Area use cases: load the gazetteer, create, rename, look up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.areas.models import AREA as AREA
from liangshi.areas.models import Area, AreaCode, AreaEpoch, AreaVersion
from liangshi.areas.rules import check_child, county_of
from liangshi.areas.schemas import AreaCreate
from liangshi.audit import service as audit
from liangshi.errors import Conflict, NotFound, ValidationFailed
from liangshi.registry import Context, Provenance, Snapshot


def by_id(session: Session, area_id: int) -> Area | None:
    """The area with this id."""
    return session.get(Area, area_id)


def by_code(session: Session, code: str) -> Area | None:
    """The area with this current code."""
    return session.execute(select(Area).where(Area.code == code)).scalar_one_or_none()


def _insert(
    session: Session,
    ctx: Context,
    *,
    code: str,
    name: str,
    level: str,
    parent: Area | None,
    valid_from: dt.date,
    prov: Provenance,
) -> Snapshot:
    area = Area(
        code=code, level=level, parent_id=parent.id if parent else None, path="/", county_code=county_of(code)
    )
    snap = registry.create(session, ctx, AREA, area, {"name": name}, valid_from=valid_from, prov=prov)
    area.path = f"{parent.path if parent else '/'}{area.id}/"
    scheme = "gb2260" if len(code) == 6 else "stats"
    session.add(AreaCode(area_id=area.id, code=code, scheme=scheme, valid_from=valid_from, valid_to=None))
    session.flush()
    return snap


def create_area(session: Session, ctx: Context, data: AreaCreate) -> Snapshot:
    """Create an area under a parent in the actor's jurisdiction."""
    ctx.actor.ensure("area.write")
    parent = by_code(session, data.parent_code)
    if parent is None or not ctx.actor.covers_path(parent.path):
        raise NotFound("area.not_found", "未找到该区划", "Area not found", {"field": "parent_code"})
    check_child(parent.code, parent.level, data.code, data.level)
    if by_code(session, data.code) is not None:
        raise Conflict("area.code_taken", "区划代码已存在", "The area code exists already", {"field": "code"})
    return _insert(
        session,
        ctx,
        code=data.code,
        name=data.name,
        level=data.level,
        parent=parent,
        valid_from=data.valid_from or ctx.today,
        prov=data.provenance.to_domain(ctx.actor.username),
    )


def load_gazetteer(session: Session, ctx: Context, rows: Iterable[dict[str, str | None]]) -> int:
    """Load areas (code, name, level, parent) in order, skipping codes already present; returns how many."""
    added = 0
    prov = Provenance("system", "gazetteer", "document", "GB/T 2260")
    for row in rows:
        code, name, level = str(row["code"]), str(row["name"]), str(row["level"])
        if by_code(session, code) is not None:
            continue
        parent = by_code(session, str(row["parent"])) if row.get("parent") else None
        _insert(
            session,
            ctx,
            code=code,
            name=name,
            level=level,
            parent=parent,
            valid_from=dt.date(2010, 1, 1),
            prov=prov,
        )
        added += 1
    return added


def names_of(session: Session, area_ids: Iterable[int], on: dt.date) -> dict[int, str]:
    """Current names of areas (as valid on a date)."""
    ids = set(area_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(AreaVersion.entity_id, AreaVersion.name).where(
            AreaVersion.entity_id.in_(ids),
            AreaVersion.superseded_at.is_(None),
            AreaVersion.valid_from <= on,
            (AreaVersion.valid_to.is_(None)) | (AreaVersion.valid_to > on),
        )
    )
    return {int(i): str(n) for i, n in rows}


def lineage(session: Session, area: Area, on: dt.date) -> list[tuple[Area, str]]:
    """The area and its ancestors from the top, with names."""
    ids = [int(x) for x in area.path.strip("/").split("/") if x]
    areas, names = _named_areas(session, ids, on)
    return [(areas[i], names.get(i, "")) for i in ids if i in areas]


def _named_areas(session: Session, ids: Iterable[int], on: dt.date) -> tuple[dict[int, Area], dict[int, str]]:
    """The areas of `ids` and their names valid on `on`, in one statement (an address's description reads
    this on every 查人知住)."""
    v = AreaVersion
    rows = session.execute(
        select(Area, v.name)
        .outerjoin(
            v,
            and_(
                v.entity_id == Area.id,
                v.superseded_at.is_(None),
                v.valid_from <= on,
                (v.valid_to.is_(None)) | (v.valid_to > on),
            ),
        )
        .where(Area.id.in_(list(ids)))
    ).all()
    return {a.id: a for a, _ in rows}, {a.id: name for a, name in rows if name is not None}


def lineages(session: Session, area_ids: Iterable[int], on: dt.date) -> dict[int, list[tuple[Area, str]]]:
    """`lineage` of many areas at once (a list of addresses across many communities): two statements."""
    wanted = set(area_ids)
    if not wanted:
        return {}
    paths = {
        int(i): [int(x) for x in path.strip("/").split("/") if x]
        for i, path in session.execute(select(Area.id, Area.path).where(Area.id.in_(wanted)))
    }
    areas, names = _named_areas(session, {i for ids in paths.values() for i in ids}, on)
    return {
        area_id: [(areas[i], names.get(i, "")) for i in ids if i in areas] for area_id, ids in paths.items()
    }


@dataclass(frozen=True, slots=True)
class Line:
    """An area of a lineage as a process keeps it between requests (plain values, no session-bound row)."""

    id: int
    code: str
    level: str
    name: str
    path: str


# The process's areas as named on a date, under the `area_epoch` token they were read under: (token, {(area id,
# date): Line}). Replaced whole when the token changes (any write to the area tables, migration 0055).
_held: tuple[tuple[str, str] | None, dict[tuple[int, dt.date], Line]] = (None, {})
_HELD_LIMIT = 200_000  # areas × dates: a province's communities over a few days; then start again


@cache
def _paths_stmt() -> Any:
    # Built once (issue 19): the token read in the same statement as the areas' paths, so under the same snapshot
    # (a lineage read later can only be newer than its token, never older).
    token = select(AreaEpoch.token).where(AreaEpoch.id == 1).scalar_subquery()
    return select(token, Area.id, Area.path).where(Area.id.in_(bindparam("ids", expanding=True)))


@cache
def _lines_stmt() -> Any:
    v, on = AreaVersion, bindparam("on", type_=AreaVersion.valid_from.type)
    return (
        select(Area.id, Area.code, Area.level, v.name, Area.path)
        .outerjoin(
            v,
            and_(
                v.entity_id == Area.id,
                v.superseded_at.is_(None),
                v.valid_from <= on,
                or_(v.valid_to.is_(None), v.valid_to > on),
            ),
        )
        .where(Area.id.in_(bindparam("ids", expanding=True)))
    )


def cached_lineages(session: Session, area_ids: Iterable[int], on: dt.date) -> dict[int, tuple[Line, ...]]:
    """Each area's lineage from the top (itself last) with the names valid on `on`, as `lineages` gives it, from
    the process's cache while the areas' epoch token is unchanged: one statement when every area of the lineages
    is held, two otherwise. The areas not found are left out."""
    global _held
    wanted = set(area_ids)
    if not wanted:
        return {}
    rows = session.execute(_paths_stmt(), {"ids": list(wanted)}).all()
    if not rows:
        return {}
    token = rows[0][0]
    paths = {int(i): [int(x) for x in path.strip("/").split("/") if x] for _, i, path in rows}
    key = None if token is None else (str(session.get_bind().engine.url), str(token))
    held_key, held = _held
    if key is None or held_key != key:
        # Another database, or its areas changed since: start again (without a token, cache nothing).
        held = {}
        if key is not None:
            _held = (key, held)
    missing = {i for ids in paths.values() for i in ids if (i, on) not in held}
    if missing:
        if len(held) + len(missing) > _HELD_LIMIT:
            held.clear()
        for i, code, level, name, path in session.execute(_lines_stmt(), {"ids": list(missing), "on": on}):
            held[(int(i), on)] = Line(
                int(i), str(code), str(level), "" if name is None else str(name), str(path)
            )
    return {area_id: tuple(held[(i, on)] for i in ids if (i, on) in held) for area_id, ids in paths.items()}


def cached_lineage(session: Session, area_id: int, on: dt.date) -> tuple[Line, ...]:
    """One area's lineage from the top (itself last) with the names valid on `on`: `lineage`'s answer, from the
    process's cache (`cached_lineages`); empty when there is no such area."""
    return cached_lineages(session, [area_id], on).get(area_id, ())


def children_of(session: Session, area_id: int, on: dt.date) -> list[tuple[Area, str]]:
    """The areas right below one area, by code, with their names."""
    rows = list(session.execute(select(Area).where(Area.parent_id == area_id).order_by(Area.code)).scalars())
    names = names_of(session, [a.id for a in rows], on)
    return [(a, names.get(a.id, a.code)) for a in rows]


def codes_of(session: Session, ctx: Context, area_id: int) -> list[dict[str, object]]:
    """An area's codes through time (GB/T 2260 county codes, statistical codes), the current one last: a
    division re-coded in a reform keeps its former code for the years it held it."""
    ctx.actor.ensure("area.read")
    area = registry.get_entity(session, AREA, area_id, ctx.actor)
    rows = session.execute(
        select(AreaCode).where(AreaCode.area_id == area.id).order_by(AreaCode.valid_from, AreaCode.id)
    ).scalars()
    return [
        {
            "code": c.code,
            "scheme": c.scheme,
            "valid_from": c.valid_from,
            "valid_to": c.valid_to,
            "current": c.code == area.code and c.valid_to is None,
        }
        for c in rows
    ]


def recode_area(
    session: Session, ctx: Context, area_id: int, new_code: str, valid_from: dt.date
) -> list[Area]:
    """Give an area below county level a new code from a date (a township reform, a community renumbered); its
    descendants' codes follow the new prefix. Each keeps its former code in `area_codes` with the years it held
    it, so `codes_of` still reads it. A county-level code (GB/T 2260) is not changed here. Returns the areas
    re-coded, the area first."""
    ctx.actor.ensure("area.write")
    area = session.execute(
        select(Area).where(Area.id == area_id, Area.path.startswith(ctx.actor.area_path))
    ).scalar_one_or_none()
    if area is None:
        raise NotFound("area.not_found", "未找到该区划", "Area not found", {"field": "code"})
    old = area.code
    if len(old) <= 6 or len(new_code) != len(old) or county_of(new_code) != area.county_code:
        raise ValidationFailed(
            "area.recode_invalid",
            "只能变更县级以下区划的代码，且新代码须与原代码同长、同属一县",
            "Only an area below county level may be re-coded, to a code of the same length in the same county",
            {"field": "code", "code": old, "new_code": new_code},
        )
    parent = session.get(Area, area.parent_id) if area.parent_id else None
    if parent is not None:
        check_child(parent.code, parent.level, new_code, area.level)
    if by_code(session, new_code) is not None:
        raise Conflict("area.code_taken", "区划代码已存在", "The area code exists already", {"field": "code"})
    family = list(
        session.execute(select(Area).where(Area.path.startswith(area.path)).order_by(Area.path)).scalars()
    )
    for a in family:
        former = a.code
        a.code = new_code + former[len(old) :] if former.startswith(old) else former
        if a.code == former:
            continue
        for held in session.execute(
            select(AreaCode).where(
                AreaCode.area_id == a.id, AreaCode.code == former, AreaCode.valid_to.is_(None)
            )
        ).scalars():
            held.valid_to = valid_from
        session.add(AreaCode(area_id=a.id, code=a.code, scheme="stats", valid_from=valid_from, valid_to=None))
    session.flush()
    registry.log(
        ctx,
        session,
        [audit.Event("area.recode", "area", area.id, None, {"code": old, "new_code": new_code})],
    )
    return family
