"""The other standard tables, one per community row: floating population by province of origin × sex, and by
province of origin × reason for stay (暂住事由), housing by use × status, rentals with their rates, venue stays by
type, and campaign progress.

Each counts the register as valid on the table's day in one grouped query (campaign progress: the completeness
counts per community), then hands the per-community values to `frame.assemble`. Rates are recomputed on the
total row from the summed counts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from liangshi.areas.models import Area
from liangshi.buildings.models import Building, Dwelling, DwellingVersion
from liangshi.campaign import progress
from liangshi.clock import CHINA_TZ
from liangshi.common import codes
from liangshi.common.idnumber import region_name
from liangshi.persons.models import PersonVersion
from liangshi.registry import Context
from liangshi.rentals import service as rentals
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.tables import rules
from liangshi.tables.service.frame import Frame, Label, assemble, frame, ratio
from liangshi.venues.models import Stay, Venue
from liangshi.venues.rules import VENUE_KINDS


def _valid_on(version: Any, on: dt.date) -> Any:
    return and_(
        version.superseded_at.is_(None),
        version.valid_from <= on,
        or_(version.valid_to.is_(None), version.valid_to > on),
    )


def floating(session: Session, ctx: Context, *, area_code: str, on: dt.date) -> dict[str, Any]:
    """流动人口统计表: persons whose open residence on `on` is floating, by province of origin (the hukou division
    code's province) × sex, per community."""
    fr = frame(session, ctx, area_code)
    counts, order = _floating_counts(session, fr, on, PersonVersion.sex, lambda sex: rules.sex_key(str(sex)))
    columns = [(p, s) for p in order for s, _zh, _en in rules.SEXES]
    sex_names = {s: (zh, en) for s, zh, en in rules.SEXES}

    return assemble(
        session,
        fr,
        name="floating",
        title=("流动人口统计表", "Floating population"),
        on=on,
        columns=[{"province": p or None, "sex": s} for p, s in columns],
        labels=[[_province_label(p), sex_names[s]] for p, s in columns],
        values={cid: [c.get(col, 0) for col in columns] for cid, c in counts.items()},
    )


def _floating_counts(
    session: Session, fr: Frame, on: dt.date, column: Any, key: Callable[[Any], str]
) -> tuple[dict[int, dict[tuple[str, str], int]], list[str]]:
    """The persons whose open residence on `on` is floating, per community and (province of origin, `key` of
    `column`), and the provinces in order (known ones sorted, the unknown last)."""
    stmt = (
        select(Residence.area_id, PersonVersion.hukou_region, column, func.count())
        .join(ResidenceVersion, ResidenceVersion.entity_id == Residence.id)
        .join(PersonVersion, PersonVersion.entity_id == Residence.person_id)
        .where(
            Residence.area_id.in_(list(fr.community_of)),
            ResidenceVersion.category == "floating",
            _valid_on(ResidenceVersion, on),
            _valid_on(PersonVersion, on),
        )
        .group_by(Residence.area_id, PersonVersion.hukou_region, column)
    )
    counts: dict[int, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    provinces: set[str] = set()
    for area_id, region, value, n in session.execute(stmt):
        province = rules.province_of(region)
        provinces.add(province)
        counts[fr.community_of[int(area_id)]][(province, key(value))] += int(n)
    order = sorted(p for p in provinces if p) + ([""] if "" in provinces else [])
    return counts, order


def _province_label(code: str) -> tuple[str, str]:
    if not code:
        return rules.UNKNOWN_PROVINCE
    name = region_name(code + "0000") or code
    return (name, f"{name} ({code})")


def floating_by_reason(session: Session, ctx: Context, *, area_code: str, on: dt.date) -> dict[str, Any]:
    """流动人口暂住事由统计表: persons whose open residence on `on` is floating, by province of origin × reason for
    stay (code table `stay_reason`; a residence without one counts as 事由不详), per community."""
    fr = frame(session, ctx, area_code)
    counts, order = _floating_counts(
        session, fr, on, ResidenceVersion.stay_reason, lambda reason: str(reason or "")
    )
    reasons = codes.table("stay_reason").entries
    reason_names = {code: (name, f"{name} ({code})") for code, name in reasons.items()}
    reason_names[""] = rules.UNKNOWN_REASON
    # The reasons that occur, in the code table's order (a table of every code × every province is mostly zeros).
    present = {r for c in counts.values() for _p, r in c}
    columns = [(p, r) for p in order for r in [*reasons, ""] if r in present]
    return assemble(
        session,
        fr,
        name="floating_reason",
        title=("流动人口暂住事由统计表", "Floating population by reason for stay"),
        on=on,
        columns=[{"province": p or None, "stay_reason": r or None} for p, r in columns],
        labels=[[_province_label(p), reason_names[r]] for p, r in columns],
        values={cid: [c.get(col, 0) for col in columns] for cid, c in counts.items()},
    )


def housing(session: Session, ctx: Context, *, area_code: str, on: dt.date) -> dict[str, Any]:
    """住房统计表: dwellings valid on `on` by use × status, per community (where their building stands)."""
    fr = frame(session, ctx, area_code)
    dv = DwellingVersion
    stmt = (
        select(Building.area_id, dv.use, dv.status, func.count(Dwelling.id))
        .join(Building, Building.id == Dwelling.building_id)
        .join(dv, and_(dv.entity_id == Dwelling.id, _valid_on(dv, on)))
        .where(Building.area_id.in_(list(fr.community_of)))
        .group_by(Building.area_id, dv.use, dv.status)
    )
    counts: dict[int, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for area_id, use, status, n in session.execute(stmt):
        key = (use if use in rules.DWELLING_USE_NAMES else "other", status)
        if status not in rules.DWELLING_STATUS_NAMES:
            key = (key[0], "unknown")
        counts[fr.community_of[int(area_id)]][key] += int(n)
    columns = [(u, s) for u in rules.DWELLING_USE_NAMES for s in rules.DWELLING_STATUS_NAMES]
    return assemble(
        session,
        fr,
        name="housing",
        title=("住房统计表", "Housing by use and status"),
        on=on,
        columns=[{"use": u, "status": s} for u, s in columns],
        labels=[[rules.DWELLING_USE_NAMES[u], rules.DWELLING_STATUS_NAMES[s]] for u, s in columns],
        values={cid: [c.get(col, 0) for col in columns] for cid, c in counts.items()},
    )


def _with_rates(
    fr: Frame,
    per: dict[int, dict[str, int]],
    keys: list[str],
    rates: tuple[tuple[str, str, str, str, str], ...],
) -> tuple[dict[int, list[Any]], list[Any]]:
    """Each community's counts followed by its rates, and the total row with the rates from the summed counts."""

    def line(c: dict[str, int]) -> list[Any]:
        out: list[Any] = [c.get(k, 0) for k in keys]
        for _key, _zh, _en, part, whole in rates:
            out.append(ratio(c.get(part, 0), sum(c.get(w, 0) for w in whole.split("+"))))
        return out

    summed: dict[str, int] = defaultdict(int)
    for c in per.values():
        for k in keys:
            summed[k] += c.get(k, 0)
    return {cid: line(per.get(cid, {})) for cid, _code, _path in fr.communities}, line(summed)


def rental_table(session: Session, ctx: Context, *, area_code: str, on: dt.date) -> dict[str, Any]:
    """出租房屋统计表: registered, unregistered, entered and signed rentals per community on `on`, with the
    registration, entry and agreement rates (as rentals/service.py counts them)."""
    fr = frame(session, ctx, area_code)
    per: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for area_id, counts in rentals.rental_counts_by_area(session, list(fr.community_of), on).items():
        community = fr.community_of.get(area_id)
        if community is not None:
            for k, n in counts.items():
                per[community][k] += n
    keys = [k for k, _zh, _en in rules.RENTAL_COUNTS]
    values, totals = _with_rates(fr, per, keys, rules.RENTAL_RATES)
    labels: list[list[Label]] = [[("数量", "Count"), (zh, en)] for _k, zh, en in rules.RENTAL_COUNTS]
    labels += [[("比率", "Rate"), (zh, en)] for _k, zh, en, *_r in rules.RENTAL_RATES]
    return assemble(
        session,
        fr,
        name="rentals",
        title=("出租房屋统计表", "Rentals"),
        on=on,
        columns=keys + [k for k, *_r in rules.RENTAL_RATES],
        labels=labels,
        values=values,
        totals=totals,
        total_column=False,
    )


def venue_stays(session: Session, ctx: Context, *, area_code: str, on: dt.date) -> dict[str, Any]:
    """场所住宿统计表: stays checked in during the calendar month of `on` (up to and including it, China time), by
    venue type: stays, distinct guests (per community), foreign guests, late reports and unverified guests."""
    fr = frame(session, ctx, area_code)
    start = dt.datetime.combine(on.replace(day=1), dt.time(), CHINA_TZ)
    end = dt.datetime.combine(on + dt.timedelta(days=1), dt.time(), CHINA_TZ)
    stmt = (
        select(
            Stay.area_id,
            Venue.venue_kind,
            func.count(Stay.id),
            func.count(func.distinct(Stay.doc_number_idx)),  # distinct guests: by the number's index
            func.count(Stay.id).filter(Stay.foreign.is_(True)),
            func.count(Stay.id).filter(Stay.late_report.is_(True)),
            func.count(Stay.id).filter(Stay.unknown_person.is_(True)),
        )
        .join(Venue, Venue.id == Stay.venue_id)
        .where(Stay.area_id.in_(list(fr.community_of)), Stay.check_in_at >= start, Stay.check_in_at < end)
        .group_by(Stay.area_id, Venue.venue_kind)
    )
    counts: dict[int, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    measures = [m for m, _zh, _en in rules.STAY_MEASURES]
    for area_id, kind, *figures in session.execute(stmt):
        for measure, n in zip(measures, figures, strict=True):
            counts[fr.community_of[int(area_id)]][(str(kind), measure)] += int(n)
    columns = [(k, m) for k in VENUE_KINDS for m in measures]
    names = {m: (zh, en) for m, zh, en in rules.STAY_MEASURES}
    kinds = {k: (zh, en.capitalize()) for k, (zh, en) in VENUE_KINDS.items()}
    return assemble(
        session,
        fr,
        name="venues",
        title=("场所住宿统计表", "Venue stays"),
        on=on,
        columns=[{"venue_kind": k, "measure": m, "from": start.date().isoformat()} for k, m in columns],
        labels=[[kinds[k], names[m]] for k, m in columns],
        values={cid: [c.get(col, 0) for col in columns] for cid, c in counts.items()},
        total_column=False,
    )


def campaign_progress(session: Session, ctx: Context, *, area_code: str, on: dt.date) -> dict[str, Any]:
    """采集进度统计表: the completeness counts per community (buildings visited, dwellings with a status,
    household counts matched) on `on`, with the three rates."""
    fr = frame(session, ctx, area_code)
    per: dict[int, dict[str, int]] = {}
    for cid, _code, path in fr.communities:
        subtree = select(Area.id).where(Area.path.startswith(path))
        per[cid] = progress.counts(session, select(Building.id).where(Building.area_id.in_(subtree)), on)
    keys = [k for k, *_r in rules.PROGRESS_COLUMNS]
    values, totals = _with_rates(fr, per, keys, rules.PROGRESS_RATES)
    labels: list[list[Label]] = [[group, name] for _k, group, name in rules.PROGRESS_COLUMNS]
    labels += [[("比率", "Rate"), (zh, en)] for _k, zh, en, *_r in rules.PROGRESS_RATES]
    return assemble(
        session,
        fr,
        name="progress",
        title=("采集进度统计表", "Campaign progress"),
        on=on,
        columns=keys + [k for k, *_r in rules.PROGRESS_RATES],
        labels=labels,
        values=values,
        totals=totals,
        total_column=False,
    )
