"""Department agreements in the web (部门共享协议): the partner departments and their agreements, one agreement
in full, and registering a new one (what the department provides and may read, why, for how long); for the
administrators who hold `department.manage`, over the departments service (validation and audit unchanged)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from liangshi.departments import rules
from liangshi.departments import service as departments
from liangshi.web.forms import attempt
from liangshi.web.i18n import N_
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()
add_nav(NavItem("/web/departments", N_("Departments"), "department.manage", order=70))
register_flash("agreement_added", N_("Agreement registered."))

KIND_LABELS = {
    "person": N_("Person"),
    "document": N_("Identity document"),
    "household": N_("Household"),
    "membership": N_("Household membership"),
    "residence": N_("Residence"),
    "dwelling": N_("Dwelling"),
    "building": N_("Building"),
    "address": N_("Door plate"),
    "rental": N_("Rental"),
    "permit": N_("Residence permit"),
}

# Field names an agreement may name beyond the person items (labels.ATTRIBUTES): shown by name, never raw.
FIELDS = {
    "dwelling_id": N_("Dwelling"),
    "household_number": N_("Household number"),
    "relationship": N_("Relationship to the head"),
    "unit": N_("Entrance (unit)"),
    "floor": N_("Floor"),
    "room": N_("Room"),
    "use": N_("Use"),
    "floor_area_m2": N_("Floor area (m²)"),
    "owner_name": N_("Owner"),
    "label": N_("Building label (as on its plate)"),
    "floors_above": N_("Floors above ground"),
    "floors_below": N_("Floors below ground"),
    "units": N_("Entrances (units)"),
    "structure": N_("Structure"),
    "year_built": N_("Year built"),
    "visit_status": N_("Visit status"),
    "plate_kind": N_("Plate kind"),
    "base_number": N_("Door number"),
    "sub_number": N_("Sub-number"),
    "lon": N_("Longitude"),
    "lat": N_("Latitude"),
    "chainage_m": N_("Chainage (m)"),
    "landlord_person_id": N_("Landlord"),
    "rooms": N_("Rooms let"),
    "monthly_rent": N_("Monthly rent"),
    "lease_start": N_("Lease start"),
    "lease_end": N_("Lease end"),
    "filing_number": N_("Filing number"),
    "agreement_signed_on": N_("Security agreement signed"),
    "agreement_signer": N_("Signed by"),
    "permit_number": N_("Permit number"),
    "basis": N_("Basis"),
    "basis_detail": N_("Basis detail (employer, contract, school)"),
    "issued_on": N_("Issued on"),
    "valid_until": N_("Valid until"),
    "last_endorsed_on": N_("Last endorsed"),
}


def _department(p: Page, code: str) -> dict[str, Any]:
    for d in departments.list_departments(p.session, p.ctx):
        if d["code"] == code:
            return d
    raise HTTPException(404)


@router.get("/departments")
def department_list(request: Request) -> Response:
    """Every partner department with its agreements and whether each is in force today."""
    with page(request) as p:
        return render(
            request, "departments.html", p, departments=departments.list_departments(p.session, p.ctx)
        )


def _form(
    request: Request, p: Page, code: str, values: dict[str, Any], errors: dict[str, str] | None = None
) -> Response:
    return render(
        request,
        "agreement_new.html",
        p,
        status=422 if errors else 200,
        department=_department(p, code),
        known=departments.known_fields(),
        kinds=KIND_LABELS,
        fields=FIELDS,
        values=values,
        errors=errors or {},
    )


@router.get("/departments/{code}/agreements/new")
def new_agreement(request: Request, code: str) -> Response:
    """The form: purpose, period, reference, and the fields as checkboxes per kind."""
    with page(request) as p:
        p.ctx.actor.ensure("department.manage")
        return _form(request, p, code, {"valid_from": p.ctx.today.isoformat(), "provides": [], "reads": []})


@router.get("/departments/{code}/agreements/{agreement_id}")
def agreement(request: Request, code: str, agreement_id: int) -> Response:
    """One agreement: purpose, period, and per kind the fields provided and readable."""
    with page(request) as p:
        dept = _department(p, code)
        found = [a for a in dept["agreements"] if a["id"] == agreement_id]
        if not found:
            raise HTTPException(404)
        return render(
            request,
            "agreement.html",
            p,
            department=dept,
            agreement=found[0],
            kinds=KIND_LABELS,
            fields=FIELDS,
        )


def _picked(values: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for value in values:
        kind, _, name = value.partition(".")
        if kind and name:
            out.setdefault(kind, []).append(name)
    return out


@router.post("/departments/{code}/agreements")
async def add_agreement(request: Request, code: str) -> Response:
    """Register the agreement (checked against the registry's kinds and fields); then its page."""
    form = await request.form()
    values: dict[str, Any] = {
        k: str(form.get(k) or "").strip() for k in ("purpose", "valid_from", "valid_to", "reference")
    }
    values["aggregates_only"] = form.get("aggregates_only") == "on"
    values["provides"] = [str(v) for v in form.getlist("provides")]
    values["reads"] = [str(v) for v in form.getlist("reads")]
    with page(request) as p:

        def write() -> Response:
            spec = rules.parse_agreement(
                {
                    "department": code,
                    "purpose": values["purpose"],
                    "valid_from": values["valid_from"] or p.ctx.today.isoformat(),
                    "valid_to": values["valid_to"] or None,
                    "aggregates_only": values["aggregates_only"],
                    "provides": _picked(values["provides"]),
                    "reads": _picked(values["reads"]),
                    "reference": values["reference"] or None,
                },
                departments.known_fields(),
            )
            _department(p, code)
            made = departments.add_agreement(p.session, p.ctx, spec)
            return redirect(f"/web/departments/{code}/agreements/{made.id}", flash="agreement_added")

        return attempt(p, write, lambda errors: _form(request, p, code, values, errors))
