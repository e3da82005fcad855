"""Rentals (出租房屋) in the web: file a rental on a dwelling with its tenants and the security agreement in one
form, record the agreement later, end the rental; over the rentals service (jurisdiction, audit unchanged)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from liangshi.buildings import service as buildings
from liangshi.errors import LiangshiError, ValidationFailed
from liangshi.persons import service as persons
from liangshi.rentals import service as rentals
from liangshi.rentals.rules import USES
from liangshi.rentals.schemas import AgreementIn, RentalCreate, RentalEnd, TenantIn
from liangshi.residence import service as residence
from liangshi.web.i18n import N_
from liangshi.web.labels import form_errors
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()

register_flash("rental_filed", N_("Rental filed."))
register_flash("rental_agreement", N_("Security agreement recorded."))
register_flash("rental_ended", N_("Rental ended; its tenancies are closed."))

USE_LABELS = {
    "residential": N_("Residential"),
    "shop": N_("Shop"),
    "office": N_("Office"),
    "collective": N_("Collective housing"),
    "other": N_("Other"),
}
assert set(USE_LABELS) == set(USES)


def _form_page(
    request: Request,
    p: Page,
    dwelling_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    p.ctx.actor.ensure("rental.write")
    address = buildings.describe_dwelling(p.session, dwelling_id, p.ctx.today)
    living = residence.occupants(p.session, p.ctx, dwelling_id, None)
    return render(
        request,
        "rental_new.html",
        p,
        status=status,
        dwelling_id=dwelling_id,
        address=address,
        occupants=living["occupants"],
        existing=living["rental"],
        uses=USE_LABELS,
        values={"lease_start": p.ctx.today.isoformat(), "use": "residential", **(values or {})},
        errors=errors or {},
        today=p.ctx.today.isoformat(),
    )


@router.get("/dwellings/{dwelling_id}/rental/new")
def new_rental(request: Request, dwelling_id: int) -> Response:
    """The form: landlord by ID number, lease, filing number, the tenants among those living here, the agreement."""
    with page(request) as p:
        return _form_page(request, p, dwelling_id)


@router.post("/dwellings/{dwelling_id}/rental")
async def file_rental(request: Request, dwelling_id: int) -> Response:
    """File the rental, attach the chosen tenants and (when signed) the agreement, in one transaction."""
    form = await request.form()
    tenant_ids = [int(str(v)) for v in form.getlist("tenant") if str(v).isdigit()]
    values: dict[str, Any] = {
        k: str(form.get(k) or "").strip()
        for k in (
            "landlord_id_number",
            "lease_start",
            "lease_end",
            "monthly_rent",
            "rooms",
            "use",
            "filing_number",
            "agreement_signer",
            "agreement_signed_on",
        )
    }
    values["tenants"] = tenant_ids
    with page(request) as p:
        try:
            landlord = (
                persons.person_id_by_document(p.session, p.ctx, values["landlord_id_number"])
                if values["landlord_id_number"]
                else None
            )
            if landlord is None:
                raise ValidationFailed(
                    "rental.landlord_unknown",
                    "未找到该证件号码的出租人（须先登记人员）",
                    "No person with this document number in your jurisdiction (register the landlord first)",
                    {"field": "landlord_id_number"},
                )
            signer = values["agreement_signer"] or None
            signed_on = values["agreement_signed_on"] or (p.ctx.today.isoformat() if signer else None)
            data = RentalCreate.model_validate(
                {
                    "dwelling_id": dwelling_id,
                    "landlord_person_id": landlord,
                    "use": values["use"] or "residential",
                    "rooms": values["rooms"] or None,
                    "monthly_rent": values["monthly_rent"] or None,
                    "lease_start": values["lease_start"] or None,
                    "lease_end": values["lease_end"] or None,
                    "filing_number": values["filing_number"] or None,
                    "agreement_signed_on": signed_on,
                    "agreement_signer": signer,
                }
            )
            snap = rentals.file_rental(p.session, p.ctx, data)
            version = int(snap.entity.version)
            for person_id in tenant_ids:
                version = int(
                    rentals.attach_tenant(
                        p.session,
                        p.ctx,
                        snap.entity.id,
                        TenantIn(expected_version=version, person_id=person_id),
                    ).entity.version
                )
        except (ValidationError, LiangshiError) as exc:
            if isinstance(exc, LiangshiError) and exc.http_status not in (409, 422):
                raise
            p.session.rollback()
            return _form_page(
                request, p, dwelling_id, values=values, errors=form_errors(exc, p.lang), status=422
            )
        return redirect(f"/web/dwellings/{dwelling_id}", flash="rental_filed")


@router.post("/rentals/{rental_id}/agreement")
def agreement(
    request: Request,
    rental_id: int,
    expected_version: Annotated[int, Form()],
    signer: Annotated[str, Form(max_length=50)] = "",
    signed_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Record the signed security responsibility agreement (治安责任书)."""
    with page(request) as p:
        data = AgreementIn.model_validate(
            {
                "expected_version": expected_version,
                "signed_on": signed_on or p.ctx.today.isoformat(),
                "signer": signer.strip() or None,
            }
        )
        snap = rentals.record_agreement(p.session, p.ctx, rental_id, data)
        return redirect(f"/web/dwellings/{snap.entity.dwelling_id}", flash="rental_agreement")


@router.post("/rentals/{rental_id}/end")
def end(
    request: Request,
    rental_id: int,
    expected_version: Annotated[int, Form()],
    ended_on: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """End the rental on a date; its tenants' links end with it."""
    with page(request) as p:
        data = RentalEnd.model_validate(
            {
                "expected_version": expected_version,
                "ended_on": ended_on or p.ctx.today.isoformat(),
                "reason": reason.strip() or None,
            }
        )
        snap = rentals.end_rental(p.session, p.ctx, rental_id, data)
        return redirect(f"/web/dwellings/{snap.entity.dwelling_id}", flash="rental_ended")
