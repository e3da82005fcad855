"""Households in the web (户): the households of the jurisdiction, a new household on a dwelling with its head,
members joining and leaving with their relationship to the head (GB/T 4761); over the persons service
(jurisdiction, masking, audit unchanged). Linked from the menu, the person page and the dwelling page. A
collector's new household, member and member leaving are change sets for the station's review (issue 14)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response

from liangshi import registry
from liangshi.buildings import service as buildings
from liangshi.campaign import proposals
from liangshi.common import codes
from liangshi.errors import ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.schemas import HouseholdCreate, MemberAdd, MemberEnd
from liangshi.review import service as review
from liangshi.web.forms import Field, attempt, form_page, values_of
from liangshi.web.i18n import N_
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()
add_nav(NavItem("/web/households", N_("Households"), "household.read", order=30))
register_flash("household_created", N_("Household created."))
register_flash("member_added", N_("Member added to the household."))
register_flash("member_proposed", N_("Submitted for review: it counts once the station approves it."))
register_flash("member_ended", N_("Membership ended."))
register_flash(
    "member_end_proposed", N_("Submitted for review: the member leaves once the station approves it.")
)
register_flash(
    "household_proposed", N_("Submitted for review: the household counts once the station approves it.")
)

KINDS = {"actual": N_("Actual living household"), "registered": N_("Registered household (hukou)")}
HEAD = "02"  # 户主 (GB/T 4761)


def _relationships() -> dict[str, str]:
    return dict(codes.table("relationship").entries)


def _person_by_id_number(p: Page, number: str, field: str) -> int:
    person_id = persons.person_id_by_document(p.session, p.ctx, number) if number else None
    if person_id is None:
        raise ValidationFailed(
            "household.person_unknown",
            "未找到该证件号码的人员（须先登记人员）",
            "No person with this document number in your jurisdiction (register the person first)",
            {"field": field},
        )
    return person_id


@router.get("/households")
def households(request: Request, offset: int = 0) -> Response:
    """The households of the jurisdiction, 100 a page, each with its dwelling and members' count."""
    with page(request) as p:
        found = registry.search(p.session, p.ctx, persons.HOUSEHOLD, offset=max(0, offset), limit=100)
        rows = []
        for snap in found.items:
            dwelling_id = snap.row.dwelling_id
            address = (
                buildings.describe_dwelling(p.session, dwelling_id, p.ctx.today)["text"]
                if dwelling_id
                else ""
            )
            rows.append({"snap": snap, "address": address})
        return render(
            request, "households.html", p, rows=rows, total=found.total, offset=found.offset, kinds=KINDS
        )


def _new_fields(p: Page) -> list[Field]:
    return [
        Field("household_kind", N_("Kind of household"), "select", True, KINDS),
        Field("household_number", N_("Household number"), attrs={"maxlength": "30"}),
        Field(
            "head_id_number",
            N_("ID number of the head of household"),
            required=True,
            attrs={"maxlength": "40", "autocomplete": "off"},
        ),
        Field("valid_from", N_("Since (empty: today)"), "date", attrs={"max": p.ctx.today.isoformat()}),
    ]


def _new_form(
    request: Request, p: Page, dwelling_id: int, values: dict[str, Any], errors: Any = None
) -> Response:
    address = buildings.describe_dwelling(p.session, dwelling_id, p.ctx.today)["text"]
    return form_page(
        request,
        p,
        title=N_("New household"),
        action=f"/web/dwellings/{dwelling_id}/households",
        fields=_new_fields(p),
        values=values,
        submit=N_("Submit for review")
        if p.ctx.actor.proposes_only("household")
        else N_("Create the household"),
        testid="household-form",
        back=(f"/web/dwellings/{dwelling_id}", str(address)),
        errors=errors,
        status=422 if errors else 200,
    )


@router.get("/dwellings/{dwelling_id}/households/new")
def new_household(request: Request, dwelling_id: int) -> Response:
    """The form: a household living in this dwelling, with its head."""
    with page(request) as p:
        p.ctx.actor.ensure("household.write")
        registry.get_entity(p.session, buildings.DWELLING, dwelling_id, p.ctx.actor)
        return _new_form(request, p, dwelling_id, {"household_kind": "actual"})


