"""Collector pages for the other proposals (issue 14): an extension of stay (续住), a move within the city (市内迁移),
a document, a household member and a birth, each submitted for the station's review (a change set), never
written directly. One form page per proposal (`forms/object.html`) over the same use cases as the HTTP routes
(`campaign.service.propose_extension`, `campaign.proposals`); a returned one is fixed in the same form."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from liangshi import registry
from liangshi.buildings import service as buildings
from liangshi.campaign import proposals
from liangshi.campaign import service as campaign
from liangshi.common import codes
from liangshi.common.idnumber import DOCUMENT_TYPE_NAMES
from liangshi.common.types import validation_context
from liangshi.persons import service as persons
from liangshi.persons.schemas import DocumentAdd, MemberAdd
from liangshi.residence import service as residence
from liangshi.residence.schemas import BirthIn, ExtendIn, MoveIn
from liangshi.review import service as review
from liangshi.web import i18n, labels
from liangshi.web.forms import Field, attempt, blank_none, form_page, values_of
from liangshi.web.i18n import N_
from liangshi.web.pages import web_router
from liangshi.web.render import redirect, register_flash
from liangshi.web.session import Page, page

router = web_router()
register_flash("proposal_submitted", N_("Submitted for review: it counts once the station approves it."))


@dataclass(frozen=True)
class Subject:
    """What a proposal is about, as its form shows it: a line naming it, its version, where to go back to."""

    text: str
    version: int
    dwelling_id: int | None


def _residence(p: Page, residence_id: int) -> Subject:
    snap = registry.read(p.session, p.ctx, residence.RESIDENCE, residence_id)
    name = persons.names_on(p.session, [snap.entity.person_id], p.ctx.today).get(snap.entity.person_id, "")
    address = buildings.describe_dwelling(p.session, snap.entity.dwelling_id, p.ctx.today).get("text") or ""
    return Subject(f"{name} · {address}", snap.entity.version, snap.entity.dwelling_id)


def _person(p: Page, person_id: int, dwelling_id: int | None) -> Subject:
    snap = registry.read(p.session, p.ctx, persons.PERSON, person_id)
    return Subject(str(snap.row.name or ""), snap.entity.version, dwelling_id)


def _household(p: Page, household_id: int) -> Subject:
    snap = registry.read(p.session, p.ctx, persons.HOUSEHOLD, household_id)
    dwelling_id = snap.row.dwelling_id
    address = (
        buildings.describe_dwelling(p.session, dwelling_id, p.ctx.today).get("text") if dwelling_id else ""
    )
    return Subject(address or "", snap.entity.version, dwelling_id)


def _code_names(p: Page, table: str) -> dict[str, str]:
    zh = i18n.short(p.lang) == "zh"
    return {c: (n if zh else f"{c} {n}") for c, n in codes.table(table).entries.items()}


def _occupants(p: Page, dwelling_id: int | None) -> dict[str, str]:
    if dwelling_id is None:
        return {}
    found = residence.occupants(p.session, p.ctx, dwelling_id, None)["occupants"]
    return {str(o["person_id"]): str(o["name"]) for o in found}


@dataclass(frozen=True)
class Proposing:
    """One proposal the collect pages offer: its form and the use case it submits to."""

    action: str
    title: str
    submit: str
    fields: Callable[[Page, Subject], list[Field]]
    model: type[BaseModel]
    propose: Callable[..., Any]
    # The model's name for the subject's version, and for the subject itself when the use case takes no id.
    version_field: str = "expected_version"
    id_field: str | None = None


def _extension_fields(p: Page, s: Subject) -> list[Field]:
    return [
        Field("intended_stay_until", N_("Intended stay until"), "date", required=True),
        Field("effective", N_("From (default today)"), "date"),
        Field("reason", N_("Reason"), attrs={"maxlength": "500"}),
    ]


def _move_fields(p: Page, s: Subject) -> list[Field]:
    return [
        Field("move_date", N_("Move date"), "date", required=True),
        Field("dwelling_id", N_("Number of the new dwelling"), "number", required=True, attrs={"min": "1"}),
        Field("category", N_("Category"), "select", options=labels.CATEGORIES),
        Field("intended_stay_until", N_("Intended stay until"), "date"),
        Field("note", N_("Note"), attrs={"maxlength": "500"}),
    ]


def _document_fields(p: Page, s: Subject) -> list[Field]:
    zh = i18n.short(p.lang) == "zh"
    doc_types = {k: (v[0] if zh else v[1]) for k, v in DOCUMENT_TYPE_NAMES.items()}
    return [
        Field("doc_type", N_("Document type"), "select", required=True, options=doc_types, translate=False),
        Field("number", N_("Document number"), required=True, attrs={"maxlength": "40"}),
        Field("country", N_("Issuing country (passports, three-letter code)"), attrs={"maxlength": "3"}),
        Field("valid_from", N_("Valid from"), "date"),
    ]


def _member_fields(p: Page, s: Subject) -> list[Field]:
    return [
        Field(
            "person_id",
            N_("Person"),
            "select",
            required=True,
            options=_occupants(p, s.dwelling_id),
            translate=False,
        ),
        Field(
            "relationship",
            N_("Relationship to the head"),
            "select",
            required=True,
            options=_code_names(p, "relationship"),
            translate=False,
        ),
        Field("effective", N_("From (default today)"), "date"),
    ]


def _birth_fields(p: Page, s: Subject) -> list[Field]:
    return [
        Field("name", N_("Name"), required=True, attrs={"maxlength": "50"}),
        Field("sex", N_("Sex"), "select", required=True, options=labels.SEX),
        Field("birth_date", N_("Birth date"), "date", required=True),
        Field(
            "relationship",
            N_("Relationship to the head"),
            "select",
            required=True,
            options=_code_names(p, "relationship"),
            translate=False,
        ),
        Field("resident_id", N_("Resident ID number (if already issued)"), attrs={"maxlength": "18"}),
    ]


PROPOSALS: dict[str, Proposing] = {
    "extension": Proposing(
        "extension",
        N_("Extension of stay"),
        N_("Submit the extension"),
        _extension_fields,
        ExtendIn,
        campaign.propose_extension,
    ),
    "move": Proposing(
        "move",
        N_("Move within the city"),
        N_("Submit the move"),
        _move_fields,
        MoveIn,
        proposals.propose_move,
    ),
    "document": Proposing(
        "document",
        N_("New document of a person"),
        N_("Submit the document"),
        _document_fields,
        DocumentAdd,
        proposals.propose_document,
    ),
    "member": Proposing(
        "member",
        N_("New member of a household"),
        N_("Submit the member"),
        _member_fields,
        MemberAdd,
        proposals.propose_member,
    ),
    "birth": Proposing(
        "birth",
        N_("Birth"),
        N_("Submit the birth"),
        _birth_fields,
        BirthIn,
        proposals.propose_birth,
        version_field="household_expected_version",
        id_field="household_id",
    ),
}


def _show(
    request: Request,
    p: Page,
    spec: Proposing,
    action_url: str,
    subject: Subject,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    returned: Any = None,
    status: int = 200,
) -> Response:
    fields = spec.fields(p, subject)
    if values is None and returned is not None:
        typed = review.payload_of(returned)
        values = {f.name: typed.get(f.name) for f in fields}
    notes = [subject.text] if subject.text else []
    hidden: dict[str, Any] = {"expected_version": subject.version}
    if returned is not None:
        notes.append(p.gettext(N_("Returned by the reviewer: %(why)s")) % {"why": returned.return_reason})
        hidden["change_set_id"] = returned.id
    back = (f"/web/collect/dwellings/{subject.dwelling_id}", p.gettext(N_("Back to the dwelling")))
    return form_page(
        request,
        p,
        title=spec.title,
        action=action_url,
        fields=fields,
        values=values or {},
        submit=spec.submit,
        testid=f"propose-{spec.action}",
        back=back if subject.dwelling_id else None,
        errors=errors,
        hidden=hidden,
        status=status,
        notes=notes,
    )


def _action_url(request: Request) -> str:
    """The form posts back to its own address, keeping where it was opened from (not the set being fixed)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "change_set"]
    query = "&".join(f"{k}={v}" for k, v in kept if v.isdigit())
    return request.url.path + (f"?{query}" if query else "")


