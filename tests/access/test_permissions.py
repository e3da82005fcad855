"""The permission matrix: every role × every action × inside/outside its jurisdiction, through the HTTP API.

The expected matrix below is the specification, written out literally and independently of
`liangshi.access.rules`: a wrong entry in the role table shows up here as a failing case.

Expected statuses:
- the role lacks the permission → 403, inside and outside alike (the role check comes first);
- the role has it and the object lies inside the persona's jurisdiction → 200 / 201;
- the role has it and the object lies outside → 404 (never 403: nothing leaks about objects elsewhere).

Every case builds its own fresh target objects with the system context, because writes and retirements
consume them. Refused writes are checked to have changed nothing, through the service layer (the system
actor sees everything, also what lies outside every persona's jurisdiction).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.access.models import User
from liangshi.addresses import service as addresses
from liangshi.addresses.schemas import AddressCreate, StreetCreate
from liangshi.areas import service as areas
from liangshi.areas.schemas import AreaCreate
from liangshi.buildings import service as buildings
from liangshi.campaign import organisation
from liangshi.campaign import rules as campaign_rules
from liangshi.campaign.models import Assignment, Campaign
from liangshi.checks import service as checks
from liangshi.checks.models import Finding, SourceRecord
from liangshi.clock import fixed
from liangshi.config import Settings
from liangshi.departments import rules
from liangshi.departments import service as departments
from liangshi.departments.models import Agreement, Department, DepartmentBatch, ExchangeConflict, Feedback
from liangshi.http.app import create_app
from liangshi.inspections import service as inspections
from liangshi.inspections.models import InspectionPlan, InspectionResult, Rectification
from liangshi.inspections.schemas import PlanCreate, ResultCreate
from liangshi.mpi.models import PersonLinkEvent
from liangshi.persons import service as persons
from liangshi.persons.schemas import PersonCreate
from liangshi.registry import Context, Kind, history
from liangshi.rentals import service as rentals
from liangshi.rentals.models import Rental
from liangshi.rentals.schemas import RentalCreate
from liangshi.residence import service as residence
from liangshi.review import service as review
from tests import factories
from tests.access.matrix_proposals import CREATED as PROPOSAL_CREATED
from tests.access.matrix_proposals import DIRECT as PROPOSAL_DIRECT
from tests.access.matrix_proposals import PROPOSAL_ACTIONS, run_proposal
from tests.conftest import INSIDE, NOW, OUTSIDE, PERSONAS, World

# ---------------------------------------------------------------------------------------------------------
# The specification
# ---------------------------------------------------------------------------------------------------------

# The personas under test and their roles (all jurisdictions cover INSIDE, none covers OUTSIDE).
PERSONA_ROLES: dict[str, str] = {
    "collector_zhang": "collector",
    "police_liu": "community_police",
    "station_admin_li": "station_admin",
    "district_admin_chen": "district_admin",
    "city_admin_wang": "city_admin",
    "health_liaison_wang": "department_liaison",
    "inspector_zhao": "inspector",
    "auditor_sun": "auditor",
    "housing_officer_he": "housing_officer",
}

# What each role may do: role -> the permissions it holds (everything else is refused with 403).
ALLOWED: dict[str, frozenset[str]] = {
    "collector": frozenset(
        {
            "area.read",
            "street.read",
            "address.read",
            "building.read",
            "dwelling.read",
            "person.read",
            "household.read",
            "residence.read",
            "building.write",
            "dwelling.write",
            "person.write",
            "household.write",
            "residence.write",
            "kpi.read",
            "campaign.read",
            "assignment.return",
            "inspection.rectify",
            "check.read",
            "collect.sync",
        }
    ),
    "community_police": frozenset(
        {
            "area.read",
            "street.read",
            "address.read",
            "building.read",
            "dwelling.read",
            "person.read",
            "household.read",
            "residence.read",
            "address.write",
            "building.write",
            "dwelling.write",
            "person.write",
            "household.write",
            "residence.write",
            "address.retire",
            "building.retire",
            "dwelling.retire",
            "person.retire",
            "household.retire",
            "residence.retire",
            "person.unmask",
            "feedback.handle",
            "kpi.read",
            "campaign.read",
            "assignment.manage",
            "assignment.return",
            "inspection.rectify",
            "person.link",
            "department.claim",
            "check.read",
            "check.run",
            "check.dismiss",
            "collect.sync",
        }
    ),
    "station_admin": frozenset(
        {
            "area.read",
            "street.read",
            "address.read",
            "building.read",
            "dwelling.read",
            "person.read",
            "household.read",
            "residence.read",
            "address.write",
            "building.write",
            "dwelling.write",
            "person.write",
            "household.write",
            "residence.write",
            "address.retire",
            "building.retire",
            "dwelling.retire",
            "person.retire",
            "household.retire",
            "residence.retire",
            "person.unmask",
            "person.access_log",
            "user.manage",
            "conflict.decide",
            "feedback.handle",
            "kpi.read",
            "campaign.read",
            "campaign.manage",
            "assignment.manage",
            "assignment.return",
            "inspection.plan",
            "inspection.read",
            "inspection.record",
            "inspection.rectify",
            "person.link",
            "person.link_force",
            "changeset.review",
            "department.claim",
            "dispute.rule",
            "check.read",
            "check.run",
            "check.dismiss",
            "check.source",
            "collect.sync",
        }
    ),
    "district_admin": frozenset(
        {
            "area.read",
            "street.read",
            "address.read",
            "building.read",
            "dwelling.read",
            "person.read",
            "household.read",
            "residence.read",
            "street.write",
            "address.write",
            "building.write",
            "dwelling.write",
            "person.write",
            "household.write",
            "residence.write",
            "street.retire",
            "address.retire",
            "building.retire",
            "dwelling.retire",
            "person.retire",
            "household.retire",
            "residence.retire",
            "person.unmask",
            "person.access_log",
            "user.manage",
            "conflict.decide",
            "feedback.handle",
            "department.manage",
            "kpi.read",
            "campaign.read",
            "campaign.manage",
            "assignment.manage",
            "assignment.return",
            "inspection.plan",
            "inspection.read",
            "inspection.record",
            "inspection.rectify",
            "person.link",
            "person.link_force",
            "changeset.review",
            "department.claim",
            "dispute.rule",
            "changeset.review_district",
            "check.read",
            "check.run",
            "check.dismiss",
            "check.source",
            "collect.sync",
            "register.export",
        }
    ),
    "city_admin": frozenset(
        {
            "area.read",
            "street.read",
            "address.read",
            "building.read",
            "dwelling.read",
            "person.read",
            "household.read",
            "residence.read",
            "area.write",
            "street.write",
            "address.write",
            "building.write",
            "dwelling.write",
            "person.write",
            "household.write",
            "residence.write",
            "area.retire",
            "street.retire",
            "address.retire",
            "building.retire",
            "dwelling.retire",
            "person.retire",
            "household.retire",
            "residence.retire",
            "person.unmask",
            "person.access_log",
            "user.manage",
            "audit.verify",
            "conflict.decide",
            "feedback.handle",
            "department.manage",
            "exchange_log.verify",
            "kpi.read",
            "campaign.read",
            "campaign.manage",
            "assignment.manage",
            "assignment.return",
            "inspection.plan",
            "inspection.read",
            "inspection.record",
            "inspection.rectify",
            "person.link",
            "person.link_force",
            "changeset.review",
            "department.claim",
            "dispute.rule",
            "changeset.review_district",
            "check.read",
            "check.run",
            "check.dismiss",
            "check.source",
            "collect.sync",
            "register.export",
        }
    ),
    "department_liaison": frozenset(
        {
            "area.read",
            "street.read",
            "address.read",
            "building.read",
            "person.read",
            "department.exchange",
        }
    ),
    "inspector": frozenset(
        {
            "area.read",
            "street.read",
            "address.read",
            "building.read",
            "dwelling.read",
            "person.read",
            "household.read",
            "residence.read",
            "person.unmask",
            "kpi.read",
            "campaign.read",
            "inspection.plan",
            "inspection.read",
            "inspection.record",
            "check.read",
            "check.run",
        }
    ),
    "auditor": frozenset(
        {
            "area.read",
            "person.access_log",
            "audit.verify",
            "exchange_log.verify",
        }
    ),
    # 住建/房管: the housing (buildings, dwellings, rentals); reads who lives there, writes no person.
    "housing_officer": frozenset(
        {
            "area.read",
            "street.read",
            "address.read",
            "building.read",
            "dwelling.read",
            "person.read",
            "household.read",
            "residence.read",
            "rental.read",
            "building.write",
            "dwelling.write",
            "rental.write",
            "kpi.read",
            "check.read",
        }
    ),
}
# Rentals (出租房屋) of the other roles: filed by collectors at the door and by the police; read by inspectors.
RENTAL_ALLOWED: dict[str, frozenset[str]] = {
    "collector": frozenset({"rental.read", "rental.write"}),
    "community_police": frozenset({"rental.read", "rental.write"}),
    "station_admin": frozenset({"rental.read", "rental.write"}),
    "district_admin": frozenset({"rental.read", "rental.write"}),
    "city_admin": frozenset({"rental.read", "rental.write"}),
    "inspector": frozenset({"rental.read"}),
}
ALLOWED = {role: held | RENTAL_ALLOWED.get(role, frozenset()) for role, held in ALLOWED.items()}

KIND_NAMES = ("area", "street", "address", "building", "dwelling", "person", "household", "residence")

# Each action under test and the permission it needs.
ACTIONS: dict[str, str] = {
    **{f"{k}.read": f"{k}.read" for k in KIND_NAMES},  # GET /{kind}/{id}
    **{f"{k}.history": f"{k}.read" for k in KIND_NAMES},  # GET /{kind}/{id}/history
    **{f"{k}.create": f"{k}.write" for k in KIND_NAMES},  # POST /{kind}
    **{f"{k}.change": f"{k}.write" for k in KIND_NAMES},  # PATCH /{kind}/{id}
    **{f"{k}.correct": f"{k}.write" for k in KIND_NAMES},  # POST /{kind}/{id}/corrections
    **{f"{k}.flag": f"{k}.write" for k in KIND_NAMES},  # POST /{kind}/{id}/flags
    **{f"{k}.retire": f"{k}.retire" for k in KIND_NAMES},  # POST /{kind}/{id}/retire
    "area.read_ancestor": "area.read",  # GET /areas/{湖北省} (inside) or /areas/{武汉市} (outside)
    "residence.deregister": "residence.write",  # POST /residences/{id}/deregister
    "person.unmask": "person.unmask",  # POST /persons/{id}/unmask
    "person.access_log": "person.access_log",  # GET /persons/{id}/access-log
    "audit.verify": "audit.verify",  # GET /audit/verify (no jurisdiction)
    "user.manage": "user.manage",  # POST /users
    "department.manage": "department.manage",  # POST /departments (no jurisdiction)
    "department.exchange": "department.exchange",  # POST /feedback on a person (with an agreement)
    "conflict.decide": "conflict.decide",  # POST /conflicts/{id}/decide
    "feedback.handle": "feedback.handle",  # POST /feedback/{id}/pickup
    "exchange_log.verify": "exchange_log.verify",  # GET /departments/exchange-log/verify (no jurisdiction)
    "kpi.read": "kpi.read",  # GET /kpis?area={community code}
    # GET /kpis/plate_installation/objects?area={community code}&part=denominator (kpi.read and address.read)
    "kpi.objects": "kpi.read",
    "person.link": "person.link",  # POST /persons/{id}/merge (master person index)
    "person.link_force": "person.link_force",  # POST /persons/{id}/merge with force (different valid IDs)
    "campaign.manage": "campaign.manage",  # POST /campaigns over the community
    "campaign.read": "campaign.read",  # GET /progress?area={community code}
    "assignment.manage": "assignment.manage",  # POST /campaigns/{id}/assignments (the community to collector_zhang)
    "assignment.return": "assignment.return",  # POST /assignments/{id}/return (the persona's own assignment)
    "changeset.review": "changeset.review",  # POST /change-sets/{id}/approve (awaiting the station)
    "changeset.review_district": "changeset.review_district",  # POST /change-sets/{id}/approve-district
    "department.claim": "department.claim",  # POST /claims/{id}/decision (a department record: duplicate)
    "dispute.rule": "dispute.rule",  # POST /change-sets/{id}/ruling (a refused cross-unit change)
    "inspection.plan": "inspection.plan",  # POST /inspections/plans on the community
    "inspection.read": "inspection.read",  # GET /inspections/plans/{id}
    "inspection.record": "inspection.record",  # POST /inspections/plans/{id}/households/{household}/result
    "inspection.rectify": "inspection.rectify",  # POST /inspections/rectifications/{id}/fix
    "check.read": "check.read",  # GET /checks/findings?area={community code}
    "check.run": "check.run",  # POST /checks/runs {"area": community code}
    "check.dismiss": "check.dismiss",  # POST /checks/findings/{id}/dismiss
    "check.source": "check.source",  # POST /checks/sources (a housing file naming the community)
    "collect.sync": "collect.sync",  # GET /sync/work?area_id={community}, then POST /sync of a visit there
    "rental.read": "rental.read",  # GET /rentals/{id}
    "rental.create": "rental.write",  # POST /rentals (a dwelling with a landlord)
    "register.export": "register.export",  # POST /exports/parquet {"area": community code}
    "declaration.verify": "residence.write",  # POST /declarations/{id}/departure-verification (上门核录)
    # Issue 14: the direct move, birth, document and member routes and the proposals replacing them.
    **PROPOSAL_ACTIONS,
}
# A department file held for checking is not one object: a row naming a community outside the jurisdiction is
# reported as that row's problem (tests/checks), so the action has no outside case.
NO_JURISDICTION = {"audit.verify", "department.manage", "exchange_log.verify", "check.source"}

# A department liaison reads the register only under its department's agreement, cut to its fields
# (liangshi.departments); the matrix world registers none, so these reads are refused with
# `department.no_agreement` (403), inside and outside alike. Areas and streets (the gazetteer) are not cut.
AGREEMENT_REQUIRED: dict[str, frozenset[str]] = {
    "department_liaison": frozenset({"address.read", "building.read", "person.read"}),
}

# Collectors propose, they never write live facts about people through the generic API (issue 14): these actions
# are refused with 403 `changeset.required` (pointing to POST /sync) inside and outside alike, although the role
# holds `{kind}.write` (which the proposing use cases of the collection check). Flags are no registry facts.
PROPOSE_ONLY: dict[str, frozenset[str]] = {
    "collector": frozenset(
        {
            f"{k}.{verb}"
            for k in ("person", "household", "residence")
            for verb in ("create", "change", "correct")
        }
        | {"residence.deregister"}
        | PROPOSAL_DIRECT
    ),
}

# Cases that fail because of a bug in src/ (case id -> the bug); each runs as xfail(strict=True).
KNOWN_BUGS: dict[str, str] = {}


def expected_status(persona: str, action: str, where: str) -> int:
    """The status the specification demands."""
    role = PERSONA_ROLES[persona]
    if ACTIONS[action] not in ALLOWED[role] or ACTIONS[action] in AGREEMENT_REQUIRED.get(role, frozenset()):
        return 403
    if action in PROPOSE_ONLY.get(role, frozenset()):
        return 403
    if where == "outside":
        return 404
    verb = action.split(".")[1]
    created = (
        "user.manage",
        "department.manage",
        "department.exchange",
        "campaign.manage",
        "assignment.manage",
        "inspection.plan",
        "inspection.record",
        "check.run",
        "check.source",
        *PROPOSAL_CREATED,
    )
    return 201 if verb in ("create", "flag", "link", "link_force") or action in created else 200


def expected_code(persona: str, action: str) -> str:
    """The error code of a 403: the role's refusal, or the missing agreement of a department."""
    role = PERSONA_ROLES[persona]
    if ACTIONS[action] in ALLOWED[role] and ACTIONS[action] in AGREEMENT_REQUIRED.get(role, frozenset()):
        return "department.no_agreement"
    if ACTIONS[action] in ALLOWED[role] and action in PROPOSE_ONLY.get(role, frozenset()):
        return "changeset.required"
    return "access.forbidden"


