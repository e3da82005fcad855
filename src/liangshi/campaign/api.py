"""Campaign routes: visits of a dwelling (idempotent); campaigns, teams, assignments and completeness progress."""

from typing import Any

from fastapi import APIRouter, Body, Query, Request, Response

from liangshi.campaign import declarations, organisation, progress, proposals, rules, service, sync
from liangshi.campaign.schemas import (
    AssignmentCreate,
    AssignmentRead,
    BulkResult,
    CampaignRead,
    DeclarationIn,
    DeclineIn,
    DeparturesFound,
    HouseholdCountIn,
    MemberIn,
    PersonAtDwelling,
    PersonsFound,
    ProgressReport,
    ReassignIn,
    ReturnIn,
    SyncBatch,
    SyncResult,
    TeamCreate,
    TeamRead,
    VisitCreate,
    VisitRead,
)
from liangshi.errors import ValidationFailed
from liangshi.http.tx import anonymous, unit
from liangshi.persons.schemas import DocumentAdd, HouseholdCreate, MemberAdd, MemberEnd
from liangshi.residence.schemas import BirthIn, DepartureIn, ExtendIn, MoveIn
from liangshi.review import service as review
from liangshi.review.schemas import ChangeSetRead

router = APIRouter(tags=["campaign 入户采集"])
CAMPAIGN_BODY = Body(
    ...,
    examples=[
        {
            "name": "2026年两实采集",
            "area": "420704001",
            "starts_on": "2026-03-01",
            "pilots": ["420704001001"],
            "rollout_on": "2026-05-01",
            "yellow_days": 3,
            "calendar": {"holidays": ["2026-10-01..2026-10-07"], "workdays": ["2026-09-27"]},
        }
    ],
)


@router.post(
    "/dwellings/{dwelling_id}/visits",
    response_model=VisitRead,
    status_code=201,
    summary="Record a visit (入户走访), idempotent",
)
def record_visit(dwelling_id: int, body: VisitCreate, request: Request, response: Response) -> VisitRead:
    """The occupancy found and the persons confirmed; a repeated idempotency key answers 200 with the first visit."""
    with unit(request) as (session, ctx):
        policy = review.policy_of(request.app.state.settings)
        visit = service.record_visit(session, ctx, dwelling_id, body, policy=policy)
        if visit.replayed:
            response.status_code = 200
        return visit


@router.get("/dwellings/{dwelling_id}/visits", response_model=list[VisitRead], summary="A dwelling's visits")
def list_visits(dwelling_id: int, request: Request) -> list[VisitRead]:
    """Visits of a dwelling in your jurisdiction, newest first."""
    with unit(request) as (session, ctx):
        return service.visits_of(session, ctx, dwelling_id)


# ---- the campaign's organisation and progress ----------------------------------------------------------------


@router.post("/campaigns", response_model=CampaignRead, status_code=201, summary="Set up a campaign")
def create_campaign(request: Request, body: dict[str, Any] = CAMPAIGN_BODY) -> CampaignRead:
    """A campaign from the same document as `liangshi campaign create --file` (phases default to the seed's five)."""
    with unit(request) as (session, ctx):
        ctx.actor.ensure("campaign.manage")
        return organisation.create_campaign(session, ctx, rules.parse_campaign(body))


@router.get("/campaigns", response_model=list[CampaignRead], summary="Campaigns over your area")
def list_campaigns(request: Request) -> list[CampaignRead]:
    """Campaigns over, inside or above your jurisdiction, newest first."""
    with unit(request) as (session, ctx):
        return organisation.list_campaigns(session, ctx)


@router.get("/campaigns/{campaign_id}", response_model=CampaignRead, summary="A campaign")
def get_campaign(campaign_id: int, request: Request) -> CampaignRead:
    """A campaign with its phases (status as of today) and pilot areas."""
    with unit(request) as (session, ctx):
        return organisation.read_campaign(session, ctx, organisation.get_campaign(session, ctx, campaign_id))


@router.post(
    "/campaigns/{campaign_id}/teams", response_model=TeamRead, status_code=201, summary="Form a team"
)
def create_team(campaign_id: int, body: TeamCreate, request: Request) -> TeamRead:
    """A community's team (专班) with its members and their roles."""
    with unit(request) as (session, ctx):
        return organisation.create_team(session, ctx, campaign_id, body)


@router.get("/campaigns/{campaign_id}/teams", response_model=list[TeamRead], summary="A campaign's teams")
def list_teams(campaign_id: int, request: Request) -> list[TeamRead]:
    """The campaign's teams in your jurisdiction."""
    with unit(request) as (session, ctx):
        return organisation.teams_of(session, ctx, campaign_id)