def _form(request: Request, action: str, object_id: int, subject_of: Callable[[Page], Subject]) -> Response:
    spec = PROPOSALS[action]
    change_set = request.query_params.get("change_set") or ""
    with page(request) as p:
        returned = (
            review.returned_change_set(p.session, p.ctx, int(change_set)) if change_set.isdigit() else None
        )
        return _show(request, p, spec, _action_url(request), subject_of(p), returned=returned)


async def _submit(
    request: Request, action: str, object_id: int, subject_of: Callable[[Page], Subject]
) -> Response:
    spec = PROPOSALS[action]
    form = await request.form()
    with page(request) as p:
        subject = subject_of(p)
        fields = spec.fields(p, subject)
        values = values_of(form, fields)
        raw_id = str(form.get("change_set_id") or "")
        change_set_id = int(raw_id) if raw_id.isdigit() else None

        def write() -> Response:
            body: dict[str, Any] = {
                **blank_none(values),
                spec.version_field: str(form.get("expected_version") or "") or None,
            }
            args: tuple[Any, ...] = (object_id,)
            if spec.id_field is not None:
                body[spec.id_field] = object_id
                args = ()
            data = spec.model.model_validate(body, context=validation_context(p.ctx.today))
            policy = review.policy_of(request.app.state.settings)
            spec.propose(p.session, p.ctx, *args, data, change_set_id=change_set_id, policy=policy)
            target = (
                f"/web/collect/dwellings/{subject.dwelling_id}"
                if subject.dwelling_id
                else "/web/collect/outbox"
            )
            return redirect(target, flash="proposal_submitted")

        def refused(errors: dict[str, str]) -> Response:
            returned = review.returned_change_set(p.session, p.ctx, change_set_id) if change_set_id else None
            return _show(
                request,
                p,
                spec,
                _action_url(request),
                subject,
                values=values,
                errors=errors,
                returned=returned,
                status=422,
            )

        return attempt(p, write, refused)


