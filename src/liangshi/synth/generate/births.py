"""Births from health (issue 15, stop 29): the health department's file of newborns (出生医学证明), written when
asked for (``DefectRates.births``), with its truth (``truth/births.csv``: what the births feed,
`departments.service.feed_births`, is to make of each row).

A newborn of the last 60 days, not yet in the police files, of a woman aged 20 to 44 holding a resident ID who
heads a household (02) or is the head's spouse (1x); drawn from each community's generator of its own
(``Random(f"{seed}:{code}:births")``) after its other rows, so everything else is written as without it. The
feed finds the mother by her ID number and proposes the birth in her household (a change set for the station's
review): ``outcome`` is ``proposed``; or, as the feed must report the row, ``department.birth_mother_unknown``
(the mother is a tenant the police files leave out) or ``department.birth_mother_no_household`` (her household's
rows are not in the police households file: it left and was deregistered, or she is the member left out of it).
No check reads the births: the truth scores the feed's outcome per row (scripts/bench_truth.py).
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import liangshi.synth.rules as R
from liangshi.synth.generate.columns import Out, Table, date_cell
from liangshi.synth.generate.community import Community, Household, Person
from liangshi.synth.generate.more import MorePlan, tenant_left

__all__ = ["BIRTHS_HEADER", "BIRTHS_TRUTH", "open_births", "write_births"]

STEM = "health_births"
# The births feed's headers (feed_births.BIRTH_COLUMNS), the optional newborn ID and relationship left out.
BIRTHS_HEADER = ("新生儿姓名", "性别", "出生日期", "母亲证件号码", "出生地点", "出生医学证明编号")
BIRTHS_TRUTH = ("mother_id_number", "name", "sex", "birth_date", "outcome")
_HOSPITALS = ("鄂州市中心医院", "鄂州市妇幼保健院", "鄂州市第三医院", "华容区人民医院", "梁子湖区人民医院")


def open_births(out: Out, out_dir: Path, xlsx: bool) -> None:
    """Open the births file and its truth among the run's tables (closed with them)."""
    out.files[STEM] = Table(out_dir / f"{STEM}.csv", BIRTHS_HEADER, xlsx)
    out.truth["births"] = Table(out_dir / "truth" / "births.csv", BIRTHS_TRUTH, False)
    out.bases["births"] = 0


def _outcome(h: Household, m: Person, more: MorePlan | None) -> str:
    """What the feed is to make of a birth to this mother, from what the police files hold of her."""
    if h.unregistered:
        return "department.birth_mother_unknown"
    gone = (h.departed and not h.not_deregistered) or tenant_left(more, h) is not None
    left_out = more is not None and more.left_out.get(id(h)) is m
    return "department.birth_mother_no_household" if gone or left_out else "proposed"


def write_births(c: Community, more: MorePlan | None) -> None:
    """Append the community's newborns to the births file, and their truth, if asked for."""
    rate = c.city.rates.births
    if rate <= 0:
        return
    out = c.city.out
    rng = random.Random(f"{c.city.seed}:{c.code}:births")
    for h in c.households:
        for m in h.members:
            if (
                m.sex != "2"
                or m.doc_type != "resident_id"
                or not (m.relationship == "02" or m.relationship.startswith("1"))  # the head, or a spouse
                or not 20 <= R.age_on(m.birth, c.today) <= 44
            ):
                continue
            out.bases["births"] += 1
            if rng.random() >= rate:
                continue
            born = c.today - dt.timedelta(days=rng.randint(1, 60))
            sex = rng.choice(("1", "2"))
            name = R.person_name(rng, sex)
            certificate = f"Q{c.code[:6]}{rng.randrange(10**8):08d}"
            out.files[STEM].write(
                [name, sex, date_cell(born), m.id_number, rng.choice(_HOSPITALS), certificate]
            )
            out.truth["births"].write([m.id_number, name, sex, date_cell(born), _outcome(h, m, more)])
