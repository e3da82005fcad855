"""Inspection routes: plans and their samples, results, rates, rectification items; the statistics themselves."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from liangshi.http.errors import language
from liangshi.http.tx import unit
from liangshi.inspections import rules, service
from liangshi.inspections.schemas import (
    PlanCreate,
    PlanRead,
    RectificationRead,
    ResultCreate,
    ResultRead,
    SampledHousehold,
)

router = APIRouter(tags=["inspections 检查验收"])


class Reinspection(BaseModel):
    """The outcome of a re-inspection (复查)."""

    passed: bool


@router.post(
    "/inspections/plans", response_model=PlanRead, status_code=201, summary="Draw an inspection plan"
)
def create_plan(body: PlanCreate, request: Request) -> PlanRead:
    """A stratified random sample of households per community from a stored seed, with each lot's (n, Ac)."""
    with unit(request) as (session, ctx):
        return service.create_plan(session, ctx, body)


@router.get("/inspections/plans", summary="Inspection plans in your jurisdiction")
def list_plans(request: Request) -> list[dict[str, Any]]:
    """Newest first."""
    with unit(request) as (session, ctx):
        return [
            {"id": p.id, "name": p.name, "area_id": p.area_id, "seed": p.seed, "created_at": p.created_at}
            for p in service.plans_of(session, ctx)
        ]


@router.get("/inspections/plans/{plan_id}", response_model=PlanRead, summary="An inspection plan")
def read_plan(plan_id: int, request: Request) -> PlanRead:
    """The plan with each lot's sample size, (n, Ac), progress and decision."""
    with unit(request) as (session, ctx):
        return service.plan_read(session, ctx, plan_id)


@router.get(
    "/inspections/plans/{plan_id}/sample",
    response_model=list[SampledHousehold],
    summary="The households drawn",
)
def read_sample(plan_id: int, request: Request) -> list[SampledHousehold]:
    """Every sampled household, by community."""
    with unit(request) as (session, ctx):
        return service.sample_of(session, ctx, plan_id)


@router.get("/inspections/plans/{plan_id}/redraw", summary="Redraw the sample from the stored seed")
def redraw(plan_id: int, request: Request) -> dict[str, Any]:
    """Whether drawing again from the seed and the frame as known then gives the stored sample."""
    with unit(request) as (session, ctx):
        return service.redraw(session, ctx, plan_id)


@router.get("/inspections/plans/{plan_id}/lots/{lot_id}/oc", summary="A lot's operating characteristic")
def oc_curve(plan_id: int, lot_id: int, request: Request) -> list[dict[str, float]]:
    """P(accept) against the lot's defect rate, from 0 to twice the LQ."""
    with unit(request) as (session, ctx):
        return [{"p": p, "accept": a} for p, a in service.oc_curve(session, ctx, plan_id, lot_id)]


@router.post(
    "/inspections/plans/{plan_id}/households/{household_id}/result",
    response_model=ResultRead,
    status_code=201,
    summary="Record what was found at a sampled household",
)
def record_result(plan_id: int, household_id: int, body: ResultCreate, request: Request) -> ResultRead:
    """Refused for a household not in the sample, a second result, or a household you collected yourself."""
    with unit(request) as (session, ctx):
        return service.record_result(session, ctx, plan_id, household_id, body)


@router.get("/inspections/plans/{plan_id}/rates", summary="The five sample-based rates")
def rates(plan_id: int, request: Request) -> dict[str, Any]:
    """Per community with Wilson intervals, and rolled up with household weights."""
    with unit(request) as (session, ctx):
        report = service.rates(session, ctx, plan_id)
        return {
            "plan_id": report["plan_id"],
            "overall": [r.model_dump() for r in report["overall"]],
            "lots": [{**lot, "rates": [r.model_dump() for r in lot["rates"]]} for lot in report["lots"]],
        }


@router.get("/inspections/plans/{plan_id}/collectors", summary="Defects per collector (谁采集谁负责)")
def collectors(plan_id: int, request: Request) -> list[dict[str, Any]]:
    """Per collector: households inspected, defective, defect rate with its Wilson interval."""
    with unit(request) as (session, ctx):
        return service.accountability(session, ctx, plan_id)


@router.get("/inspections/plans/{plan_id}/coverage", summary="People the register missed (不漏人)")
def coverage(plan_id: int, request: Request) -> dict[str, Any]:
    """Chapman per community over the re-canvassed households, extended to the community and summed."""
    with unit(request) as (session, ctx):
        return service.coverage(session, ctx, plan_id)


@router.get(
    "/inspections/rectifications",
    response_model=list[RectificationRead],
    summary="The 通报 list of 整改 items",
)
def notices(request: Request, all_items: bool = Query(False, alias="all")) -> list[RectificationRead]:
    """Open (and overdue) rectification items in your jurisdiction; `all=true` adds the closed ones."""
    with unit(request) as (session, ctx):
        return service.notices(session, ctx, only_open=not all_items)


@router.post(
    "/inspections/rectifications/{item_id}/fix",
    response_model=RectificationRead,
    summary="Report an item rectified",
)
def fix(item_id: int, request: Request) -> RectificationRead:
    """The item then waits for its re-inspection."""
    with unit(request) as (session, ctx):
        return service.fix_rectification(session, ctx, item_id)


