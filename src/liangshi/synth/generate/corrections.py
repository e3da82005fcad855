"""Community-correction cases from justice (issue 15, stop 30): the judicial offices' file of the persons under
community correction (社区矫正: 管制, 缓刑, 假释, 暂予监外执行), written when asked for (``DefectRates.corrections``),
with its truth: ``truth/corrections.csv`` (what the corrections feed, `departments.service.feed_corrections`, is to
make of each row) and ``truth/correction_person_departed.csv`` (the check `correction.person_departed`).

Drawn from each community's generator of its own (``Random(f"{seed}:{code}:corrections")``) after its other rows,
so everything else is written as without it. Every adult of 18 to 65 holding a resident ID may be under correction:
a person living there at the rate asked for (four men to one woman, about as the offices' rolls have it); a person
the police files hold as departed and deregistered (the household left, or a tenant left the rental) at
``CORRECTION_DEPARTED_RATE``: justice still supervises them in the community they left, which the register knows
they left (`correction.person_departed`); a tenant the police files do not hold at ``CORRECTION_UNKNOWN_RATE``: the
feed must report the row (``department.correction_person_unknown``), keep the others and make no person of it.
Each case is current as of the city's day: begun in the last three years, ending after the day (a
暂予监外执行 case may have no end date).
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import liangshi.synth.rules as R
from liangshi.common.codes import ezhou_areas
from liangshi.synth.generate.columns import Out, Table, date_cell
from liangshi.synth.generate.community import Community, Household
from liangshi.synth.generate.more import MorePlan, tenant_left

__all__ = [
    "CORRECTIONS_HEADER",
    "CORRECTIONS_TRUTH",
    "DEPARTED_TRUTH",
    "open_corrections",
    "write_corrections",
]

STEM = "justice_corrections"
# The corrections feed's headers (feed_corrections.CORRECTION_COLUMNS), in its order.
CORRECTIONS_HEADER = (
    "证件类型",
    "证件号码",
    "姓名",
    "矫正类别",
    "矫正开始日期",
    "矫正结束日期",
    "负责司法所",
    "管辖社区",
)
CORRECTIONS_TRUTH = ("id_number", "case_kind", "start_date", "outcome")
DEPARTED_TRUTH = ("doc_type", "id_number", "community_code", "case_kind", "start_date")
# Of persons the police files hold as departed (deregistered), and of tenants they do not hold: the labelled rows.
CORRECTION_DEPARTED_RATE = 0.01
CORRECTION_UNKNOWN_RATE = 0.03
# The kinds of correction and their shares (probation most of all): code, share.
_KIND_CODES = ("2", "3", "4", "1")
_KIND_SHARES = (80, 9, 7, 4)
_MALE_WEIGHT = 1.6  # the rate for a man; a woman's is 0.4 of it (four to one, the mean the rate asked for)
_FEMALE_WEIGHT = 0.4
_ACCEPTED = "accepted"
_UNKNOWN = "department.correction_person_unknown"


def open_corrections(out: Out, out_dir: Path, xlsx: bool) -> None:
    """Open the corrections file and its truth files among the run's tables (closed with them)."""
    out.files[STEM] = Table(out_dir / f"{STEM}.csv", CORRECTIONS_HEADER, xlsx)
    out.truth["corrections"] = Table(out_dir / "truth" / "corrections.csv", CORRECTIONS_TRUTH, False)
    out.truth["correction_person_departed"] = Table(
        out_dir / "truth" / "correction_person_departed.csv", DEPARTED_TRUTH, False
    )
    out.bases["corrections"] = 0
    out.bases["correction_person_departed"] = 0


_OFFICES: dict[str, str] = {}


def office(township_code: str) -> str:
    """The judicial office (司法所) of a township: its name without 街道, 镇 or 乡."""
    if not _OFFICES:
        for a in ezhou_areas():
            if a["level"] in ("subdistrict", "town", "township"):
                name = str(a["name"])
                for suffix in ("街道", "镇", "乡"):
                    name = name.removesuffix(suffix)
                _OFFICES[str(a["code"])] = f"{name}司法所"
    return _OFFICES.get(township_code, "司法所")


def _gone(h: Household, more: MorePlan | None) -> bool:
    """Whether the police files hold the household as departed and deregistered (or the tenant as left)."""
    return (h.departed and not h.not_deregistered) or tenant_left(more, h) is not None


def write_corrections(c: Community, more: MorePlan | None) -> None:
    """Append the community's correction cases to the justice file, and their truth, if asked for."""
    rate = c.city.rates.corrections
    if rate <= 0:
        return
    out = c.city.out
    rng = random.Random(f"{c.city.seed}:{c.code}:corrections")
    today = c.today
    for h in c.households:
        gone = _gone(h, more)
        for m in h.members:
            if m.doc_type != "resident_id" or not 18 <= R.age_on(m.birth, today) <= 65:
                continue
            weight = _MALE_WEIGHT if m.sex == "1" else _FEMALE_WEIGHT
            if h.unregistered:
                chance, outcome = CORRECTION_UNKNOWN_RATE * weight, _UNKNOWN
            elif gone:
                out.bases["correction_person_departed"] += 1
                chance, outcome = CORRECTION_DEPARTED_RATE * weight, _ACCEPTED
            else:
                out.bases["corrections"] += 1
                chance, outcome = rate * weight, _ACCEPTED
            if rng.random() >= chance:
                continue
            kind = rng.choices(_KIND_CODES, _KIND_SHARES)[0]
            start = today - dt.timedelta(days=rng.randint(1, 3 * 365))
            end = max(
                start + dt.timedelta(days=rng.randint(180, 5 * 365)),
                today + dt.timedelta(days=rng.randint(1, 90)),
            )
            end_cell = "" if kind == "4" and rng.random() < 0.5 else date_cell(end)
            out.files[STEM].write(
                [
                    "居民身份证",
                    m.id_number,
                    m.name,
                    kind,
                    date_cell(start),
                    end_cell,
                    office(c.plan.township),
                    c.code,
                ]
            )
            out.truth["corrections"].write([m.id_number, kind, date_cell(start), outcome])
            if gone and not h.unregistered:
                out.truth["correction_person_departed"].write(
                    [m.doc_type, m.id_number, c.code, kind, date_cell(start)]
                )