# ---------------------------------------------------------------------------------------------------------
# Building targets (with the system context) and inspecting state (through the service layer)
# ---------------------------------------------------------------------------------------------------------

KINDS: dict[str, Kind] = {
    "area": areas.AREA,
    "street": addresses.STREET,
    "address": addresses.ADDRESS,
    "building": buildings.BUILDING,
    "dwelling": buildings.DWELLING,
    "person": persons.PERSON,
    "household": persons.HOUSEHOLD,
    "residence": residence.RESIDENCE,
}
ROUTES = {
    "area": "/areas",
    "street": "/streets",
    "address": "/addresses",
    "building": "/buildings",
    "dwelling": "/dwellings",
    "person": "/persons",
    "household": "/households",
    "residence": "/residences",
}
# Where objects are put: (community, district) per location.
LOCATIONS = {"inside": (INSIDE, "420704"), "outside": (OUTSIDE, "420102")}
ARRIVED = dt.date(2026, 11, 1)


@dataclass
class Loc:
    """Area ids (and the community code) of one location."""

    community: int
    district: int
    community_code: str


def _loc(world: World, where: str) -> Loc:
    community, district = LOCATIONS[where]
    return Loc(world.area(community), world.area(district), community)


def _grid(s: Session, ctx: Context, loc: Loc, suffix: str) -> int:
    snap = areas.create_area(
        s,
        ctx,
        AreaCreate(
            code=loc.community_code + suffix,
            name=f"第{suffix}网格",
            level="grid",
            parent_code=loc.community_code,
        ),
    )
    return int(snap.entity.id)


