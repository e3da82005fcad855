"""Simple object forms for the thin web pages over the services: a field list rendered by one template, the
posted values read back, and a refused write shown in place (422) with nothing written."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError

from liangshi.errors import LiangshiError
from liangshi.web.labels import form_errors
from liangshi.web.render import render
from liangshi.web.session import Page


@dataclass(frozen=True)
class Field:
    """One input: `kind` is an input type (text, number, date) or `select` (with `options`: code → label)."""

    name: str
    label: str  # an N_() message
    kind: str = "text"
    required: bool = False
    options: Mapping[str, str] = field(default_factory=dict)
    translate: bool = True  # options are N_() messages (False: names of a code table, shown as they are)
    attrs: Mapping[str, str] = field(default_factory=dict)


def values_of(form: Any, fields: list[Field]) -> dict[str, str]:
    """The posted values of the fields, stripped."""
    return {f.name: str(form.get(f.name) or "").strip() for f in fields}


def blank_none(values: Mapping[str, str], keep: list[Field] | None = None) -> dict[str, Any]:
    """The values with empty strings as None (what the schemas expect for a field left out); with `keep`, an
    empty required field is left out instead (a change form never clears what must have a value)."""
    required = {f.name for f in keep or [] if f.required}
    return {k: (v or None) for k, v in values.items() if v or k not in required}


def form_page(
    request: Request,
    p: Page,
    *,
    title: str,
    action: str,
    fields: list[Field],
    values: Mapping[str, Any],
    submit: str,
    testid: str,
    back: tuple[str, str] | None = None,
    errors: dict[str, str] | None = None,
    hidden: Mapping[str, Any] | None = None,
    status: int = 200,
    notes: list[str] | None = None,
) -> Response:
    """Render a form page (`forms/object.html`); `notes`: lines above the form, already in the page language."""
    return render(
        request,
        "forms/object.html",
        p,
        status=status,
        title=title,
        action=action,
        fields=fields,
        values={k: ("" if v is None else v) for k, v in values.items()},
        submit=submit,
        testid=testid,
        back=back,
        errors=errors or {},
        hidden=hidden or {},
        notes=notes or [],
    )


def attempt(
    p: Page, write: Callable[[], Response], refused: Callable[[dict[str, str]], Response]
) -> Response:
    """Run a write; a validation error or a domain refusal (409/422) rolls back and re-shows the form."""
    try:
        return write()
    except (ValidationError, LiangshiError) as exc:
        if isinstance(exc, LiangshiError) and exc.http_status not in (409, 422):
            raise
        p.session.rollback()
        return refused(form_errors(exc, p.lang))


def change(p: Page, kind: Any, object_id: int, data: Any, check: Any = None) -> Any:
    """A PATCH from a form: the attributes the form set, from `effective`, through the registry's write path
    (the same call as the API's PATCH route). Only the values that differ from the current version are sent;
    a form saved unchanged writes nothing (None)."""
    # Imported here: the registry is the kernel; only writes from a form need it in this module.
    from liangshi import registry

    current = registry.read(p.session, p.ctx, kind, object_id).row
    asked = data.model_dump(exclude_unset=True, include=set(kind.attributes))
    changes = {k: v for k, v in asked.items() if getattr(current, k) != v}
    if not changes:
        return None
    return registry.change(
        p.session,
        p.ctx,
        kind,
        object_id,
        changes,
        expected_version=data.expected_version,
        effective=data.effective,
        prov=data.provenance.to_domain(p.ctx.actor.username),
        reason=data.reason,
        check=check,
    )
