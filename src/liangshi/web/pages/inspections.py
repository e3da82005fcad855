"""Checking and acceptance (检查验收) pages: plans and their OC curves, the phone form of a sampled household's
check, the five rates with their intervals, and the 通报 list of rectification items."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from liangshi.areas import service as areas
from liangshi.errors import LiangshiError
from liangshi.inspections import rules
from liangshi.inspections import service as inspections
from liangshi.inspections.schemas import PlanCreate, ResultCreate
from liangshi.persons import rules as person_rules
from liangshi.web import i18n
from liangshi.web.i18n import N_
from liangshi.web.labels import ATTRIBUTES, form_errors
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.pages.housing import BUILDING_USES
from liangshi.web.pages.inspect_offline import AGE_BAND_LABELS
from liangshi.web.pages.places import script_json
from liangshi.web.render import redirect, register_flash, render
from liangshi.web.session import Page, page

router = web_router()
add_nav(NavItem("/web/inspections", N_("Inspections"), "inspection.read", order=35))
# The owners report items rectified (inspection.rectify); the inspectors re-inspect them (inspection.record).
add_nav(
    NavItem("/web/rectifications", N_("Rectification"), ("inspection.rectify", "inspection.record"), order=36)
)
register_flash("inspection_drawn", N_("The sample was drawn."))
register_flash("inspection_recorded", N_("The result was recorded."))
register_flash("rectification_fixed", N_("The item was reported rectified."))
register_flash("rectification_reinspected", N_("The re-inspection was recorded."))

PLAN_FIELDS = (
    "name",
    "seed",
    "margin",
    "expected_rate",
    "aql",
    "lq",
    "alpha",
    "beta",
    "model",
    "rectify_days",
)
DECISIONS = {"accepted": N_("Accepted"), "rejected": N_("Rejected"), None: N_("Pending")}
STATUSES = {"open": N_("Open"), "fixed": N_("Rectified, awaiting re-inspection"), "closed": N_("Closed")}


def _is_form_error(exc: Exception) -> bool:
    return isinstance(exc, ValidationError) or (
        isinstance(exc, LiangshiError) and exc.http_status in (403, 409, 422)
    )


def _plans_page(
    request: Request, p: Page, *, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None
) -> Response:
    plans = inspections.plans_of(p.session, p.ctx)
    return render(
        request,
        "inspections.html",
        p,
        status=422 if errors else 200,
        plans=plans,
        values=values
        or {
            "name": "",
            "margin": 0.05,
            "expected_rate": 0.95,
            "aql": 0.02,
            "lq": 0.1,
            "alpha": 0.05,
            "beta": 0.1,
            "model": "auto",
            "rectify_days": 10,
        },
        errors=errors or {},
        area_id=p.ctx.actor.area_id,
    )


@router.get("/inspections")
def plans(request: Request) -> Response:
    """The inspection plans of the jurisdiction, and the form to draw a new one."""
    with page(request) as p:
        return _plans_page(request, p)


@router.post("/inspections")
def draw(
    request: Request,
    area_code: Annotated[str, Form(max_length=15)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    seed: Annotated[str, Form(max_length=20)] = "",
    margin: Annotated[str, Form(max_length=10)] = "0.05",
    expected_rate: Annotated[str, Form(max_length=10)] = "0.95",
    aql: Annotated[str, Form(max_length=10)] = "0.02",
    lq: Annotated[str, Form(max_length=10)] = "0.1",
    alpha: Annotated[str, Form(max_length=10)] = "0.05",
    beta: Annotated[str, Form(max_length=10)] = "0.1",
    model: Annotated[str, Form(max_length=16)] = "auto",
    rectify_days: Annotated[str, Form(max_length=3)] = "10",
) -> Response:
    """Draw a plan (as POST /inspections/plans does) and show it."""
    values = {
        "area_code": area_code,
        "name": name,
        "seed": seed,
        "margin": margin,
        "expected_rate": expected_rate,
        "aql": aql,
        "lq": lq,
        "alpha": alpha,
        "beta": beta,
        "model": model,
        "rectify_days": rectify_days,
    }
    with page(request) as p:
        try:
            area = areas.by_code(p.session, area_code) if area_code else None
            data = PlanCreate.model_validate(
                {
                    **{k: v for k, v in values.items() if k != "area_code" and v != ""},
                    "area_id": area.id if area else p.ctx.actor.area_id,
                }
            )
            plan = inspections.create_plan(p.session, p.ctx, data)
        except (ValidationError, LiangshiError) as exc:
            if not _is_form_error(exc) and not (isinstance(exc, LiangshiError) and exc.http_status == 404):
                raise
            p.session.rollback()
            return _plans_page(request, p, values=values, errors=form_errors(exc, p.lang))
        return redirect(f"/web/inspections/{plan.id}", flash="inspection_drawn")


@router.get("/inspections/{plan_id}")
def plan(request: Request, plan_id: int, lot: int | None = None) -> Response:
    """A plan: each lot's sample and (n, Ac) with the OC curve, the five rates, the households drawn."""
    with page(request) as p:
        read = inspections.plan_read(p.session, p.ctx, plan_id)
        en = i18n.short(p.lang) == "en"
        chosen = next((x for x in read.lots if x.id == lot), read.lots[0] if read.lots else None)
        curve = inspections.oc_curve(p.session, p.ctx, plan_id, chosen.id) if chosen else []
        report = inspections.rates(p.session, p.ctx, plan_id)
        for r in [*report["overall"], *[x for lr in report["lots"] for x in lr["rates"]]]:
            r.label_zh = r.label_en if en else r.label_zh
        chart = {
            "points": [[round(x * 100, 2), round(a * 100, 2)] for x, a in curve],
            "aql": read.aql * 100,
            "lq": read.lq * 100,
            "names": {
                "x": p.gettext("Defective households in the lot (%)"),
                "y": p.gettext("Probability of acceptance (%)"),
            },
            "title": (
                f"{chosen.community_name} n={chosen.plan_n} Ac={chosen.ac} ({chosen.model})" if chosen else ""
            ),
        }
        return render(
            request,
            "inspection.html",
            p,
            plan=read,
            chosen=chosen,
            decisions=DECISIONS,
            overall=report["overall"],
            per_lot=report["lots"],
            sample=inspections.sample_of(p.session, p.ctx, plan_id),
            coverage=inspections.coverage(p.session, p.ctx, plan_id),
            collectors=inspections.accountability(p.session, p.ctx, plan_id),
            chart=script_json(chart),
        )