def _street(s: Session, ctx: Context, loc: Loc, name: str = "权限测试路") -> int:
    snap = addresses.create_street(s, ctx, StreetCreate(area_id=loc.district, name=name, street_type="路"))
    return int(snap.entity.id)


def _address(s: Session, ctx: Context, loc: Loc) -> int:
    street = _street(s, ctx, loc)
    snap = addresses.create_address(
        s, ctx, AddressCreate(area_id=loc.community, street_id=street, number="7", status="installed")
    )
    return int(snap.entity.id)


def _place(s: Session, ctx: Context, loc: Loc) -> factories.Place:
    return factories.place(s, ctx, area_id=loc.community, district_id=loc.district)


def _person(s: Session, ctx: Context, loc: Loc) -> int:
    return factories.person(s, ctx, area_id=loc.community)


def _household(s: Session, ctx: Context, loc: Loc) -> int:
    p = _place(s, ctx, loc)
    person_id = _person(s, ctx, loc)
    return factories.household(
        s, ctx, area_id=loc.community, dwelling_id=p.dwelling_id, members=[(person_id, "02")]
    )


def _residence(s: Session, ctx: Context, loc: Loc) -> int:
    p = _place(s, ctx, loc)
    person_id = _person(s, ctx, loc)
    return factories.arrival(s, ctx, person_id=person_id, dwelling_id=p.dwelling_id, arrived=ARRIVED)


# A fresh object of each kind at a location (an area target is a new grid under the community).
TARGETS: dict[str, Callable[[Session, Context, Loc], int]] = {
    "area": lambda s, ctx, loc: _grid(s, ctx, loc, "902"),
    "street": _street,
    "address": _address,
    "building": lambda s, ctx, loc: _place(s, ctx, loc).building_id,
    "dwelling": lambda s, ctx, loc: _place(s, ctx, loc).dwelling_id,
    "person": _person,
    "household": _household,
    "residence": _residence,
}

