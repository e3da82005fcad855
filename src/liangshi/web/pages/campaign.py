"""Campaign pages: campaigns and their phases, teams and assignments (with cards), completeness progress."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError

from liangshi.campaign import organisation, progress, rules
from liangshi.campaign.schemas import AssignmentCreate, MemberIn, TeamCreate
from liangshi.errors import LiangshiError
from liangshi.web.i18n import N_
from liangshi.web.labels import form_errors
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()

add_nav(NavItem("/web/campaigns", N_("Campaigns"), "campaign.read", order=30))
add_nav(NavItem("/web/progress", N_("Progress"), "campaign.read", order=31))
register_flash("campaign_created", N_("Campaign created."))
register_flash("assigned", N_("Work assigned."))
register_flash("reassigned", N_("Work reassigned."))
register_flash("returned", N_("Assignment returned."))
register_flash("team_created", N_("Team formed."))
register_flash("count_saved", N_("Household size saved."))

LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "phase_status": rules.PHASE_STATUSES,
    "team_roles": rules.TEAM_ROLES,
    "units": rules.UNIT_KINDS,
    "assignment_status": rules.ASSIGNMENT_STATUSES,
    "cards": rules.CARDS,
    "occupancy": rules.OCCUPANCY,
    "visit_status": rules.BUILDING_VISIT_STATUSES,
}


def _named(p: Page) -> Any:
    def name(table: str, code: str | None) -> str:
        if code is None:
            return "—"
        zh, en = LABELS[table].get(code, (code, code))
        return en if p.lang == "en" else zh

    return name


def _errors(exc: Exception, p: Page) -> dict[str, str]:
    if isinstance(exc, LiangshiError) and exc.http_status not in (404, 409, 422):
        raise exc
    p.session.rollback()
    return form_errors(exc, p.lang)  # type: ignore[arg-type]


# ---- campaigns ---------------------------------------------------------------------------------------------------


def _list_page(
    request: Request, p: Page, *, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None
) -> Response:
    defaults = {
        "area": organisation.own_area_code(p.session, p.ctx),
        "starts_on": p.ctx.today.isoformat(),
        "yellow_days": "3",
    }
    return render(
        request,
        "campaign/list.html",
        p,
        status=422 if errors else 200,
        campaigns=organisation.list_campaigns(p.session, p.ctx),
        may_manage=p.may("campaign.manage"),
        values={**defaults, **(values or {})},
        errors=errors or {},
        name=_named(p),
    )


@router.get("/campaigns")
def campaigns(request: Request) -> Response:
    """Campaigns over the user's area, with their current phase; the form to set one up."""
    with page(request) as p:
        p.ctx.actor.ensure("campaign.read")
        return _list_page(request, p)


@router.post("/campaigns")
def create_campaign(
    request: Request,
    name: Annotated[str, Form(max_length=100)] = "",
    area: Annotated[str, Form(max_length=15)] = "",
    starts_on: Annotated[str, Form(max_length=10)] = "",
    pilots: Annotated[str, Form(max_length=500)] = "",
    rollout_on: Annotated[str, Form(max_length=10)] = "",
    yellow_days: Annotated[str, Form(max_length=3)] = "3",
) -> Response:
    """Set up a campaign with the seed's five phases from its start date."""
    values = {
        "name": name,
        "area": area,
        "starts_on": starts_on,
        "pilots": pilots,
        "rollout_on": rollout_on,
        "yellow_days": yellow_days,
    }
    with page(request) as p:
        p.ctx.actor.ensure("campaign.manage")
        try:
            data: dict[str, Any] = {"name": name, "area": area.strip(), "starts_on": starts_on}
            codes = [c.strip() for c in pilots.replace("，", ",").split(",") if c.strip()]
            if codes:
                data["pilots"] = codes
            if rollout_on:
                data["rollout_on"] = rollout_on
            data["yellow_days"] = int(yellow_days) if yellow_days.strip().isdigit() else yellow_days
            c = organisation.create_campaign(p.session, p.ctx, rules.parse_campaign(data))
        except LiangshiError as exc:
            return _list_page(request, p, values=values, errors=_errors(exc, p))
        return redirect(f"/web/campaigns/{c.id}", flash="campaign_created")