HOUSING_TYPES = {**BUILDING_USES, "none": N_("No building recorded")}


def _number(value: Any) -> float | None:
    """A figure of the report, or None where it is missing or not a number (never shown as NaN)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@router.get("/inspections/{plan_id}/coverage")
def coverage_by_age(request: Request, plan_id: int) -> Response:
    """不漏人 by area × housing type × age band: per post-stratum N1, N2, M, Chapman's estimate with its interval,
    the estimated missed with its variance and interval; the total (as GET /inspections/plans/{id}/coverage/age)."""
    with page(request) as p:
        read = inspections.plan_read(p.session, p.ctx, plan_id)
        report = inspections.coverage_by_age(p.session, p.ctx, plan_id)
        names = {lot.community_code: lot.community_name for lot in read.lots}
        strata = []
        for s in report["strata"]:
            kind = str(s["housing_type"])
            figures = {
                k: _number(s.get(k))
                for k in ("estimate", "low", "high", "missed", "variance", "missed_low", "missed_high")
            }
            strata.append(
                {
                    **s,
                    **figures,
                    "community_name": names.get(s["community_code"], s["community_code"]),
                    "housing_label": p.gettext(HOUSING_TYPES[kind]) if kind in HOUSING_TYPES else kind,
                    "band_label": p.gettext(AGE_BAND_LABELS.get(s["age_band"], s["age_band"])),
                    "empty": not (s["n1"] or s["n2"]),
                }
            )
        total = {k: _number(report.get(k)) for k in ("missed", "variance", "low", "high")}
        return render(request, "inspection_coverage.html", p, plan=read, strata=strata, total=total)


def _result_page(
    request: Request,
    p: Page,
    plan_id: int,
    household_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    read = inspections.plan_read(p.session, p.ctx, plan_id)
    drawn = next(
        (s for s in inspections.sample_of(p.session, p.ctx, plan_id) if s.household_id == household_id), None
    )
    return render(
        request,
        "inspection_result.html",
        p,
        status=422 if errors else 200,
        plan=read,
        household_id=household_id,
        drawn=drawn,
        values=values or ({"persons_registered": drawn.members} if drawn else {}),
        errors=errors or {},
        fields=rules.RESULT_FIELDS,
        general_items=person_rules.GENERAL_ITEMS,
        item_labels=ATTRIBUTES,
        bands=AGE_BAND_LABELS,
        band_fields=BAND_FIELDS,
    )


@router.get("/inspections/{plan_id}/households/{household_id}")
def result_form(request: Request, plan_id: int, household_id: int) -> Response:
    """The phone form of one sampled household's check."""
    with page(request) as p:
        return _result_page(request, p, plan_id, household_id)