# PATCH and correction fields, and the attribute to flag, per kind.
CHANGES: dict[str, dict[str, Any]] = {
    "area": {"name": "改名网格"},
    "street": {"start_description": "起于寿山大道"},
    "address": {"lon": 114.89, "lat": 30.39},
    "building": {"floors_above": 7},
    "dwelling": {"floor_area_m2": 80.5},
    "person": {"occupation": "教师"},
    "household": {"household_number": "H-0001"},
    "residence": {"intended_stay_until": "2027-11-01"},
}
CORRECTIONS: dict[str, dict[str, Any]] = {
    "area": {"name": "更正网格"},
    "street": {"start_description": "起于滨湖南路"},
    "address": {"lon": 114.9, "lat": 30.4},
    "building": {"floors_above": 8},
    "dwelling": {"floor_area_m2": 81.0},
    "person": {"occupation": "医生"},
    "household": {"household_number": "H-0002"},
    "residence": {"category": "resident"},
}
FLAGGED = {
    "area": "name",
    "street": "name",
    "address": "status",
    "building": "label",
    "dwelling": "room",
    "person": "name",
    "household": "household_number",
    "residence": "category",
}


def _state(world: World, kind: str, object_id: int) -> tuple[Any, ...]:
    """Everything a write could change about an object: version, rows, open flags, latest row."""
    k = KINDS[kind]
    with world.session() as s:
        entity = s.get(k.entity, object_id)
        assert entity is not None
        rows = s.execute(
            select(func.count()).select_from(k.version).where(k.version.entity_id == object_id)
        ).scalar_one()
        latest = history.latest_row(s, k, object_id)
        flags = len(registry.open_flags(s, k, object_id))
        return (entity.version, rows, flags, latest.row_id, latest.valid_to, history.attributes_of(k, latest))


def _count(world: World, model: Any) -> int:
    with world.session() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


# ---------------------------------------------------------------------------------------------------------
# One case
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Case:
    """What a case needs: the world, the client, the persona's headers, where and what."""

    world: World
    client: TestClient
    headers: dict[str, str]
    persona: str
    where: str
    loc: Loc
    status: int  # the expected status
    code_403: str = "access.forbidden"  # the expected error code of a 403

    @property
    def ok(self) -> bool:
        return self.status < 300

    def build(self, make: Callable[[Session, Context, Loc], Any]) -> Any:
        with self.world.session() as s:
            return make(s, self.world.ctx(s), self.loc)

    def check(self, r: Response) -> None:
        assert r.status_code == self.status, r.text
        if self.status == 403:
            assert r.json()["error"]["code"] == self.code_403, r.text
        elif self.status == 404:
            assert r.json()["error"]["code"].endswith("not_found"), r.text


def _read(case: Case, kind: str, *, suffix: str = "") -> None:
    # An area is read as the community itself (outside: the Wuhan community); other kinds are built fresh.
    object_id = case.loc.community if kind == "area" else case.build(TARGETS[kind])
    r = case.client.get(f"{ROUTES[kind]}/{object_id}{suffix}", headers=case.headers)
    case.check(r)
    if case.ok:
        assert r.json()["id"] == object_id
        assert r.json()["kind"] == kind
        if suffix == "/history":
            assert len(r.json()["versions"]) >= 1


def _object_write(case: Case, kind: str, verb: str) -> None:
    object_id = case.build(TARGETS[kind])
    before = _state(case.world, kind, object_id)
    url = f"{ROUTES[kind]}/{object_id}"
    if verb == "change":
        r = case.client.patch(url, json={"expected_version": 1, **CHANGES[kind]}, headers=case.headers)
    elif verb == "correct":
        body = {"expected_version": 1, "reason": "录入错误", **CORRECTIONS[kind]}
        r = case.client.post(f"{url}/corrections", json=body, headers=case.headers)
    elif verb == "flag":
        body = {"expected_version": 1, "attribute": FLAGGED[kind], "reason": "核查中"}
        r = case.client.post(f"{url}/flags", json=body, headers=case.headers)
    elif verb == "retire":
        r = case.client.post(
            f"{url}/retire", json={"expected_version": 1, "reason": "已拆除"}, headers=case.headers
        )
    else:  # deregister
        body = {"expected_version": 1, "departure_date": "2026-11-20", "reason": "left_city"}
        r = case.client.post(f"{url}/deregister", json=body, headers=case.headers)
    case.check(r)
    after = _state(case.world, kind, object_id)
    if not case.ok:
        assert after == before, "a refused write changed the object"
        return
    version, _rows, flags, _row_id, valid_to, attrs = after
    if verb == "flag":
        assert flags == before[2] + 1
        assert r.json()["attribute"] == FLAGGED[kind]
        return
    assert version == before[0] + 1
    assert r.json()["version"] == version
    if verb in ("change", "correct"):
        expected = CHANGES[kind] if verb == "change" else CORRECTIONS[kind]
        for name, value in expected.items():
            assert str(attrs[name]) == str(value)
        assert valid_to is None
    else:
        assert r.json()["retired"] is True
        assert valid_to is not None
        if verb == "deregister":
            assert attrs["deregistration_reason"] == "left_city"
        # Whoever may retire may read: the object now shows as retired.
        got = case.client.get(url, headers=case.headers)
        assert got.status_code == 200, got.text
        assert got.json()["retired"] is True


def _create_body(case: Case, kind: str) -> dict[str, Any]:
    loc = case.loc
    if kind == "area":
        code = loc.community_code + "901"
        return {"code": code, "name": "新建网格", "level": "grid", "parent_code": loc.community_code}
    if kind == "street":
        return {"area_id": loc.district, "name": "新建大道", "street_type": "大道"}
    if kind == "address":
        street = case.build(_street)
        return {"area_id": loc.community, "street_id": street, "number": "88", "status": "installed"}
    if kind == "building":
        return {"address_id": case.build(_address), "label": "9栋"}
    if kind == "dwelling":
        building = case.build(_place).building_id
        return {"building_id": building, "unit": 1, "floor": 6, "room": "601"}
    if kind == "person":
        return {"area_id": loc.community, "name": "李娜", "sex": "2", "birth_date": "1990-05-01"}
    if kind == "household":
        return {"area_id": loc.community, "dwelling_id": case.build(_place).dwelling_id}
    p = case.build(_place)
    person_id = case.build(_person)
    return {
        "person_id": person_id,
        "dwelling_id": p.dwelling_id,
        "category": "floating",
        "arrival_date": ARRIVED.isoformat(),
    }


