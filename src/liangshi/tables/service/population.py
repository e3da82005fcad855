"""Population by category × sex × age band per community (人口统计表).

The counts come from the register as valid on the table's day: open residences (category) joined with the
person's current sex and birth date, one GROUP BY per table; the rows are the communities and villages under the
area, then a total. The same day and area give the same workbook (rows by area code, no timestamps in cells).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import Session

from liangshi.persons.models import PersonVersion
from liangshi.registry import Context
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.residence.rules import CATEGORIES
from liangshi.tables import rules
from liangshi.tables.service.frame import assemble, frame, workbook


def age_band_sql(birth: Any, on: dt.date) -> Any:
    """`rules.age_band(birth, on)` as SQL (the bands as birth-date bounds, `rules.band_cutoffs`)."""
    return case(
        (birth.is_(None), literal("unknown")),
        (birth > on, literal("unknown")),
        *((birth > bound, literal(key)) for key, bound in rules.band_cutoffs(on)),
        else_=literal(rules.oldest_band()),
    )


def sex_key_sql(sex: Any) -> Any:
    """`rules.sex_key` as SQL."""
    return case((sex.in_(("1", "2")), sex), else_=literal("other"))


def population(session: Session, ctx: Context, *, area_code: str, on: dt.date) -> dict[str, Any]:
    """人口统计表: for each community under the area, persons by residence category × sex × age band on `on`.

    One GROUP BY by area, category, sex key and age band, all in SQL (a few rows per community, not one per
    birth date)."""
    fr = frame(session, ctx, area_code)
    community_of = fr.community_of
    band = age_band_sql(PersonVersion.birth_date, on).label("band")
    sex = sex_key_sql(PersonVersion.sex).label("sex")
    stmt = (
        select(Residence.area_id, ResidenceVersion.category, sex, band, func.count())
        .join(ResidenceVersion, ResidenceVersion.entity_id == Residence.id)
        .join(PersonVersion, PersonVersion.entity_id == Residence.person_id)
        .where(
            Residence.area_id.in_(list(community_of)),
            ResidenceVersion.superseded_at.is_(None),
            ResidenceVersion.valid_from <= on,
            or_(ResidenceVersion.valid_to.is_(None), ResidenceVersion.valid_to > on),
            PersonVersion.superseded_at.is_(None),
            PersonVersion.valid_from <= on,
            or_(PersonVersion.valid_to.is_(None), PersonVersion.valid_to > on),
        )
        .group_by(Residence.area_id, ResidenceVersion.category, sex, band)
    )
    counts: dict[int, dict[tuple[str, str, str], int]] = defaultdict(lambda: defaultdict(int))
    for area_id, category, sex_of, band_of, n in session.execute(stmt):
        community = community_of.get(int(area_id))
        if community is not None:
            counts[community][(str(category), str(sex_of), str(band_of))] += int(n)
    columns = [
        (cat, sex, band)
        for cat in CATEGORIES
        for sex, _zh, _en in rules.SEXES
        for band, *_r in rules.AGE_BANDS
    ]
    cat_names, sex_names = CATEGORIES, {s: (zh, en) for s, zh, en in rules.SEXES}
    band_names = {b: (zh, b) for b, zh, *_r in rules.AGE_BANDS}
    return assemble(
        session,
        fr,
        name="population",
        title=("人口统计表", "Population"),
        on=on,
        columns=[{"category": c, "sex": s, "age_band": b} for c, s, b in columns],
        labels=[[cat_names[c], sex_names[s], band_names[b]] for c, s, b in columns],
        values={cid: [counts[cid].get(col, 0) for col in columns] for cid in counts},
    )


def population_workbook(table: dict[str, Any], lang: str = "zh") -> bytes:
    """The population table as xlsx: three header rows (category, sex, age band) merged over their columns, a
    total column per row and a total row (合计)."""
    return workbook(table, lang)
