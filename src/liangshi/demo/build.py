"""Demo logins: one persona per role, in the synthetic city's first community and the areas above it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi.access import service as access
from liangshi.access.models import User
from liangshi.access.service import SYSTEM
from liangshi.clock import Clock
from liangshi.departments import rules as dept_rules
from liangshi.departments import service as departments
from liangshi.departments.models import Department
from liangshi.registry import Context

DEMO_PASSWORD = "Demo-2026-liangshi"
# username, display name, role, jurisdiction (area code), department
PERSONAS = (
    ("collector_zhang", "张采集", "collector", "420704001001", None),
    ("police_liu", "刘警官", "community_police", "420704001001", None),
    ("station_admin_li", "李所长", "station_admin", "420704001", None),
    ("district_admin_chen", "陈区管", "district_admin", "420704", None),
    ("city_admin_wang", "王市管", "city_admin", "420700", None),
    ("health_liaison_wang", "王卫健", "department_liaison", "420700", "health"),
    # Justice's liaison: the one department liaison who reads community-correction cases (correction.read).
    ("justice_liaison_wu", "吴司法", "department_liaison", "420700", "justice"),
    ("inspector_zhao", "赵检查", "inspector", "420704", None),
    ("auditor_sun", "孙审计", "auditor", "420700", None),
    ("housing_officer_he", "何房管", "housing_officer", "420704", None),
)


def ensure_personas(session: Session, clock: Clock) -> list[dict[str, str]]:
    """The demo users, one per role (created once)."""
    logins = []
    for username, display, role, area_code, dept in PERSONAS:
        if session.execute(select(User.id).where(User.username == username)).first() is None:
            access.create_user(
                session,
                username=username,
                display_name=display,
                password=DEMO_PASSWORD,
                role=role,
                area_code=area_code,
                department=dept,
                actor=SYSTEM,
                now=clock.now(),
            )
        logins.append({"role": role, "username": username, "password": DEMO_PASSWORD, "area": area_code})
    return logins


# The demo's partner departments and what their agreements let them provide and read.
DEMO_AGREEMENTS: tuple[dict[str, Any], ...] = (
    {
        "department": "health",
        "purpose": "出生、死亡医学证明与人口登记核对",
        "reads": {"person": ["name", "sex", "birth_date"], "document": ["doc_type", "number"]},
        "provides": {"person": ["name", "sex", "birth_date", "phone", "occupation", "death_date"]},
    },
    {
        "department": "civil_affairs",
        "purpose": "婚姻登记与社会救助对象核对",
        "reads": {"person": ["name", "sex", "birth_date", "marital_status"]},
        "provides": {"person": ["marital_status"]},
    },
    {
        "department": "justice",
        "purpose": "社区矫正对象与人口登记核对",
        "reads": {"person": ["name", "sex", "birth_date"]},
        "provides": {"person": ["correction"]},
    },
    {
        "department": "statistics",
        "purpose": "人口统计汇总（仅汇总数据）",
        "aggregates_only": True,
        "reads": {"person": ["sex", "birth_date"], "residence": ["category"]},
        "provides": {},
    },
)


def ensure_departments(session: Session, clock: Clock) -> list[str]:
    """The demo's partner departments with their sharing agreements (registered once)."""
    ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="demo")
    today = clock.today()
    codes = []
    for spec in DEMO_AGREEMENTS:
        code = spec["department"]
        codes.append(code)
        if session.execute(select(Department.id).where(Department.code == code)).first() is not None:
            continue
        departments.add_department(session, ctx, code=code, name_zh=None, name_en=None)
        document = {
            "aggregates_only": False,
            **spec,
            "valid_from": dt.date(today.year, 1, 1).isoformat(),
            "valid_to": dt.date(today.year + 2, 1, 1).isoformat(),
        }
        departments.add_agreement(
            session, ctx, dept_rules.parse_agreement(document, departments.known_fields())
        )
    return codes