def _create(case: Case, kind: str) -> None:
    body = _create_body(case, kind)
    model = KINDS[kind].entity
    before = _count(case.world, model)
    r = case.client.post(ROUTES[kind], json=body, headers=case.headers)
    case.check(r)
    after = _count(case.world, model)
    if not case.ok:
        assert after == before, "a refused create added an object"
        return
    assert after == before + 1
    assert r.json()["kind"] == kind
    assert r.json()["version"] == 1
    with case.world.session() as s:
        entity = s.get(model, r.json()["id"])
        assert entity is not None
        if kind == "area":
            assert entity.code == body["code"]
        elif kind == "street":
            assert entity.area_id == case.loc.district
        else:
            assert entity.area_id == case.loc.community


def _read_ancestor(case: Case) -> None:
    code = "420000" if case.where == "inside" else "420100"  # 湖北省 above everyone; 武汉市 above nobody
    area_id = case.world.area(code)
    r = case.client.get(f"/areas/{area_id}", headers=case.headers)
    case.check(r)
    if case.ok:
        assert r.json()["extra"]["code"] == code


def _unmask(case: Case) -> None:
    person_id = case.build(_person)
    r = case.client.post(f"/persons/{person_id}/unmask", json={"reason": "案件核查"}, headers=case.headers)
    case.check(r)
    if case.ok:
        docs = r.json()["documents"]
        assert docs and all(d["masked"] is False and "*" not in d["number"] for d in docs)


def _access_log(case: Case) -> None:
    person_id = case.build(_person)
    r = case.client.get(f"/persons/{person_id}/access-log", headers=case.headers)
    case.check(r)
    if case.ok:
        assert r.json()["person_id"] == person_id
        assert r.json()["total"] >= 1  # at least its creation


def _verify(case: Case) -> None:
    r = case.client.get("/audit/verify", headers=case.headers)
    case.check(r)
    if case.ok:
        assert r.json()["ok"] is True, r.json()


def _user_manage(case: Case) -> None:
    username = "new_collector"
    before = _count(case.world, User)
    body = {
        "username": username,
        "display_name": "新采集员",
        "password": "Another-password-1",
        "role": "collector",
        "area_code": case.loc.community_code,
    }
    r = case.client.post("/users", json=body, headers=case.headers)
    case.check(r)
    with case.world.session() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if case.ok:
            assert user is not None and user.role == "collector" and user.area_id == case.loc.community
            assert r.json()["username"] == username
        else:
            assert user is None
    assert _count(case.world, User) == before + (1 if case.ok else 0)


def _health(s: Session, ctx: Context) -> None:
    departments.add_department(s, ctx, code="health", name_zh=None, name_en=None)
    spec = rules.parse_agreement(
        {
            "department": "health",
            "purpose": "权限测试",
            "valid_from": "2026-01-01",
            "reads": {"person": ["name"]},
            "provides": {"person": ["occupation"]},
        },
        departments.known_fields(),
    )
    departments.add_agreement(s, ctx, spec)


def _department_manage(case: Case) -> None:
    r = case.client.post("/departments", json={"code": "housing"}, headers=case.headers)
    case.check(r)
    assert _count(case.world, Department) == (1 if case.ok else 0)


def _department_exchange(case: Case) -> None:
    def make(s: Session, ctx: Context, loc: Loc) -> int:
        _health(s, ctx)
        return _person(s, ctx, loc)

    person_id = case.build(make)
    body = {
        "object_kind": "person",
        "object_id": person_id,
        "attribute": "name",
        "reason": "医院登记姓名不同",
    }
    r = case.client.post("/feedback", json=body, headers=case.headers)
    case.check(r)
    assert _count(case.world, Feedback) == (1 if case.ok else 0)


def _conflict(s: Session, ctx: Context, loc: Loc) -> int:
    _health(s, ctx)
    person_id = _person(s, ctx, loc)
    dept = s.execute(select(Department)).scalar_one()
    batch = DepartmentBatch(
        department_id=dept.id,
        agreement_id=s.execute(select(Agreement.id)).scalar_one(),
        kind="persons",
        file_name="feed.csv",
        content_sha256="0" * 64,
        actor_name="system",
        received_at=ctx.now,
    )
    s.add(batch)
    s.flush()
    conflict = ExchangeConflict(
        object_kind="person",
        object_id=person_id,
        field="occupation",
        register_value=None,
        department_value="教师",
        department="health",
        batch_id=batch.id,
        status="open",
        created_at=ctx.now,
        area_id=loc.community,
        county_code=loc.community_code[:6],
    )
    s.add(conflict)
    s.flush()
    return int(conflict.id)


def _conflict_decide(case: Case) -> None:
    conflict_id = case.build(_conflict)
    body = {"decision": "reject", "reason": "入户核实"}
    r = case.client.post(f"/conflicts/{conflict_id}/decide", json=body, headers=case.headers)
    case.check(r)
    with case.world.session() as s:
        status = s.get(ExchangeConflict, conflict_id).status  # type: ignore[union-attr]
    assert status == ("rejected" if case.ok else "open")


def _feedback(s: Session, ctx: Context, loc: Loc) -> int:
    person_id = _person(s, ctx, loc)
    flag = registry.flag(
        s, ctx, persons.PERSON, person_id, attribute="name", reason="[health] 姓名存疑", expected_version=1
    )
    item = Feedback(
        department="health",
        object_kind="person",
        object_id=person_id,
        attribute="name",
        reason="姓名存疑",
        flag_id=flag.id,
        filed_at=ctx.now,
        pickup_due=dt.date(2026, 12, 1),
        decision_due=dt.date(2026, 12, 11),
        area_id=loc.community,
        county_code=loc.community_code[:6],
    )
    s.add(item)
    s.flush()
    return int(item.id)


def _feedback_handle(case: Case) -> None:
    feedback_id = case.build(_feedback)
    r = case.client.post(f"/feedback/{feedback_id}/pickup", headers=case.headers)
    case.check(r)
    with case.world.session() as s:
        picked = s.get(Feedback, feedback_id).picked_up_at  # type: ignore[union-attr]
    assert (picked is not None) == case.ok


def _exchange_log_verify(case: Case) -> None:
    r = case.client.get("/departments/exchange-log/verify", headers=case.headers)
    case.check(r)
    if case.ok:
        assert r.json()["ok"] is True


EXCHANGE_RUNNERS: dict[str, Callable[[Case], None]] = {
    "department.manage": _department_manage,
    "department.exchange": _department_exchange,
    "conflict.decide": _conflict_decide,
    "feedback.handle": _feedback_handle,
    "exchange_log.verify": _exchange_log_verify,
}


def _kpi_read(case: Case) -> None:
    r = case.client.get("/kpis", params={"area": case.loc.community_code}, headers=case.headers)
    case.check(r)
    if case.ok:
        assert r.json()["area"]["code"] == case.loc.community_code
        assert {k["key"] for k in r.json()["kpis"]} >= {"plate_installation", "rental_registration"}