@router.post(
    "/teams/{team_id}/members", response_model=TeamRead, status_code=201, summary="Add a team member"
)
def add_member(team_id: int, body: MemberIn, request: Request) -> TeamRead:
    """Add a member with a role to a team."""
    with unit(request) as (session, ctx):
        return organisation.add_team_member(session, ctx, team_id, body)


@router.post(
    "/campaigns/{campaign_id}/assignments",
    response_model=AssignmentRead,
    status_code=201,
    summary="Assign a work unit to a collector",
)
def assign(campaign_id: int, body: AssignmentCreate, request: Request) -> AssignmentRead:
    """A community, grid, street or list of buildings for a collector, due on a date, with its workload."""
    with unit(request) as (session, ctx):
        return organisation.assign(session, ctx, campaign_id, body)


@router.post(
    "/campaigns/{campaign_id}/assignments/bulk",
    response_model=BulkResult,
    summary="Assign from a CSV (collector,unit,target,due_on)",
)
async def bulk_assign(campaign_id: int, request: Request) -> BulkResult:
    """Every line is checked; on any error nothing is written and 422 lists each line, field and reason."""
    text = (await request.body()).decode("utf-8", errors="replace")
    with unit(request) as (session, ctx):
        result = organisation.bulk_assign(session, ctx, campaign_id, text)
    if result.errors:
        raise ValidationFailed(
            "assignment.bulk_invalid",
            "任务清单有误，未写入任何任务",
            "The assignment file has errors; nothing was written",
            {"errors": result.errors},
        )
    return result


@router.get("/assignments", response_model=list[AssignmentRead], summary="Assignments with their cards")
def list_assignments(
    request: Request,
    campaign_id: int | None = Query(None),
    status: str | None = Query(None, pattern="^(open|returned|reassigned)$"),
) -> list[AssignmentRead]:
    """Assignments in your jurisdiction (a collector: their own), earliest due first, with yellow / red cards."""
    with unit(request) as (session, ctx):
        return organisation.assignments(session, ctx, campaign_id=campaign_id, status=status)


@router.post("/assignments/{assignment_id}/reassign", response_model=AssignmentRead, summary="Reassign")
def reassign(assignment_id: int, body: ReassignIn, request: Request) -> AssignmentRead:
    """Give the work to another collector: the old assignment closes, the new one is returned."""
    with unit(request) as (session, ctx):
        return organisation.reassign(
            session, ctx, assignment_id, collector=body.collector, due_on=body.due_on
        )


@router.post(
    "/assignments/{assignment_id}/return", response_model=AssignmentRead, summary="Return with a reason"
)
def return_assignment(assignment_id: int, body: ReturnIn, request: Request) -> AssignmentRead:
    """A collector hands back their assignment, saying why."""
    with unit(request) as (session, ctx):
        return organisation.return_assignment(session, ctx, assignment_id, body.reason)


@router.get("/progress", response_model=ProgressReport, summary="Completeness of an area")
def get_progress(
    request: Request,
    area: str | None = Query(None, pattern=r"^\d{6,15}$"),
    campaign: int | None = Query(
        None, ge=1, description="Only what this campaign covers, its work and teams"
    ),
) -> ProgressReport:
    """Buildings visited, dwellings with a status, households whose count matches: per child area, collector
    and team (of one campaign if asked)."""
    with unit(request) as (session, ctx):
        return progress.report(session, ctx, area, campaign_id=campaign)


@router.get("/progress/buildings", summary="The buildings behind the progress")
def progress_buildings(
    request: Request,
    area: str | None = Query(None, pattern=r"^\d{6,15}$"),
    status: str | None = Query(None, pattern="^(not_visited|partly_visited|visited)$"),
) -> list[dict[str, Any]]:
    """An area's buildings with their visit status."""
    with unit(request) as (session, ctx):
        return progress.building_list(session, ctx, area, status)


@router.get("/progress/dwellings", summary="The dwellings behind the progress")
def progress_dwellings(
    request: Request,
    area: str | None = Query(None, pattern=r"^\d{6,15}$"),
    status: str | None = Query(None, max_length=20),
) -> list[dict[str, Any]]:
    """An area's dwellings with their occupancy, nobody-home tries and whether a revisit is needed."""
    with unit(request) as (session, ctx):
        return progress.dwelling_list(session, ctx, area, status)


@router.get("/progress/households", summary="The households behind the progress")
def progress_households(
    request: Request,
    area: str | None = Query(None, pattern=r"^\d{6,15}$"),
    matched: bool | None = Query(None),
) -> list[dict[str, Any]]:
    """An area's households: members recorded beside the count declared at the door."""
    with unit(request) as (session, ctx):
        return progress.household_list(session, ctx, area, matched)