@router.post("/campaigns/file")
def create_campaign_from_file(request: Request, file: Annotated[UploadFile, File()]) -> Response:
    """Set up a campaign from a TOML or JSON file: its own phases, pilot areas, cards and holiday calendar, as
    `liangshi campaign create --file` reads it."""
    with page(request) as p:
        p.ctx.actor.ensure("campaign.manage")
        try:
            raw = file.file.read(rules.CAMPAIGN_FILE_LIMIT + 1)
            spec = rules.parse_campaign(rules.read_campaign_document(raw, file.filename or ""))
            c = organisation.create_campaign(p.session, p.ctx, spec)
        except LiangshiError as exc:
            return _list_page(request, p, errors=_errors(exc, p))
        return redirect(f"/web/campaigns/{c.id}", flash="campaign_created")


def _campaign_page(
    request: Request,
    p: Page,
    campaign_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    c = organisation.get_campaign(p.session, p.ctx, campaign_id)
    read = organisation.read_campaign(p.session, p.ctx, c)
    units = organisation.campaign_units(p.session, p.ctx, c)
    may_manage = p.may("assignment.manage")
    # The progress link: the campaign's area, or the user's own area when the campaign reaches beyond it.
    own = organisation.own_area_code(p.session, p.ctx)
    progress_area = read.area_code if str(read.area_code).startswith(own) else own
    return render(
        request,
        "campaign/detail.html",
        p,
        status=422 if errors else 200,
        campaign=read,
        progress_area=progress_area,
        teams=organisation.teams_of(p.session, p.ctx, campaign_id),
        assignments=organisation.assignments(p.session, p.ctx, campaign_id=campaign_id),
        units=units,
        collectors=organisation.collectors_of(p.session, p.ctx, [u["id"] for u in units])
        if may_manage
        else [],
        may_manage=may_manage,
        may_return=p.may("assignment.return"),
        values={"due_on": (p.ctx.today + dt.timedelta(days=30)).isoformat(), **(values or {})},
        errors=errors or {},
        name=_named(p),
        roles=rules.TEAM_ROLES,
    )


@router.get("/campaigns/{campaign_id}")
def campaign(request: Request, campaign_id: int) -> Response:
    """A campaign: phases and their status, teams, assignments with yellow and red cards."""
    with page(request) as p:
        return _campaign_page(request, p, campaign_id)


@router.post("/campaigns/{campaign_id}/assignments")
def assign(
    request: Request,
    campaign_id: int,
    collector: Annotated[str, Form(max_length=50)] = "",
    unit: Annotated[str, Form(max_length=12)] = "community",
    area_code: Annotated[str, Form(max_length=15)] = "",
    street_id: Annotated[str, Form(max_length=20)] = "",
    building_ids: Annotated[str, Form(max_length=2000)] = "",
    due_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Assign a work unit to a collector."""
    values = {
        "collector": collector,
        "unit": unit,
        "area_code": area_code,
        "street_id": street_id,
        "building_ids": building_ids,
        "due_on": due_on,
    }
    with page(request) as p:
        try:
            ids = [
                int(b)
                for b in building_ids.replace("；", ";").replace(",", ";").split(";")
                if b.strip().isdigit()
            ]
            data = AssignmentCreate.model_validate(
                {
                    "collector": collector,
                    "unit": unit,
                    "area_code": area_code or None if unit != "buildings" else None,
                    "street_id": int(street_id) if street_id.strip().isdigit() else None,
                    "building_ids": ids,
                    "due_on": due_on,
                }
            )
            organisation.assign(p.session, p.ctx, campaign_id, data)
        except (ValidationError, LiangshiError) as exc:
            return _campaign_page(request, p, campaign_id, values=values, errors=_errors(exc, p))
        return redirect(f"/web/campaigns/{campaign_id}", flash="assigned")


@router.post("/campaigns/{campaign_id}/teams")
def create_team(
    request: Request,
    campaign_id: int,
    area_code: Annotated[str, Form(max_length=15)] = "",
    team_name: Annotated[str, Form(max_length=100)] = "",
    leader: Annotated[str, Form(max_length=50)] = "",
    leader_role: Annotated[str, Form(max_length=20)] = "community_police",
    members: Annotated[str, Form(max_length=1000)] = "",
    members_role: Annotated[str, Form(max_length=20)] = "enumerator",
) -> Response:
    """Form a community's team: a leader and members (usernames) with their roles."""
    values = {"area_code": area_code, "team_name": team_name, "leader": leader, "members": members}
    with page(request) as p:
        try:
            listed = (
                [MemberIn.model_validate({"username": leader, "role": leader_role, "leader": True})]
                if leader
                else []
            )
            listed += [
                MemberIn.model_validate({"username": u.strip(), "role": members_role})
                for u in members.replace("，", ",").split(",")
                if u.strip() and u.strip() != leader
            ]
            data = TeamCreate.model_validate({"area_code": area_code, "name": team_name, "members": listed})
            organisation.create_team(p.session, p.ctx, campaign_id, data)
        except (ValidationError, LiangshiError) as exc:
            return _campaign_page(request, p, campaign_id, values=values, errors=_errors(exc, p))
        return redirect(f"/web/campaigns/{campaign_id}", flash="team_created")


@router.post("/assignments/{assignment_id}/return")
def return_assignment(
    request: Request, assignment_id: int, reason: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    """Hand back an assignment with a reason."""
    with page(request) as p:
        try:
            a = organisation.return_assignment(p.session, p.ctx, assignment_id, reason.strip())
        except LiangshiError as exc:
            errors = _errors(exc, p)
            return _campaign_page(
                request, p, organisation.campaign_of(p.session, p.ctx, assignment_id), errors=errors
            )
        return redirect(f"/web/campaigns/{a.campaign_id}", flash="returned")


@router.post("/assignments/{assignment_id}/reassign")
def reassign(
    request: Request, assignment_id: int, collector: Annotated[str, Form(max_length=50)] = ""
) -> Response:
    """Give the work to another collector."""
    with page(request) as p:
        try:
            a = organisation.reassign(p.session, p.ctx, assignment_id, collector=collector.strip())
        except LiangshiError as exc:
            errors = _errors(exc, p)
            return _campaign_page(
                request, p, organisation.campaign_of(p.session, p.ctx, assignment_id), errors=errors
            )
        return redirect(f"/web/campaigns/{a.campaign_id}", flash="reassigned")


# ---- progress ----------------------------------------------------------------------------------------------------


@router.get("/progress")
def progress_page(request: Request, area: str | None = None, campaign: str | None = None) -> Response:
    """Completeness of an area: each number links to the list behind it; child areas, collectors and teams
    (of one campaign when one is chosen)."""
    with page(request) as p:
        chosen = int(campaign) if campaign and campaign.isdigit() else None
        report = progress.report(p.session, p.ctx, area or None, campaign_id=chosen)
        return render(
            request,
            "campaign/progress.html",
            p,
            report=report,
            name=_named(p),
            campaigns=organisation.list_campaigns(p.session, p.ctx),
        )


@router.get("/progress/buildings")
def progress_buildings(request: Request, area: str | None = None, status: str | None = None) -> Response:
    """The buildings behind a number, with their visit status."""
    with page(request) as p:
        rows = progress.building_list(p.session, p.ctx, area or None, status or None)
        return render(
            request,
            "campaign/buildings.html",
            p,
            rows=rows,
            area=area or "",
            filter_status=status,
            name=_named(p),
        )


@router.get("/progress/dwellings")
def progress_dwellings(request: Request, area: str | None = None, status: str | None = None) -> Response:
    """The dwellings behind a number, with their occupancy and nobody-home tries."""
    with page(request) as p:
        rows = progress.dwelling_list(p.session, p.ctx, area or None, status or None)
        return render(
            request,
            "campaign/dwellings.html",
            p,
            rows=rows,
            area=area or "",
            filter_status=status,
            name=_named(p),
        )


@router.get("/progress/households")
def progress_households(request: Request, area: str | None = None, matched: str | None = None) -> Response:
    """The households behind a number: members recorded beside the size declared at the door."""
    flag = {"true": True, "false": False}.get(matched or "")
    with page(request) as p:
        rows = progress.household_list(p.session, p.ctx, area or None, flag)
        return render(
            request,
            "campaign/households.html",
            p,
            rows=rows,
            area=area or "",
            matched=flag,
            may_write=p.may("household.write"),
        )


@router.post("/households/{household_id}/member-count")
def declare_count(
    request: Request,
    household_id: int,
    members: Annotated[int, Form(ge=0, le=200)],
    area: Annotated[str, Form(max_length=15)] = "",
) -> Response:
    """Save the member count a household declared at the door."""
    with page(request) as p:
        progress.declare_household_count(p.session, p.ctx, household_id, members)
        return redirect(f"/web/progress/households?area={area}", flash="count_saved")
