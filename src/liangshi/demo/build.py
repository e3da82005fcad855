"""Demo logins: one persona per role, in the synthetic city's first community and the areas above it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi.access import service as access
from liangshi.access.models import User
from liangshi.access.service import SYSTEM
from liangshi.clock import Clock

DEMO_PASSWORD = "Demo-2026-liangshi"
# username, display name, role, jurisdiction (area code), department
PERSONAS = (
    ("collector_zhang", "张采集", "collector", "420704001001", None),
    ("police_liu", "刘警官", "community_police", "420704001001", None),
    ("station_admin_li", "李所长", "station_admin", "420704001", None),
    ("district_admin_chen", "陈区管", "district_admin", "420704", None),
    ("city_admin_wang", "王市管", "city_admin", "420700", None),
    ("health_liaison_wang", "王卫健", "department_liaison", "420700", "health"),
    ("inspector_zhao", "赵检查", "inspector", "420704", None),
    ("auditor_sun", "孙审计", "auditor", "420700", None),
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