@router.put("/households/{household_id}/member-count", summary="Declare a household's member count")
def declare_member_count(household_id: int, body: HouseholdCountIn, request: Request) -> dict[str, Any]:
    """The number of members the household declared at the door, checked against the persons recorded."""
    with unit(request) as (session, ctx):
        return progress.declare_household_count(session, ctx, household_id, body.members)


def _proposed(request: Request, propose: Any, *args: Any, change_set_id: int | None) -> ChangeSetRead:
    """One collector's proposal in one unit: stored (or a returned one resubmitted) under the district policy,
    answered as the desk shows it."""
    with unit(request) as (session, ctx):
        policy = review.policy_of(request.app.state.settings)
        cs = propose(session, ctx, *args, change_set_id=change_set_id, policy=policy)
        return review.show(session, ctx, cs.id)


@router.post(
    "/dwellings/{dwelling_id}/found-persons",
    response_model=ChangeSetRead,
    status_code=201,
    summary="Propose a person found living at a dwelling (for review)",
)
def propose_person(
    dwelling_id: int, body: PersonAtDwelling, request: Request, change_set_id: int | None = None
) -> ChangeSetRead:
    """A change set (new person or the one holding the ID number, and the arrival) for the station's review;
    `change_set_id` resubmits one of your returned change sets, fixed."""
    return _proposed(request, service.add_person_at_dwelling, dwelling_id, body, change_set_id=change_set_id)


@router.post(
    "/residences/{residence_id}/departure-proposals",
    response_model=ChangeSetRead,
    status_code=201,
    summary="Propose a departure found at a visit (for review)",
)
def propose_departure(
    residence_id: int, body: DepartureIn, request: Request, change_set_id: int | None = None
) -> ChangeSetRead:
    """A change set deregistering the residence, for the station's (and by default the district's) review."""
    return _proposed(request, service.propose_departure, residence_id, body, change_set_id=change_set_id)


@router.post(
    "/residences/{residence_id}/extension-proposals",
    response_model=ChangeSetRead,
    status_code=201,
    summary="Propose an extension of the intended stay (续住) found at a visit (for review)",
)
def propose_extension(
    residence_id: int, body: ExtendIn, request: Request, change_set_id: int | None = None
) -> ChangeSetRead:
    """A change set with the later end of the intended stay, for the station's review; `change_set_id` resubmits
    one of your returned change sets, fixed."""
    return _proposed(request, service.propose_extension, residence_id, body, change_set_id=change_set_id)


@router.post(
    "/residences/{residence_id}/move-proposals",
    response_model=ChangeSetRead,
    status_code=201,
    summary="Propose a move within the city (市内迁移) found at a visit (for review)",
)
def propose_move(
    residence_id: int, body: MoveIn, request: Request, change_set_id: int | None = None
) -> ChangeSetRead:
    """A change set closing the residence and opening one at the new dwelling, both on approval or neither."""
    return _proposed(request, proposals.propose_move, residence_id, body, change_set_id=change_set_id)


@router.post(
    "/birth-proposals",
    response_model=ChangeSetRead,
    status_code=201,
    summary="Propose a birth (出生登记) found at a visit (for review)",
)
def propose_birth(body: BirthIn, request: Request, change_set_id: int | None = None) -> ChangeSetRead:
    """A change set with the newborn, their membership of the household and their residence from the birth."""
    return _proposed(request, proposals.propose_birth, body, change_set_id=change_set_id)


@router.post(
    "/persons/{person_id}/document-proposals",
    response_model=ChangeSetRead,
    status_code=201,
    summary="Propose a document of a person seen at a visit (for review)",
)
def propose_document(
    person_id: int, body: DocumentAdd, request: Request, change_set_id: int | None = None
) -> ChangeSetRead:
    """A change set with the document and the person's raised version (stale once the person changed)."""
    return _proposed(request, proposals.propose_document, person_id, body, change_set_id=change_set_id)


@router.post(
    "/households/{household_id}/member-proposals",
    response_model=ChangeSetRead,
    status_code=201,
    summary="Propose a member of a household found at a visit (for review)",
)
def propose_member(
    household_id: int, body: MemberAdd, request: Request, change_set_id: int | None = None
) -> ChangeSetRead:
    """A change set with the membership and the household's raised version (stale once the household changed)."""
    return _proposed(request, proposals.propose_member, household_id, body, change_set_id=change_set_id)


@router.post(
    "/households/{household_id}/members/{membership_id}/end-proposals",
    response_model=ChangeSetRead,
    status_code=201,
    summary="Propose the end of a household membership found at a visit (for review)",
)
def propose_member_end(
    household_id: int, membership_id: int, body: MemberEnd, request: Request, change_set_id: int | None = None
) -> ChangeSetRead:
    """A change set ending the membership and raising the household's version (stale once the membership was
    ended or the household changed)."""
    return _proposed(
        request, proposals.propose_member_end, household_id, membership_id, body, change_set_id=change_set_id
    )