def _kpi_objects(case: Case) -> None:
    r = case.client.get(
        "/kpis/plate_installation/objects",
        params={"area": case.loc.community_code, "part": "denominator"},
        headers=case.headers,
    )
    case.check(r)
    if case.ok:
        assert r.json()["area"]["code"] == case.loc.community_code and r.json()["part"] == "denominator"
        assert r.json()["total"] == len(r.json()["items"])


def _link(case: Case, *, force: bool) -> None:
    # Forcing is for two persons with different valid ID numbers; a plain merge takes a documentless duplicate.
    keep = case.build(_person)
    if force:
        other = case.build(_person)
    else:
        other = case.build(
            lambda s, ctx, loc: int(
                persons.create_person(
                    s,
                    ctx,
                    PersonCreate(area_id=loc.community, name="张伟", sex="1", birth_date=dt.date(1990, 1, 1)),
                ).entity.id
            )
        )
    events = _count(case.world, PersonLinkEvent)
    before = _state(case.world, "person", other)
    body = {"other": other, "reason": "重复登记", "force": force}
    r = case.client.post(f"/persons/{keep}/merge", json=body, headers=case.headers)
    case.check(r)
    if not case.ok:
        assert _count(case.world, PersonLinkEvent) == events
        assert _state(case.world, "person", other) == before, "a refused merge changed the person"
        return
    assert r.json()["forced"] is force
    assert _state(case.world, "person", other)[4] is not None  # retired: merged into keep


def _campaign(s: Session, ctx: Context, loc: Loc) -> int:
    spec = campaign_rules.parse_campaign(
        {"name": "权限测试", "area": loc.community_code, "starts_on": "2026-11-01"}
    )
    return organisation.create_campaign(s, ctx, spec).id


def _campaign_manage(case: Case) -> None:
    body = {"name": "权限测试活动", "area": case.loc.community_code, "starts_on": "2026-11-01"}
    r = case.client.post("/campaigns", json=body, headers=case.headers)
    case.check(r)
    if case.ok:
        assert r.json()["phases"][0]["key"] == "prepare"
    assert _count(case.world, Campaign) == (1 if case.ok else 0)


def _campaign_read(case: Case) -> None:
    r = case.client.get("/progress", params={"area": case.loc.community_code}, headers=case.headers)
    case.check(r)
    if case.ok:
        assert r.json()["area_code"] == case.loc.community_code
        assert r.json()["totals"]["change_sets_pending"] == 0


def _assignment_manage(case: Case) -> None:
    campaign_id = case.build(_campaign)
    body = {
        "collector": "collector_zhang",
        "unit": "community",
        "area_code": case.loc.community_code,
        "due_on": "2026-12-20",
    }
    r = case.client.post(f"/campaigns/{campaign_id}/assignments", json=body, headers=case.headers)
    case.check(r)
    if case.ok:
        assert r.json()["collector"] == "collector_zhang" and r.json()["status"] == "open"
    assert _count(case.world, Assignment) == (1 if case.ok else 0)


def _assignment_return(case: Case) -> None:
    user_id = case.world.users[case.persona]

    def make(s: Session, ctx: Context, loc: Loc) -> int:
        a = Assignment(
            campaign_id=_campaign(s, ctx, loc),
            collector_id=user_id,
            unit_kind="community",
            area_id=loc.community,
            county_code=loc.community_code[:6],
            due_on=dt.date(2026, 12, 20),
            status="open",
            workload_buildings=0,
            workload_dwellings=0,
            workload_persons=0,
            created_at=NOW,
        )
        s.add(a)
        s.flush()
        return int(a.id)

    assignment_id = case.build(make)
    r = case.client.post(
        f"/assignments/{assignment_id}/return", json={"reason": "人手不足"}, headers=case.headers
    )
    case.check(r)
    with case.world.session() as s:
        status = s.get(Assignment, assignment_id).status  # type: ignore[union-attr]
    assert status == ("returned" if case.ok else "open")


def _declared_departure(s: Session, ctx: Context, loc: Loc) -> tuple[int, int]:
    # A resident's declared departure (自主申报) at a plate where a person lives: the declaration and the residence.
    from liangshi.addresses.models import Address
    from liangshi.campaign import declarations
    from liangshi.campaign.schemas import DeclarationIn

    p = _place(s, ctx, loc)
    rid = factories.arrival(
        s, ctx, person_id=_person(s, ctx, loc), dwelling_id=p.dwelling_id, arrived=ARRIVED
    )
    code = str(s.get(Address, p.address_id).code)  # type: ignore[union-attr]
    data = DeclarationIn.model_validate(
        {"kind": "departure", "date": ctx.today, "persons": [{"name": "张伟"}]}
    )
    receipt = declarations.declare(s, code=code, data=data, now=ctx.now, today=ctx.today)
    return int(receipt["reference"]), rid


def _declaration_verify(case: Case) -> None:
    reference, rid = case.build(_declared_departure)
    departure = {"expected_version": 1, "departure_date": NOW.date().isoformat(), "reason": "left_city"}
    body = {"departures": [{"residence_id": rid, "departure": departure}]}
    r = case.client.post(f"/declarations/{reference}/departure-verification", json=body, headers=case.headers)
    case.check(r)
    with case.world.session() as s:
        from liangshi.registry.changesets import ChangeSet

        status = s.get(ChangeSet, reference).status  # type: ignore[union-attr]
    assert status == ("verified" if case.ok else "pending_visit")


CAMPAIGN_RUNNERS: dict[str, Callable[[Case], None]] = {
    "campaign.manage": _campaign_manage,
    "campaign.read": _campaign_read,
    "assignment.manage": _assignment_manage,
    "assignment.return": _assignment_return,
    "declaration.verify": _declaration_verify,
}


def _change_set(s: Session, ctx: Context, loc: Loc, *, district: bool) -> int:
    # A collector's proposal (a dwelling found vacant) awaiting the station, or already past it.
    from liangshi.registry.changesets import ChangeSet, Proposed

    p = _place(s, ctx, loc)
    cs = review.propose(
        s,
        ctx,
        area_id=loc.community,
        action="occupancy",
        summary="vacant",
        items=[
            Proposed(
                "change", "dwelling", entity_id=p.dwelling_id, base_version=1, attributes={"status": "vacant"}
            )
        ],
        prov=registry.Provenance("collector", "collector_wu"),
    )
    if district:
        cs.needs_district = True
        cs.status = "pending_district"
    s.flush()
    assert isinstance(cs, ChangeSet)
    return int(cs.id)


