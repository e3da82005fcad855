"""The completeness counts kept per building (issue 13: the progress dashboard at 1M persons in ≤ 300 ms).

An incremental refresh, not triggers in every domain: the dashboard's numbers depend on building, dwelling,
household and membership versions (written by the registry for many domains), on visits and on declared household
sizes (written here). Rather than hook every one of those writes, `refresh` finds what changed since its last run by
position: on PostgreSQL the version rows (`xact_id`, indexed with the row id) of the transactions its last run's
snapshot did not see, those at or after the snapshot's xmax and those then in progress (so one long transaction
anywhere on the server makes the refresh look at that transaction's rows only, not at everything written since it
began), on SQLite the rows after the last row id (its writers are serialised); the campaign's own writes (a visit, a
declared size) leave the building in `campaign_count_dirty`. Only the buildings those rows touch are recounted, with
the same rules as the direct count (`progress.counts`), and the dashboard sums the kept rows. A new day recounts
everything (valid time: a version may end on a date). The counts are derived data: dropping the table rebuilds it on
the next read.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal, or_, select, text, union
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from liangshi.areas.models import Area
from liangshi.buildings.models import Building, BuildingVersion, Dwelling, DwellingVersion
from liangshi.campaign.models import BuildingCount, CountDirty, CountMark, HouseholdCount, Visit
from liangshi.clock import CHINA_TZ
from liangshi.db import session_scope
from liangshi.persons.models import Household, HouseholdVersion, Membership, MembershipVersion
from liangshi.registry import history

CHUNK = 5000
FIELDS = (
    "current",
    "visited",
    "partly",
    "dwellings",
    "dwellings_with_status",
    "households",
    "households_matched",
)
# The snapshot's xmax, the transactions it sees as in progress, and this transaction's own id if it has one (its
# own rows are visible to it, but it may write more after the refresh, before it commits).
_SNAPSHOT = text(
    "SELECT pg_snapshot_xmax(s)::text::bigint,"
    " ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(s) AS x),"
    " pg_current_xact_id_if_assigned()::text::bigint"
    " FROM pg_current_snapshot() AS s"
)
_VERSIONS = (
    ("building_row", BuildingVersion),
    ("dwelling_row", DwellingVersion),
    ("household_row", HouseholdVersion),
    ("membership_row", MembershipVersion),
)


def mark_dirty(session: Session, building_ids: Iterable[int]) -> None:
    """Note buildings whose counts a campaign write changed (recounted at the next refresh)."""
    rows = [{"building_id": int(b)} for b in sorted(set(building_ids))]
    if rows:
        session.execute(insert(CountDirty), rows)


def _parts(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


def per_building(
    session: Session, building_ids: list[int] | None, today: dt.date
) -> dict[int, dict[str, Any]]:
    """The counts of each building (all buildings when None), as `progress.counts` counts a set of them."""
    result: dict[int, dict[str, Any]] = {}
    for part in [None] if building_ids is None else _parts(sorted(set(building_ids))):
        _count_part(session, part, today, result)
    return result


def _count_part(
    session: Session, ids: list[int] | None, today: dt.date, out: dict[int, dict[str, Any]]
) -> None:
    bv, dv, hv, mv = BuildingVersion, DwellingVersion, HouseholdVersion, MembershipVersion

    def row(building_id: int, area_id: int) -> dict[str, Any]:
        return out.setdefault(
            building_id, {"building_id": building_id, "area_id": area_id, **dict.fromkeys(FIELDS, 0)}
        )

    buildings = select(Building.id, Building.area_id)
    if ids is not None:
        buildings = buildings.where(Building.id.in_(ids))
    for b, area in session.execute(buildings):
        row(int(b), int(area))
    current_b = and_(bv.entity_id == Building.id, bv.superseded_at.is_(None), history.valid_on(bv, today))
    stmt = select(Building.id, Building.area_id, bv.visit_status).join(bv, current_b)
    if ids is not None:
        stmt = stmt.where(Building.id.in_(ids))
    for b, area, status in session.execute(stmt):
        r = row(int(b), int(area))
        r["current"] += 1
        r["visited"] += int(status == "visited")
        r["partly"] += int(status == "partly_visited")
    visited = select(Visit.dwelling_id).where(Visit.dwelling_id == Dwelling.id).exists()
    current_d = and_(dv.entity_id == Dwelling.id, dv.superseded_at.is_(None), history.valid_on(dv, today))
    per_dwelling = (
        select(
            Dwelling.building_id,
            func.count(Dwelling.id),
            func.count(Dwelling.id).filter((dv.status == "demolished") | visited),
        )
        .join(dv, current_d)
        .group_by(Dwelling.building_id)
    )
    if ids is not None:
        per_dwelling = per_dwelling.where(Dwelling.building_id.in_(ids))
    for b, total, with_status in session.execute(per_dwelling):
        if int(b) in out:
            out[int(b)]["dwellings"] = int(total)
            out[int(b)]["dwellings_with_status"] = int(with_status)
    # A household counts where its current version places it; its size matches when the members recorded equal
    # the size it declared (as progress.counts).
    households = (
        select(Household.id.label("id"), Dwelling.building_id.label("building_id"))
        .join(hv, and_(hv.entity_id == Household.id, hv.superseded_at.is_(None), history.valid_on(hv, today)))
        .join(Dwelling, Dwelling.id == hv.dwelling_id)
    )
    if ids is not None:
        households = households.where(Dwelling.building_id.in_(ids))
    h = households.subquery()
    for b, n in session.execute(select(h.c.building_id, func.count()).group_by(h.c.building_id)):
        if int(b) in out:
            out[int(b)]["households"] = int(n)
    current_m = and_(mv.entity_id == Membership.id, mv.superseded_at.is_(None), history.valid_on(mv, today))
    recorded = (
        select(h.c.building_id, HouseholdCount.members, func.count(mv.row_id).label("n"))
        .join(h, h.c.id == HouseholdCount.household_id)
        .outerjoin(Membership, Membership.household_id == HouseholdCount.household_id)
        .outerjoin(mv, current_m)
        .group_by(HouseholdCount.household_id, HouseholdCount.members, h.c.building_id)
        .subquery()
    )
    for b, n in session.execute(
        select(recorded.c.building_id, func.count())
        .where(recorded.c.members == recorded.c.n)
        .group_by(recorded.c.building_id)
    ):
        if int(b) in out:
            out[int(b)]["households_matched"] = int(n)


def _positions(session: Session) -> dict[str, Any]:
    """Where the version tables are now: on PostgreSQL a snapshot (every transaction below its xmax and not in
    progress has ended, and what it wrote is visible to every later statement), on SQLite each table's last row
    id."""
    postgres = session.get_bind().dialect.name == "postgresql"
    out: dict[str, Any] = {"horizon": None, "in_progress": None}
    if postgres:
        xmax, running, own = session.execute(_SNAPSHOT).one()
        out["horizon"] = int(xmax)
        out["in_progress"] = ",".join(str(x) for x in sorted({*running, *([own] if own is not None else [])}))
    for name, v in _VERSIONS:
        out[name] = (
            0 if postgres else int(session.execute(select(func.coalesce(func.max(v.row_id), 0))).scalar_one())
        )
    return out


def in_progress(mark: CountMark) -> list[int]:
    """The transactions the mark's snapshot saw as in progress (none in a mark written before the list was kept:
    its horizon was the oldest of them)."""
    return [int(x) for x in (mark.in_progress or "").split(",") if x]


def _new_rows(session: Session, mark: CountMark, v: Any, position: int) -> Any:
    """The version rows written since the mark, as a select of their entity ids."""
    if mark.horizon is not None:
        running = in_progress(mark)
        unseen = v.xact_id >= mark.horizon
        return select(v.entity_id).where(or_(unseen, v.xact_id.in_(running)) if running else unseen)
    return select(v.entity_id).where(v.row_id > position)


def _dirty_buildings(session: Session, mark: CountMark) -> tuple[set[int], list[int]]:
    """The buildings whose counts may have moved since the mark, and the dirty-queue rows read."""
    dirty: set[int] = set()
    queued = session.execute(select(CountDirty.id, CountDirty.building_id)).all()
    dirty.update(int(b) for _, b in queued)
    dirty.update(
        int(b) for (b,) in session.execute(_new_rows(session, mark, BuildingVersion, mark.building_row))
    )
    changed_d = _new_rows(session, mark, DwellingVersion, mark.dwelling_row)
    dirty.update(
        int(b) for (b,) in session.execute(select(Dwelling.building_id).where(Dwelling.id.in_(changed_d)))
    )
    households = {
        int(h) for (h,) in session.execute(_new_rows(session, mark, HouseholdVersion, mark.household_row))
    }
    changed_m = _new_rows(session, mark, MembershipVersion, mark.membership_row)
    households.update(
        int(h)
        for (h,) in session.execute(select(Membership.household_id).where(Membership.id.in_(changed_m)))
    )
    for part in _parts(sorted(households)):
        # Every dwelling a household's rows name (a move leaves its old dwelling's building changed too).
        dirty.update(
            int(b)
            for (b,) in session.execute(
                select(Dwelling.building_id)
                .join(HouseholdVersion, HouseholdVersion.dwelling_id == Dwelling.id)
                .where(HouseholdVersion.entity_id.in_(part))
                .distinct()
            )
        )
    return dirty, [int(i) for i, _ in queued]


def _store(session: Session, counted: dict[int, dict[str, Any]], ids: list[int] | None) -> None:
    if ids is None:
        session.execute(delete(BuildingCount))
    else:
        for part in _parts(ids):
            session.execute(delete(BuildingCount).where(BuildingCount.building_id.in_(part)))
    rows = list(counted.values())
    for i in range(0, len(rows), CHUNK):
        session.execute(insert(BuildingCount), rows[i : i + CHUNK])


def _insert_mark(session: Session, today: dt.date, now: dt.datetime) -> None:
    """Insert the mark row unless it exists: `INSERT … ON CONFLICT DO NOTHING`, so two very first refreshes at
    the same moment never collide on its key (PostgreSQL makes the second wait for the first's commit, then
    skip; it then reads the committed row under its lock)."""
    values = {
        "id": 1,
        "day": today - dt.timedelta(days=1),
        "horizon": None,
        "in_progress": None,
        "refreshed_at": now,
        **_zero(),
    }
    table = CountMark
    if session.get_bind().dialect.name == "postgresql":
        stmt: Any = pg_insert(table).values(values).on_conflict_do_nothing(index_elements=["id"])
    else:
        stmt = sqlite_insert(table).values(values).on_conflict_do_nothing(index_elements=["id"])
    session.execute(stmt)


def refresh(session: Session, *, today: dt.date, now: dt.datetime, full: bool = False) -> int:
    """Bring the kept counts up to date (in the caller's transaction); how many buildings were recounted.
    `full` recounts every building even when the day's recount is done (`liangshi campaign recount`).

    Refreshes are serialised by a lock on the mark row (PostgreSQL), so two dashboards never recount at once."""
    mark = session.execute(select(CountMark).where(CountMark.id == 1).with_for_update()).scalar_one_or_none()
    if mark is None:
        # The first refresh ever: the mark (dated yesterday, so that everything is counted below), then its lock.
        _insert_mark(session, today, now)
        mark = session.execute(
            select(CountMark)
            .where(CountMark.id == 1)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
    positions = _positions(session)
    if full or mark.day != today:
        counted = per_building(session, None, today)
        _store(session, counted, None)
        session.execute(delete(CountDirty))
        recounted = len(counted)
    else:
        dirty, queued = _dirty_buildings(session, mark)
        ids = sorted(dirty)
        if ids:
            _store(session, per_building(session, ids, today), ids)
        for part in _parts(queued):
            session.execute(delete(CountDirty).where(CountDirty.id.in_(part)))
        recounted = len(ids)
    if recounted or mark.day != today or any(getattr(mark, k) != v for k, v in positions.items()):
        mark.day, mark.refreshed_at = today, now
        for name, value in positions.items():
            setattr(mark, name, value)
        session.flush()
    return recounted


def seconds_to_recount(now: dt.datetime, after_midnight: int) -> float:
    """Seconds from `now` to the next daily recount: `after_midnight` seconds past midnight, China time."""
    local = now.astimezone(CHINA_TZ)
    at = dt.datetime.combine(local.date(), dt.time(), tzinfo=CHINA_TZ) + dt.timedelta(seconds=after_midnight)
    if at <= local:
        at = dt.datetime.combine(
            local.date() + dt.timedelta(days=1), dt.time(), tzinfo=CHINA_TZ
        ) + dt.timedelta(seconds=after_midnight)
    return (at - local).total_seconds()


def recount_now(sessions: Any, clock: Any) -> int:
    """The day's recount in its own transaction (the nightly job and `liangshi campaign recount`): every
    building, so the first reader of the day only refreshes incrementally."""
    with session_scope(sessions) as session:
        return refresh(session, today=clock.today(), now=clock.now(), full=True)


def start_nightly_recount(
    sessions: Any, clock: Any, *, after_midnight: int, stop: threading.Event | None = None
) -> threading.Thread:
    """Run `recount_now` every day `after_midnight` seconds past midnight China time (`liangshi serve`, one
    process) until `stop` is set; a failed run is logged, and the first reader of the day then recounts."""
    log = logging.getLogger("liangshi.campaign")
    stopped = stop or threading.Event()

    def loop() -> None:
        while not stopped.wait(seconds_to_recount(clock.now(), after_midnight)):
            began = time.monotonic()
            try:
                n = recount_now(sessions, clock)
                log.info("campaign counts recounted in %.1f s: %d buildings", time.monotonic() - began, n)
            except Exception:  # a failed run must not stop the server; the next reader or night recounts
                log.exception("nightly campaign recount failed")

    thread = threading.Thread(target=loop, name="campaign-recount", daemon=True)
    thread.start()
    return thread


def _zero() -> dict[str, int]:
    return {name: 0 for name, _ in _VERSIONS}


def by_area(session: Session, where: Any) -> list[tuple[str, dict[str, int]]]:
    """The kept counts summed per area (its path), over the areas `where` selects (a condition on Area): one
    grouped pass that a report splits among the child areas."""
    c = BuildingCount
    rows = session.execute(
        select(Area.path, *[func.sum(getattr(c, f)) for f in FIELDS])
        .join(Area, Area.id == c.area_id)
        .where(where)
        .group_by(Area.path)
    ).all()
    return [
        (str(path), _named(dict(zip(FIELDS, (int(x or 0) for x in values), strict=True))))
        for path, *values in rows
    ]


def summed(parts: Iterable[dict[str, int]]) -> dict[str, int]:
    """Counts added up."""
    out = dict.fromkeys(NAMES, 0)
    for part in parts:
        for k in NAMES:
            out[k] += part[k]
    return out


NAMES = (
    "buildings",
    "buildings_visited",
    "buildings_partly",
    "dwellings",
    "dwellings_with_status",
    "households",
    "households_count_matched",
)


def _named(got: dict[str, int]) -> dict[str, int]:
    return {
        "buildings": got["current"],
        "buildings_visited": got["visited"],
        "buildings_partly": got["partly"],
        "dwellings": got["dwellings"],
        "dwellings_with_status": got["dwellings_with_status"],
        "households": got["households"],
        "households_count_matched": got["households_matched"],
    }


def totals(session: Session, where: Any) -> dict[str, int]:
    """The kept counts summed over the buildings `where` selects (a condition on BuildingCount)."""
    c = BuildingCount
    row = session.execute(
        select(*[func.coalesce(func.sum(getattr(c, f)), 0) for f in FIELDS]).where(where)
    ).one()
    return _named(dict(zip(FIELDS, (int(x) for x in row), strict=True)))


def totals_by_key(session: Session, sets: list[tuple[int, Any]]) -> dict[int, dict[str, int]]:
    """The kept counts summed over several sets of buildings at once (each a key and a select of building ids, a
    key may come with several selects: their union), in one grouped query; a key whose buildings have no kept row
    gets zeros."""
    out = {key: dict.fromkeys(NAMES, 0) for key, _ in sets}
    if not sets:
        return out
    pairs: list[Any] = []
    for key, ids in sets:
        sub = ids.subquery()
        pairs.append(select(literal(key).label("k"), sub.c[0].label("b")))
    # UNION, not UNION ALL: a building in two of a key's selects (two assignments) counts once, as in `totals`.
    keyed = union(*pairs).subquery() if len(pairs) > 1 else pairs[0].distinct().subquery()
    c = BuildingCount
    rows = session.execute(
        select(keyed.c.k, *[func.sum(getattr(c, f)) for f in FIELDS])
        .join(c, c.building_id == keyed.c.b)
        .group_by(keyed.c.k)
    ).all()
    for key, *values in rows:
        out[int(key)] = _named(dict(zip(FIELDS, (int(x or 0) for x in values), strict=True)))
    return out