@router.get("/collect/residences/{residence_id}/extension")
def extension_form(request: Request, residence_id: int) -> Response:
    """Propose an extension of the intended stay (续住); `change_set` fixes a returned one."""
    return _form(request, "extension", residence_id, lambda p: _residence(p, residence_id))


@router.post("/collect/residences/{residence_id}/extension")
async def propose_extension(request: Request, residence_id: int) -> Response:
    """Submit the extension for review (written once approved)."""
    return await _submit(request, "extension", residence_id, lambda p: _residence(p, residence_id))


@router.get("/collect/residences/{residence_id}/move")
def move_form(request: Request, residence_id: int) -> Response:
    """Propose a move within the city (市内迁移) to another dwelling; `change_set` fixes a returned one."""
    return _form(request, "move", residence_id, lambda p: _residence(p, residence_id))


@router.post("/collect/residences/{residence_id}/move")
async def propose_move(request: Request, residence_id: int) -> Response:
    """Submit the move for review (both residences written once approved)."""
    return await _submit(request, "move", residence_id, lambda p: _residence(p, residence_id))


def _dwelling_param(request: Request) -> int | None:
    raw = request.query_params.get("dwelling_id") or ""
    return int(raw) if raw.isdigit() else None


@router.get("/collect/persons/{person_id}/document")
def document_form(request: Request, person_id: int) -> Response:
    """Propose a document of a person (e.g. a new residence card); `change_set` fixes a returned one."""
    where = _dwelling_param(request)
    return _form(request, "document", person_id, lambda p: _person(p, person_id, where))


@router.post("/collect/persons/{person_id}/document")
async def propose_document(request: Request, person_id: int) -> Response:
    """Submit the document for review (added once approved)."""
    where = _dwelling_param(request)
    return await _submit(request, "document", person_id, lambda p: _person(p, person_id, where))


@router.get("/collect/households/{household_id}/member")
def member_form(request: Request, household_id: int) -> Response:
    """Propose one of the dwelling's occupants as a member of the household; `change_set` fixes a returned one."""
    return _form(request, "member", household_id, lambda p: _household(p, household_id))


@router.post("/collect/households/{household_id}/member")
async def propose_member(request: Request, household_id: int) -> Response:
    """Submit the member for review (joins once approved)."""
    return await _submit(request, "member", household_id, lambda p: _household(p, household_id))


@router.get("/collect/households/{household_id}/birth")
def birth_form(request: Request, household_id: int) -> Response:
    """Propose a newborn of the household (出生登记); `change_set` fixes a returned one."""
    return _form(request, "birth", household_id, lambda p: _household(p, household_id))


@router.post("/collect/households/{household_id}/birth")
async def propose_birth(request: Request, household_id: int) -> Response:
    """Submit the birth for review (the newborn counts once approved)."""
    return await _submit(request, "birth", household_id, lambda p: _household(p, household_id))