def _changeset_review(case: Case, *, district: bool) -> None:
    cs_id = case.build(lambda s, ctx, loc: _change_set(s, ctx, loc, district=district))
    path = "approve-district" if district else "approve"
    r = case.client.post(f"/change-sets/{cs_id}/{path}", headers=case.headers)
    case.check(r)
    with case.world.session() as s:
        from liangshi.registry.changesets import ChangeSet

        status = s.get(ChangeSet, cs_id).status  # type: ignore[union-attr]
    assert status == ("approved" if case.ok else "pending_district" if district else "pending_station")


def _flow_set(s: Session, ctx: Context, loc: Loc, *, flow: str) -> int:
    # A department record awaiting its claim, or a cross-unit change its holder refused (both in loc's community).
    from liangshi.areas.models import Area
    from liangshi.registry.changesets import Proposed

    person_id = _person(s, ctx, loc)
    path = s.get(Area, loc.community).path  # type: ignore[union-attr]
    cs = registry.changesets.propose(
        s,
        ctx,
        area_id=loc.community,
        flow=flow,
        action="department_record" if flow == "claim" else "cross_unit_change",
        summary="matrix",
        items=[
            Proposed(
                "change", "person", entity_id=person_id, base_version=1, attributes={"occupation": "教师"}
            )
        ],
        prov=registry.Provenance("department" if flow == "claim" else "collector", "matrix"),
        payload={"initiator_area_path": path},
        status="pending_claim" if flow == "claim" else "disputed",
    )
    return int(cs.id)


def _flow_decide(case: Case, *, flow: str) -> None:
    cs_id = case.build(lambda s, ctx, loc: _flow_set(s, ctx, loc, flow=flow))
    if flow == "claim":
        r = case.client.post(
            f"/claims/{cs_id}/decision", json={"decision": "duplicate"}, headers=case.headers
        )
    else:
        body = {"ruling": "neither", "reason": "双方均需核实"}
        r = case.client.post(f"/change-sets/{cs_id}/ruling", json=body, headers=case.headers)
    case.check(r)
    with case.world.session() as s:
        from liangshi.registry.changesets import ChangeSet

        status = s.get(ChangeSet, cs_id).status  # type: ignore[union-attr]
    before, after = ("pending_claim", "duplicate") if flow == "claim" else ("disputed", "closed")
    assert status == (after if case.ok else before)


def _inspection_plan(s: Session, ctx: Context, loc: Loc, *, defect: bool = False) -> tuple[int, int]:
    """A plan over one household of the community (drawn whole), optionally with a defective result (lot
    rejected, so a rectification item opens); returns (plan id, household id)."""
    household = _household(s, ctx, loc)
    plan = inspections.create_plan(
        s, ctx, PlanCreate(area_id=loc.community, name="权限测试", seed=1, margin=0.01)
    )
    if defect:
        found = ResultCreate(
            persons_registered=1, persons_present=0, main_right=0, general_right=0, count_matches=False
        )
        inspections.record_result(s, ctx, plan.id, household, found)
    return plan.id, household


def _inspection(case: Case, action: str) -> None:
    if action == "inspection.plan":
        case.build(_household)
        plans = _count(case.world, InspectionPlan)
        body = {"area_id": case.loc.community, "name": "抽查", "seed": 3}
        r = case.client.post("/inspections/plans", json=body, headers=case.headers)
        case.check(r)
        assert _count(case.world, InspectionPlan) == plans + (1 if case.ok else 0)
    elif action == "inspection.read":
        plan_id, _household_id = case.build(_inspection_plan)
        r = case.client.get(f"/inspections/plans/{plan_id}", headers=case.headers)
        case.check(r)
        if case.ok:
            assert r.json()["lots"][0]["community_code"] == case.loc.community_code
    elif action == "inspection.record":
        plan_id, household = case.build(_inspection_plan)
        results = _count(case.world, InspectionResult)
        body = {
            "persons_registered": 1,
            "persons_present": 1,
            "main_right": 1,
            "general_right": 1,
            "count_matches": True,
        }
        r = case.client.post(
            f"/inspections/plans/{plan_id}/households/{household}/result", json=body, headers=case.headers
        )
        case.check(r)
        assert _count(case.world, InspectionResult) == results + (1 if case.ok else 0)
    else:
        case.build(lambda s, ctx, loc: _inspection_plan(s, ctx, loc, defect=True))
        with case.world.session() as s:
            item = s.execute(select(Rectification).order_by(Rectification.id.desc())).scalars().first()
            assert item is not None
            item_id = item.id
        r = case.client.post(f"/inspections/rectifications/{item_id}/fix", headers=case.headers)
        case.check(r)
        with case.world.session() as s:
            status = s.get(Rectification, item_id).status  # type: ignore[union-attr]
        assert status == ("fixed" if case.ok else "open")


def _not_installed_finding(s: Session, ctx: Context, loc: Loc) -> int:
    """A planned plate in the location and the finding a system run opens for it."""
    street = _street(s, ctx, loc)
    addresses.create_address(
        s, ctx, AddressCreate(area_id=loc.community, street_id=street, number="9", status="planned")
    )
    checks.run_checks(s, ctx, area_code=loc.community_code, codes=["plate.not_installed"])
    return int(s.execute(select(Finding.id).where(Finding.status == "open")).scalar_one())


def _check_read(case: Case) -> None:
    case.build(_not_installed_finding)
    r = case.client.get("/checks/findings", params={"area": case.loc.community_code}, headers=case.headers)
    case.check(r)
    if case.ok:
        assert r.json()["total"] == 1
        assert r.json()["items"][0]["check"] == "plate.not_installed"


def _check_run(case: Case) -> None:
    case.build(
        lambda s, ctx, loc: addresses.create_address(
            s,
            ctx,
            AddressCreate(area_id=loc.community, street_id=_street(s, ctx, loc), number="3", status="made"),
        )
    )
    body = {"area": case.loc.community_code, "checks": ["plate.not_installed"]}
    r = case.client.post("/checks/runs", json=body, headers=case.headers)
    case.check(r)
    assert _count(case.world, Finding) == (1 if case.ok else 0)
    if case.ok:
        assert r.json()["per_check"] == {"plate.not_installed": 1}


def _check_dismiss(case: Case) -> None:
    finding = case.build(_not_installed_finding)
    r = case.client.post(
        f"/checks/findings/{finding}/dismiss", json={"reason": "门牌已现场安装，待补录"}, headers=case.headers
    )
    case.check(r)
    with case.world.session() as s:
        status = s.get(Finding, finding).status  # type: ignore[union-attr]
    assert status == ("dismissed" if case.ok else "open")


