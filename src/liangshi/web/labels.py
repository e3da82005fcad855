"""Display names of the registry's vocabularies (messages translated in templates with `_()`)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from liangshi.errors import LiangshiError
from liangshi.web.i18n import N_, short

OUTCOMES = {
    "occupied": N_("Occupied"),
    "vacant": N_("Vacant"),
    "nobody_home": N_("Nobody home"),
    "refused": N_("Refused"),
}
DWELLING_STATUS = {
    **OUTCOMES,
    "rented": N_("Rented"),
    "demolished": N_("Demolished"),
    "unknown": N_("Not yet known"),
}
VISIT_STATUS = {
    "not_visited": N_("Not visited"),
    "visited": N_("Visited"),
    "partly_visited": N_("Partly visited"),
}
CATEGORIES = {
    "resident": N_("Resident at hukou place"),
    "separated": N_("Hukou elsewhere in the city"),
    "floating": N_("Floating (from outside the city)"),
    "lodging": N_("Lodging"),
    "unregistered": N_("No hukou"),
    "overseas": N_("Overseas"),
}
DEREG_REASONS = {
    "moved_within_city": N_("Moved within the city"),
    "left_city": N_("Left the city"),
    "returned_home": N_("Returned home"),
    "went_abroad": N_("Went abroad"),
    "died": N_("Died"),
    "other": N_("Other"),
}
SEX = {"1": N_("Male"), "2": N_("Female"), "0": N_("Unknown"), "9": N_("Not stated")}
ATTRIBUTES = {
    "name": N_("Name"),
    "sex": N_("Sex"),
    "birth_date": N_("Birth date"),
    "ethnicity": N_("Ethnicity"),
    "nationality": N_("Nationality"),
    "hukou_region": N_("Hukou region"),
    "hukou_address": N_("Hukou address"),
    "education": N_("Education"),
    "marital_status": N_("Marital status"),
    "occupation": N_("Occupation"),
    "workplace": N_("Workplace"),
    "phone": N_("Phone"),
}
SOURCES = {
    "collector": N_("Collector"),
    "department": N_("Department"),
    "venue": N_("Venue"),
    "system": N_("System"),
    "import": N_("Import"),
}
EVENTS = {
    "residence": N_("Residence"),
    "rental_landlord": N_("Landlord of a rental"),
    "rental_tenant": N_("Tenant"),
    "permit": N_("Residence permit"),
    "stay": N_("Hotel or internet café stay"),
}
TONE = {
    "occupied": "ok",
    "visited": "ok",
    "rented": "ok",
    "vacant": "warn",
    "partly_visited": "warn",
    "nobody_home": "warn",
    "refused": "bad",
    "not_visited": "bad",
    "demolished": "bad",
}

ALL = {
    "outcomes": OUTCOMES,
    "dwelling_status": DWELLING_STATUS,
    "visit_status": VISIT_STATUS,
    "categories": CATEGORIES,
    "dereg_reasons": DEREG_REASONS,
    "sex": SEX,
    "tone": TONE,
    "attributes": ATTRIBUTES,
    "sources": SOURCES,
    "events": EVENTS,
}


def form_errors(exc: ValidationError | LiangshiError, lang: str) -> dict[str, str]:
    """Field → message in the page language, from a pydantic or domain validation error."""
    zh = short(lang) == "zh"
    if isinstance(exc, LiangshiError):
        field = str(exc.data.get("field") or "_form")
        return {field: exc.message(short(lang))}
    errors: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if not isinstance(p, int)]
        field = loc[-1] if loc else "_form"
        ctx: dict[str, Any] = dict(err.get("ctx") or {})
        if err.get("type") == "missing":
            message = "必填" if zh else "Required"
        elif "zh" in ctx:
            message = str(ctx["zh"] if zh else ctx.get("en", err.get("msg")))
        else:
            message = ("格式不正确：" if zh else "Invalid: ") + str(err.get("msg", ""))
        errors.setdefault(field, message)
    return errors