@router.post("/dwellings/{dwelling_id}/households")
async def create_household(request: Request, dwelling_id: int) -> Response:
    """Create the household with its head (户主); then its page."""
    with page(request) as p:
        values = values_of(await request.form(), _new_fields(p))

        def write() -> Response:
            dwelling = registry.get_entity(p.session, buildings.DWELLING, dwelling_id, p.ctx.actor)
            head = _person_by_id_number(p, values["head_id_number"], "head_id_number")
            data = HouseholdCreate.model_validate(
                {
                    "household_kind": values["household_kind"] or "actual",
                    "area_id": dwelling.area_id,
                    "dwelling_id": dwelling_id,
                    "household_number": values["household_number"] or None,
                    "members": [{"person_id": head, "relationship": HEAD}],
                    "valid_from": values["valid_from"] or None,
                }
            )
            if p.ctx.actor.proposes_only("household"):
                # Issue 14: a collector's household is a change set for the station's review, not a live fact.
                proposals.propose_household(
                    p.session, p.ctx, data, policy=review.policy_of(request.app.state.settings)
                )
                return redirect(f"/web/dwellings/{dwelling_id}", flash="household_proposed")
            snap = persons.create_household(p.session, p.ctx, data)
            return redirect(f"/web/households/{snap.entity.id}", flash="household_created")

        return attempt(p, write, lambda errors: _new_form(request, p, dwelling_id, values, errors))


def _household_page(
    request: Request, p: Page, household_id: int, errors: dict[str, str] | None = None, values: Any = None
) -> Response:
    snap = registry.read(p.session, p.ctx, persons.HOUSEHOLD, household_id)
    dwelling_id = snap.row.dwelling_id
    members = persons.members_view(p.session, p.ctx, household_id, p.ctx.today)
    address = buildings.describe_dwelling(p.session, dwelling_id, p.ctx.today)["text"] if dwelling_id else ""
    return render(
        request,
        "household.html",
        p,
        status=422 if errors else 200,
        household=snap,
        members=members,
        address=address,
        kinds=KINDS,
        relationships=_relationships(),
        errors=errors or {},
        values=values or {},
        today=p.ctx.today.isoformat(),
        proposes=p.ctx.actor.proposes_only("household"),
    )


@router.get("/households/{household_id}")
def household(request: Request, household_id: int) -> Response:
    """A household: its dwelling, its members with their relationship to the head; join and leave forms."""
    with page(request) as p:
        return _household_page(request, p, household_id)


@router.post("/households/{household_id}/members")
def add_member(
    request: Request,
    household_id: int,
    expected_version: Annotated[int, Form()],
    id_number: Annotated[str, Form(max_length=40)] = "",
    relationship: Annotated[str, Form(max_length=2)] = "",
    effective: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """A person joins the household from a date, with their relationship to the head."""
    values = {"id_number": id_number.strip(), "relationship": relationship, "effective": effective}
    with page(request) as p:

        def write() -> Response:
            person_id = _person_by_id_number(p, values["id_number"], "id_number")
            data = MemberAdd.model_validate(
                {
                    "expected_version": expected_version,
                    "person_id": person_id,
                    "relationship": relationship,
                    "effective": effective or None,
                }
            )
            if p.ctx.actor.proposes_only("household"):
                # Issue 14: a collector's member is a change set for the station's review, not a live fact.
                proposals.propose_member(
                    p.session, p.ctx, household_id, data, policy=review.policy_of(request.app.state.settings)
                )
                return redirect(f"/web/households/{household_id}", flash="member_proposed")
            persons.add_member(p.session, p.ctx, household_id, data)
            return redirect(f"/web/households/{household_id}", flash="member_added")

        return attempt(p, write, lambda errors: _household_page(request, p, household_id, errors, values))


@router.post("/households/{household_id}/members/{membership_id}/end")
def end_member(
    request: Request,
    household_id: int,
    membership_id: int,
    expected_version: Annotated[int, Form()],
    reason: Annotated[str, Form(max_length=500)] = "",
    effective: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """A member leaves the household from a date, with a reason."""
    with page(request) as p:

        def write() -> Response:
            data = MemberEnd.model_validate(
                {
                    "expected_version": expected_version,
                    "reason": reason.strip(),
                    "effective": effective or None,
                }
            )
            if p.ctx.actor.proposes_only("household"):
                # Issue 14: a member leaving is a change set for the station's review when a collector saw it.
                proposals.propose_member_end(
                    p.session,
                    p.ctx,
                    household_id,
                    membership_id,
                    data,
                    policy=review.policy_of(request.app.state.settings),
                )
                return redirect(f"/web/households/{household_id}", flash="member_end_proposed")
            persons.end_member(p.session, p.ctx, household_id, membership_id, data)
            return redirect(f"/web/households/{household_id}", flash="member_ended")

        return attempt(p, write, lambda errors: _household_page(request, p, household_id, errors))