# The result's counts and the counts per age band, as the service checks them.
RESULT_COUNTS = rules.RESULT_FIELDS
BAND_FIELDS = rules.BAND_FIELDS


def _bands_of(form: Any) -> tuple[dict[str, str], list[dict[str, str]] | None]:
    """The age-band fields (`band__<band>__<count>`) as the form posted them, and the bands the offline app would
    send for them: each band with a count, in the order posted; None when no band field was filled (the household
    then counts as age unknown). A band the form does not know is passed on, so the result's check refuses it."""
    raw: dict[str, str] = {}
    bands: dict[str, dict[str, str]] = {}
    for key, value in form.multi_items():
        parts = str(key).split("__")
        if len(parts) != 3 or parts[0] != "band" or parts[2] not in BAND_FIELDS:
            continue
        text = str(value).strip()
        raw[str(key)] = text
        if text:
            bands.setdefault(parts[1], {})[parts[2]] = text
    chosen = [
        {"age_band": band, **counts}
        for band, counts in bands.items()
        if any(v != "0" for v in counts.values())
    ]
    return raw, chosen if bands else None


@router.post("/inspections/{plan_id}/households/{household_id}")
async def record(request: Request, plan_id: int, household_id: int) -> Response:
    """Record the check (as POST /inspections/plans/{id}/households/{household}/result does), with the persons per
    age band as the offline inspection app sends them."""
    form = await request.form()
    values: dict[str, Any] = {k: str(form.get(k) or "").strip() for k in RESULT_COUNTS}
    for k in (
        "floating_found",
        "floating_registered",
        "floating_right",
        "persons_missed",
        "persons_unconfirmed",
    ):
        values[k] = values[k] or "0"
    # Left empty, these two are what the service infers when it can (none wrong; none registered), or asks for.
    optional = ("general_items_wrong", "floating_entered")
    values["count_matches"] = str(form.get("count_matches") or "")[:5]
    values["note"] = str(form.get("note") or "")
    raw_bands, bands = _bands_of(form)
    values["bands"] = raw_bands
    with page(request) as p:
        too_long = [
            k for k, v in [*values.items(), *raw_bands.items()] if k not in ("bands", "note") and len(v) > 4
        ]
        if too_long:
            message = p.gettext("A count has at most four digits.")
            return _result_page(
                request, p, plan_id, household_id, values=values, errors=dict.fromkeys(too_long, message)
            )
        try:
            data = ResultCreate.model_validate(
                {
                    **{k: (values[k] or None) if k in optional else values[k] for k in RESULT_COUNTS},
                    "count_matches": values["count_matches"] == "yes",
                    "note": values["note"] or None,
                    "bands": bands,
                }
            )
            inspections.record_result(p.session, p.ctx, plan_id, household_id, data)
        except (ValidationError, LiangshiError) as exc:
            if not _is_form_error(exc):
                raise
            p.session.rollback()
            return _result_page(
                request, p, plan_id, household_id, values=values, errors=form_errors(exc, p.lang)
            )
        return redirect(f"/web/inspections/{plan_id}", flash="inspection_recorded")


@router.get("/rectifications")
def rectifications(request: Request, all_items: bool = False) -> Response:
    """The 通报 list: open and overdue rectification items in the jurisdiction."""
    with page(request) as p:
        items = inspections.notices(p.session, p.ctx, only_open=not all_items)
        return render(request, "rectifications.html", p, items=items, statuses=STATUSES, all_items=all_items)


@router.post("/rectifications/{item_id}/fix")
def fix(request: Request, item_id: int) -> Response:
    """Report an item rectified."""
    with page(request) as p:
        inspections.fix_rectification(p.session, p.ctx, item_id)
        return redirect("/web/rectifications", flash="rectification_fixed")


@router.post("/rectifications/{item_id}/reinspect")
def reinspect(request: Request, item_id: int, passed: Annotated[str, Form(max_length=5)] = "") -> Response:
    """Record the re-inspection of a rectified item."""
    with page(request) as p:
        inspections.reinspect(p.session, p.ctx, item_id, passed=passed == "yes")
        return redirect("/web/rectifications", flash="rectification_reinspected")