@router.post(
    "/household-proposals",
    response_model=ChangeSetRead,
    status_code=201,
    summary="Propose a new household found at a visit (for review)",
)
def propose_household(
    body: HouseholdCreate, request: Request, change_set_id: int | None = None
) -> ChangeSetRead:
    """A change set with the household and its memberships, all on approval or none (stale once the dwelling
    was demolished or a member's record retired)."""
    return _proposed(request, proposals.propose_household, body, change_set_id=change_set_id)


@router.get("/sync/work", summary="Download the work for offline collection (离线采集任务)")
def download_work(request: Request, area_id: int | None = None) -> dict[str, Any]:
    """The buildings, dwellings (with versions), persons (masked), households and rentals of your area."""
    with unit(request) as (session, ctx):
        return sync.work_for(session, ctx, area_id)


@router.post(
    "/sync", response_model=SyncResult, summary="Sync an offline outbox, item by item, idempotent by UUID"
)
def sync_outbox(body: SyncBatch, request: Request) -> SyncResult:
    """Each item is stored in its own savepoint: a malformed, reused, unassigned or conflicting item is answered on
    its own and the rest are stored; sending the same items again stores nothing twice."""
    parts = []
    policy = review.policy_of(request.app.state.settings)
    for offset, part in sync.chunks(body.items):
        with unit(request) as (session, ctx):
            parts.append(sync.sync_outbox(session, ctx, part, offset=offset, policy=policy))
    return sync.merged(parts)


# ---- 二维码门牌 scanned: the self-declaration (自主申报) and its verification on site (上门核录) ----


@router.get("/plates/{code}", summary="What a scanned plate shows anyone: its address and contacts (public)")
def scanned_plate(code: str, request: Request) -> dict[str, Any]:
    """The standard address and the station's and grid's contact; nothing of a person."""
    with anonymous(request) as session:
        return declarations.plate_for_scan(session, code, request.app.state.clock.today())


@router.post(
    "/plates/{code}/declarations", status_code=201, summary="Self-declare at a scanned plate (public)"
)
def declare_at_plate(code: str, body: DeclarationIn, request: Request) -> dict[str, Any]:
    """A tenant's arrival or departure with co-residents, held for a collector's visit: it changes nothing until
    verified. Rate-limited per client address and per plate (429); the receipt carries no personal data."""
    clock = request.app.state.clock
    client = request.client.host if request.client else "unknown"
    with anonymous(request) as session:
        declarations.plate_for_scan(session, code, clock.today())  # an unknown plate is 404, not counted
    declarations.limiter_of(request.app.state).take(
        client, code
    )  # its own transaction, shared by all workers
    with anonymous(request) as session:
        return declarations.declare(session, code=code, data=body, now=clock.now(), today=clock.today())


@router.get("/declarations", summary="Self-declarations of the jurisdiction awaiting a visit")
def list_declarations(
    request: Request, status: str = Query("pending_visit", pattern="^(pending_visit|verified|closed)$")
) -> list[dict[str, Any]]:
    """Oldest first, ID numbers masked; for the collectors who verify them on site."""
    with unit(request) as (session, ctx):
        return declarations.declarations(session, ctx, status=status)


@router.post(
    "/declarations/{declaration_id}/arrival-verification", summary="Verify a declared arrival on site"
)
def verify_declared_arrival(declaration_id: int, body: PersonsFound, request: Request) -> dict[str, Any]:
    """The persons found at the plate's dwelling, proposed as collected work for review; the declaration verified."""
    with unit(request) as (session, ctx):
        policy = review.policy_of(request.app.state.settings)
        return declarations.verify_arrival(session, ctx, declaration_id, body, policy=policy)


@router.post(
    "/declarations/{declaration_id}/departure-verification", summary="Verify a declared departure on site"
)
def verify_declared_departure(declaration_id: int, body: DeparturesFound, request: Request) -> dict[str, Any]:
    """The residences found ended, proposed as departures for review; the declaration verified."""
    with unit(request) as (session, ctx):
        policy = review.policy_of(request.app.state.settings)
        return declarations.verify_departure(session, ctx, declaration_id, body, policy=policy)


@router.post("/declarations/{declaration_id}/decline", summary="Decline a declaration found untrue on site")
def decline_declaration(declaration_id: int, body: DeclineIn, request: Request) -> dict[str, Any]:
    """Closed with the reason; nothing is written."""
    with unit(request) as (session, ctx):
        return declarations.decline(session, ctx, declaration_id, body.reason)
