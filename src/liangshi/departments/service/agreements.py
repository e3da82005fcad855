"""Departments and their sharing agreements, and a liaison's read cut to the agreement in force."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.access.rules import Actor
from liangshi.addresses.models import ADDRESS, STREET
from liangshi.areas.models import AREA
from liangshi.audit import service as audit
from liangshi.buildings.models import BUILDING, DWELLING
from liangshi.departments import rules
from liangshi.departments.models import Agreement, Department
from liangshi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from liangshi.permits.models import PERMIT
from liangshi.persons.models import DOCUMENT, HOUSEHOLD, MEMBERSHIP, PERSON
from liangshi.registry import LIAISON_ROLE, Context, Kind, ReadCut, ReadCutPolicy
from liangshi.rentals.models import RENTAL
from liangshi.residence.models import RESIDENCE

# ---- kinds -----------------------------------------------------------------------------------------------------


def kinds() -> dict[str, Kind]:
    """The registry kinds an agreement may name."""
    found = (PERSON, DOCUMENT, HOUSEHOLD, MEMBERSHIP, RESIDENCE, DWELLING, BUILDING, ADDRESS, RENTAL, PERMIT)
    return {k.name: k for k in found}


def known_fields() -> dict[str, tuple[str, ...]]:
    """Per kind, the fields an agreement may name (versioned attributes, and events such as a death date)."""
    found = {name: k.attributes + rules.EVENT_FIELDS.get(name, ()) for name, k in kinds().items()}
    # Areas and streets are only sent (civil affairs' names and codes, kinds `areas` and `streets`), not read.
    return found | {k.name: k.attributes for k in (AREA, STREET)}


# ---- departments and agreements --------------------------------------------------------------------------------


def _unknown(code: str) -> NotFound:
    return NotFound(
        "department.unknown", f"未登记的部门：{code}", f"Unknown department: {code}", {"department": code}
    )


def get_department(session: Session, code: str) -> Department:
    """A registered department by code, or 404 `department.unknown`."""
    dept = session.execute(select(Department).where(Department.code == code)).scalar_one_or_none()
    if dept is None:
        raise _unknown(code)
    return dept


def add_department(
    session: Session, ctx: Context, *, code: str, name_zh: str | None, name_en: str | None
) -> Department:
    """Register a partner department (names default to the known ones for standard codes)."""
    ctx.actor.ensure("department.manage")
    rules.check_code(code)
    known = rules.DEPARTMENT_NAMES.get(code)
    zh, en = name_zh or (known[0] if known else None), name_en or (known[1] if known else None)
    if not zh or not en:
        raise ValidationFailed(
            "department.name_required",
            "须给出部门的中英文名称",
            "Chinese and English names are required",
            {"field": "name_zh"},
        )
    if session.execute(select(Department.id).where(Department.code == code)).first() is not None:
        raise Conflict(
            "department.exists", "该部门已登记", "The department is already registered", {"field": "code"}
        )
    dept = Department(code=code, name_zh=zh, name_en=en, created_at=ctx.now, created_by=ctx.actor.user_id)
    session.add(dept)
    session.flush()
    registry.log(ctx, session, [audit.Event("department.add", "department", dept.id, None, {"code": code})])
    return dept


def add_agreement(session: Session, ctx: Context, spec: rules.AgreementSpec) -> Agreement:
    """Register an agreement for a department (a later agreement in force takes over from an earlier one)."""
    ctx.actor.ensure("department.manage")
    dept = get_department(session, spec.department)
    row = Agreement(
        department_id=dept.id,
        reference=spec.reference,
        purpose=spec.purpose,
        valid_from=spec.valid_from,
        valid_to=spec.valid_to,
        aggregates_only=spec.aggregates_only,
        all_or_nothing=spec.all_or_nothing,
        provides=json.dumps(spec.provides, ensure_ascii=False, sort_keys=True),
        reads=json.dumps(spec.reads, ensure_ascii=False, sort_keys=True),
        created_at=ctx.now,
        created_by=ctx.actor.user_id,
    )
    session.add(row)
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "department.agreement",
                "department_agreement",
                row.id,
                None,
                {
                    "department": dept.code,
                    "purpose": spec.purpose,
                    "valid_from": spec.valid_from.isoformat(),
                    "valid_to": spec.valid_to.isoformat() if spec.valid_to else None,
                    "provides": spec.provides,
                    "reads": spec.reads,
                    "aggregates_only": spec.aggregates_only,
                    "all_or_nothing": spec.all_or_nothing,
                },
            )
        ],
    )
    return row


def agreement_view(a: Agreement, today: dt.date) -> dict[str, Any]:
    """An agreement as shown to administrators."""
    return {
        "id": a.id,
        "reference": a.reference,
        "purpose": a.purpose,
        "valid_from": a.valid_from.isoformat(),
        "valid_to": a.valid_to.isoformat() if a.valid_to else None,
        "aggregates_only": a.aggregates_only,
        "all_or_nothing": a.all_or_nothing,
        "provides": json.loads(a.provides),
        "reads": json.loads(a.reads),
        "in_force": rules.in_force(a.valid_from, a.valid_to, a.revoked_at is not None, today),
    }


def list_departments(session: Session, ctx: Context) -> list[dict[str, Any]]:
    """Every department with its agreements (administrators)."""
    ctx.actor.ensure("department.manage")
    depts = session.execute(select(Department).order_by(Department.code)).scalars().all()
    agreements: dict[int, list[Agreement]] = {}
    for a in session.execute(select(Agreement).order_by(Agreement.id)).scalars():
        agreements.setdefault(a.department_id, []).append(a)
    return [
        {
            "code": d.code,
            "name_zh": d.name_zh,
            "name_en": d.name_en,
            "agreements": [agreement_view(a, ctx.today) for a in agreements.get(d.id, [])],
        }
        for d in depts
    ]


def agreement_in_force(session: Session, dept: Department, today: dt.date) -> Agreement:
    """The department's agreement in force today (the latest registered), else 403 with why."""
    rows = (
        session.execute(
            select(Agreement).where(Agreement.department_id == dept.id).order_by(Agreement.id.desc())
        )
        .scalars()
        .all()
    )
    for a in rows:
        if rules.in_force(a.valid_from, a.valid_to, a.revoked_at is not None, today):
            return a
    if rows:
        raise Forbidden(
            "department.agreement_expired",
            "该部门的共享协议已过期或尚未生效",
            "The department's agreement has expired or is not yet in force",
            {"department": dept.code},
        )
    raise _no_agreement(dept.code)