def _check_source(case: Case) -> None:
    header = "社区代码,街路巷,门牌号,楼栋,单元,楼层,房号,用途,状态"
    csv = f"{header}\n{case.loc.community_code},权限测试路,5号,1栋,,1,101,shop,occupied\n"
    files = {"file": ("housing_dwellings.csv", csv.encode("utf-8"), "text/csv")}
    r = case.client.post("/checks/sources", data={"kind": "dwellings"}, files=files, headers=case.headers)
    case.check(r)
    assert _count(case.world, SourceRecord) == (1 if case.ok else 0)
    if case.ok:
        assert r.json()["kept"] == 1


CHECK_RUNNERS: dict[str, Callable[[Case], None]] = {
    "check.read": _check_read,
    "check.run": _check_run,
    "check.dismiss": _check_dismiss,
    "check.source": _check_source,
}


def _collect_sync(case: Case) -> None:
    place = case.build(_place)
    r = case.client.get("/sync/work", params={"area_id": case.loc.community}, headers=case.headers)
    case.check(r)
    item = {
        "uuid": "6b1f2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b",
        "kind": "visit",
        "dwelling_id": place.dwelling_id,
        "visit": {"outcome": "vacant"},
    }
    synced = case.client.post("/sync", json={"items": [item]}, headers=case.headers)
    if case.status == 403:
        assert synced.status_code == 403 and synced.json()["error"]["code"] == case.code_403
        return
    assert synced.status_code == 200, synced.text
    result = synced.json()["items"][0]
    if case.ok:
        assert place.dwelling_id in {d["dwelling_id"] for b in r.json()["buildings"] for d in b["dwellings"]}
        assert result["status"] == "stored", result
    else:
        assert result["status"] == "refused" and result["code"] == "sync.not_assigned", result


def _rental(case: Case, verb: str) -> None:
    def make(s: Session, ctx: Context, loc: Loc) -> tuple[int, int]:
        return _place(s, ctx, loc).dwelling_id, _person(s, ctx, loc)

    dwelling_id, landlord = case.build(make)
    if verb == "read":
        with case.world.session() as s:
            body = RentalCreate(dwelling_id=dwelling_id, landlord_person_id=landlord, lease_start=ARRIVED)
            rental_id = int(rentals.file_rental(s, case.world.ctx(s), body).entity.id)
        r = case.client.get(f"/rentals/{rental_id}", headers=case.headers)
        case.check(r)
        if case.ok:
            assert r.json()["id"] == rental_id and r.json()["kind"] == "rental"
        return
    before = _count(case.world, Rental)
    body = {"dwelling_id": dwelling_id, "landlord_person_id": landlord, "lease_start": ARRIVED.isoformat()}
    r = case.client.post("/rentals", json=body, headers=case.headers)
    case.check(r)
    assert _count(case.world, Rental) == before + (1 if case.ok else 0)
    if case.ok:
        assert r.json()["kind"] == "rental" and r.json()["refs"]["dwelling_id"] == dwelling_id


def _register_export(case: Case) -> None:
    case.build(_person)
    r = case.client.post("/exports/parquet", json={"area": case.loc.community_code}, headers=case.headers)
    case.check(r)
    if case.ok:
        assert r.headers["content-type"] == "application/zip"
        assert r.content[:2] == b"PK"


def run(case: Case, action: str) -> None:
    """Perform one action as the case's persona and check status and effect."""
    kind, _, verb = action.partition(".")
    if action == "area.read_ancestor":
        _read_ancestor(case)
    elif action == "person.unmask":
        _unmask(case)
    elif action == "person.access_log":
        _access_log(case)
    elif action == "audit.verify":
        _verify(case)
    elif action == "user.manage":
        _user_manage(case)
    elif action in EXCHANGE_RUNNERS:
        EXCHANGE_RUNNERS[action](case)
    elif action in CAMPAIGN_RUNNERS:
        CAMPAIGN_RUNNERS[action](case)
    elif action == "kpi.read":
        _kpi_read(case)
    elif action == "kpi.objects":
        _kpi_objects(case)
    elif kind == "inspection":
        _inspection(case, action)
    elif action in CHECK_RUNNERS:
        CHECK_RUNNERS[action](case)
    elif action in ("person.link", "person.link_force"):
        _link(case, force=action == "person.link_force")
    elif action in ("department.claim", "dispute.rule"):
        _flow_decide(case, flow="claim" if action == "department.claim" else "cross_unit")
    elif action in ("changeset.review", "changeset.review_district"):
        _changeset_review(case, district=action == "changeset.review_district")
    elif action == "collect.sync":
        _collect_sync(case)
    elif action in PROPOSAL_ACTIONS:
        run_proposal(case, action, {**TARGETS, "place": _place}, _state)
    elif kind == "rental":
        _rental(case, verb)
    elif action == "register.export":
        _register_export(case)
    elif verb == "read":
        _read(case, kind)
    elif verb == "history":
        _read(case, kind, suffix="/history")
    elif verb == "create":
        _create(case, kind)
    else:
        _object_write(case, kind, verb)


# ---------------------------------------------------------------------------------------------------------
# The matrix
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(engine: Engine) -> Any:
    """One application for the whole matrix (it holds no state of its own; the `world` fixture resets the
    database per test). Building an app per case costs more than most cases themselves."""
    return create_app(Settings(database_url="sqlite://"), clock=fixed(NOW), engine=engine)


@pytest.fixture(scope="module")
def client(app: Any) -> Iterator[TestClient]:
    """One client whose event-loop portal lives for the whole module (a portal per request is slow)."""
    with TestClient(app) as c:
        yield c


def _cases() -> list[Any]:
    params = []
    for persona in PERSONA_ROLES:
        for action in ACTIONS:
            for where in ("inside", "outside"):
                if where == "outside" and action in NO_JURISDICTION:
                    continue
                case_id = f"{persona}-{action}-{where}"
                marks = []
                if case_id in KNOWN_BUGS:
                    marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[case_id]))
                params.append(pytest.param(persona, action, where, id=case_id, marks=marks))
    return params


def test_personas_have_the_roles_the_matrix_assumes() -> None:
    for persona, role in PERSONA_ROLES.items():
        assert PERSONAS[persona][0] == role
    assert set(PERSONA_ROLES.values()) == set(ALLOWED)
    # Every permission of the specification is exercised by at least one action.
    assert set().union(*ALLOWED.values()) <= set(ACTIONS.values())
    assert set(KNOWN_BUGS) <= {p.id for p in _cases()}


@pytest.mark.parametrize(("persona", "action", "where"), _cases())
def test_permission(
    world: World, client: TestClient, login: Any, persona: str, action: str, where: str
) -> None:
    case = Case(
        world=world,
        client=client,
        headers=login(persona),
        persona=persona,
        where=where,
        loc=_loc(world, where),
        status=expected_status(persona, action, where),
        code_403=expected_code(persona, action),
    )
    run(case, action)