@router.post(
    "/inspections/rectifications/{item_id}/reinspect",
    response_model=RectificationRead,
    summary="Re-inspect a rectified item",
)
def reinspect(item_id: int, body: Reinspection, request: Request) -> RectificationRead:
    """Closed when it passes, open again when not."""
    with unit(request) as (session, ctx):
        return service.reinspect(session, ctx, item_id, passed=body.passed)


@router.get("/stats/wilson", summary="Wilson interval")
def wilson(x: int, n: int, z: float = rules.Z95) -> dict[str, float]:
    """`{"low","high","centre"}` for x of n."""
    return rules.wilson(x, n, z).to_json()


@router.get("/stats/sample-size", summary="Sample size with the finite-population correction")
def sample_size(margin: float, p: float, population: int, z: float = rules.Z95) -> dict[str, int]:
    """`{"n"}`."""
    return {"n": rules.sample_size(margin, p, population, z)}


@router.get("/stats/acceptance-plan", summary="Single sampling plan (n, Ac)")
def acceptance_plan(
    lot: int,
    aql: float,
    lq: float,
    alpha: float,
    beta: float,
    model: Literal["binomial", "hypergeometric"] = "binomial",
) -> dict[str, int]:
    """`{"n","ac"}` with n the smallest meeting both risks."""
    return rules.acceptance_plan(lot, aql, lq, alpha, beta, model).to_json()


@router.get("/stats/chapman", summary="Chapman's two-system estimate")
def chapman(n1: int, n2: int, m: int, z: float = rules.Z95) -> dict[str, float]:
    """`{"estimate","variance","low","high"}`."""
    return rules.chapman(n1, n2, m, z).to_json()


class ScoresQuery(BaseModel):
    """A period's collector scores with a scoring sheet of your own (the sections and items of the default)."""

    area: str = Field(..., max_length=15, description="Area code")
    date_from: dt.date = Field(..., alias="from")
    date_to: dt.date = Field(..., alias="to")
    sheet: dict[str, Any] = Field(
        default_factory=dict, description="volume / upkeep / quality / reward / penalty"
    )


def _scores(
    request: Request, area: str, date_from: dt.date, date_to: dt.date, sheet: dict[str, Any] | None
) -> Any:
    with unit(request) as (session, ctx):
        return service.collector_report(
            session,
            ctx,
            area_code=area,
            date_from=date_from,
            date_to=date_to,
            sheet=rules.scoring_sheet(sheet) if sheet is not None else None,
        )


@router.get("/accountability", summary="Collector scores of a period (谁采集、谁录入、谁负责)")
def accountability(
    request: Request,
    area: str = Query(..., max_length=15, description="Area code"),
    date_from: dt.date = Query(..., alias="from"),
    date_to: dt.date = Query(..., alias="to"),
) -> dict[str, Any]:
    """Per collector: defects traced to them (inspection, review, checks) with Wilson intervals, timeliness, the
    score on the default sheet, and the 奖惩 lists."""
    result: dict[str, Any] = _scores(request, area, date_from, date_to, None)
    return result


@router.post("/accountability", summary="Collector scores on your own scoring sheet")
def accountability_with_sheet(body: ScoresQuery, request: Request) -> dict[str, Any]:
    """The same report with the weights and thresholds of the sheet given (unknown items are refused)."""
    result: dict[str, Any] = _scores(request, body.area, body.date_from, body.date_to, body.sheet)
    return result


@router.get("/accountability.xlsx", summary="Collector scores as xlsx", response_class=Response)
def accountability_xlsx(
    request: Request,
    area: str = Query(..., max_length=15, description="Area code"),
    date_from: dt.date = Query(..., alias="from"),
    date_to: dt.date = Query(..., alias="to"),
) -> Response:
    """Group headers (volume, upkeep, inspection, review, checks, timeliness, score) and the 奖惩 column."""
    report = _scores(request, area, date_from, date_to, None)
    body = service.report_workbook(report, language(request))
    name = f"accountability-{area}-{date_from}-{date_to}.xlsx"
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"},
    )


@router.get("/inspections/trends", summary="The five sample-based rates month by month")
def trends(
    request: Request,
    area: str = Query(..., max_length=15, description="Area code"),
    date_from: dt.date = Query(..., alias="from"),
    date_to: dt.date = Query(..., alias="to"),
) -> dict[str, Any]:
    """Per month of inspection: each rate with its Wilson 95 % interval, sample size and target met (lower bound)."""
    with unit(request) as (session, ctx):
        return service.monthly_rates(session, ctx, area_code=area, date_from=date_from, date_to=date_to)


@router.get("/inspections/plans/{plan_id}/coverage/housing", summary="People missed, by area × housing type")
def coverage_by_housing(plan_id: int, request: Request) -> dict[str, Any]:
    """Chapman per post-stratum (community × the building use of the household's dwelling), extended, summed."""
    with unit(request) as (session, ctx):
        return service.coverage_by_housing(session, ctx, plan_id)


@router.get(
    "/inspections/plans/{plan_id}/coverage/age",
    summary="People missed, by area × housing type × age band",
)
def coverage_by_age(plan_id: int, request: Request) -> dict[str, Any]:
    """Chapman per post-stratum (community × housing type × age band of the re-canvass), extended, summed."""
    with unit(request) as (session, ctx):
        return service.coverage_by_age(session, ctx, plan_id)