def _no_agreement(code: str) -> Forbidden:
    return Forbidden(
        "department.no_agreement",
        "该部门没有共享协议",
        "The department has no sharing agreement",
        {"department": code},
    )


def _liaison_agreement(
    session: Session, ctx: Context, code: str | None = None
) -> tuple[Department, Agreement]:
    """The department a liaison acts for and its agreement in force; a liaison acts only for their own."""
    actor = ctx.actor
    own = actor.department
    if not actor.may("department.manage"):
        actor.ensure("department.exchange")  # the role first: other roles get the usual 403
    if code is None:
        if not own:
            raise Forbidden(
                "department.user_without_department",
                "该用户未关联任何部门",
                "The user belongs to no department",
                {"user": actor.username},
            )
        # A liaison of a department that is not registered has no agreement, whatever it wants to read.
        registered = session.execute(select(Department).where(Department.code == own)).scalar_one_or_none()
        if registered is None:
            raise _no_agreement(own)
        code = own
    dept = get_department(session, code or "")
    if not (actor.may("department.manage") or own == code):
        raise Forbidden(
            "department.not_yours",
            "只能代表本部门交换数据",
            "You may exchange data only for your own department",
            {"department": code},
        )
    return dept, agreement_in_force(session, dept, ctx.today)


def _with_purpose(ctx: Context, dept: Department, agreement: Agreement) -> Context:
    # The audit entry of a department's read names the agreement and its purpose (purpose limitation, PIPL).
    purpose = f"{dept.code} 协议#{agreement.id}: {agreement.purpose}"[: audit_purpose_max()]
    return dataclasses.replace(ctx, purpose=purpose)


def audit_purpose_max() -> int:
    """The audit log's purpose length."""
    return 200


def read_cut(session: Session, ctx: Context, kind: str) -> tuple[ReadCut, Context]:
    """A liaison's read of a kind: the agreement's readable fields and a context carrying its purpose; 403
    without an agreement in force, for an aggregates-only agreement, or when the kind is not readable."""
    dept, agreement = _liaison_agreement(session, ctx)
    if agreement.aggregates_only:
        raise Forbidden(
            "department.aggregates_only",
            "该部门的协议只提供统计汇总，不提供个案记录",
            "The department's agreement gives aggregates only, not records",
            {"department": dept.code},
        )
    reads = {k: frozenset(v) for k, v in json.loads(agreement.reads).items()}
    if not reads.get(kind):
        raise Forbidden(
            "department.kind_not_readable",
            "共享协议不允许读取该类对象",
            "The agreement does not let the department read this kind of object",
            {"department": dept.code, "kind": kind},
        )
    return ReadCut(reads), _with_purpose(ctx, dept, agreement)


def read_policy(actor: Actor) -> ReadCutPolicy | None:
    """The read-cut policy an entry point puts on the context it builds: `read_cut` for a department liaison
    (the registry refuses a liaison's read without it), none for everyone else."""
    return read_cut if actor.role == LIAISON_ROLE else None
