"""Person and household routes, including 查人知住 and the person's access log."""

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.audit import service as audit
from liangshi.departments import service as departments
from liangshi.http.crud import json_answer, object_read, object_routes, page_read, paging
from liangshi.http.tx import unit
from liangshi.mpi import service as mpi
from liangshi.persons import service
from liangshi.persons.models import Household
from liangshi.persons.schemas import (
    DocumentAdd,
    HouseholdCorrect,
    HouseholdCreate,
    HouseholdPatch,
    LookupIn,
    MemberAdd,
    MemberEnd,
    PersonCorrect,
    PersonCreate,
    PersonFind,
    PersonPatch,
    UnmaskIn,
)
from liangshi.registry import Context, Snapshot
from liangshi.residence import service as residence
from liangshi.schemas import ObjectRead, PageRead

persons = APIRouter(prefix="/persons", tags=["persons 人员"])
households = APIRouter(prefix="/households", tags=["households 户"])


def _person_extra(session: Session, ctx: Context, snap: Snapshot) -> dict[str, Any]:
    return {"documents": service.documents_view(session, ctx, snap.entity.id, unmask_reason=None)}


@persons.post("", response_model=ObjectRead, status_code=201, summary="Register a person")
def create_person(body: PersonCreate, request: Request) -> ObjectRead:
    """Register a person with their identity documents (ID numbers are checked: format, date, check character)."""
    with unit(request, writes="person") as (session, ctx):
        snap = service.create_person(session, ctx, body)
        return object_read(snap, _person_extra(session, ctx, snap))


@persons.get("", response_model=PageRead, summary="Search persons")
def search_persons(
    request: Request,
    name: str | None = Query(None, max_length=50),
    phone: str | None = Query(None, max_length=30),
    area_id: int | None = None,
    page: tuple[int, int] = Depends(paging),
) -> PageRead:
    """Persons in your jurisdiction by name prefix, phone or area; documents masked. By document number: POST
    /persons/find (an ID number never travels in a URL)."""
    with unit(request) as (session, ctx):
        result = service.search_persons(
            session,
            ctx,
            name=name,
            id_number=None,
            phone=phone,
            area_id=area_id,
            offset=page[0],
            limit=page[1],
        )
        return page_read(result, lambda snap: _person_extra(session, ctx, snap))


@persons.post("/find", response_model=PageRead, summary="Search persons by document number (in the body)")
def find_persons(body: PersonFind, request: Request) -> PageRead:
    """Persons in your jurisdiction by document number, phone, name prefix or area, the numbers sent in the body so
    that they never land in a URL or a server log; documents masked."""
    with unit(request) as (session, ctx):
        result = service.search_persons(
            session,
            ctx,
            name=body.name,
            id_number=body.id_number,
            phone=body.phone,
            area_id=body.area_id,
            offset=body.offset,
            limit=body.limit,
        )
        return page_read(result, lambda snap: _person_extra(session, ctx, snap))


@persons.get("/search", response_model=dict[str, Any], summary="Forgiving name search (容错查询)")
def forgiving_search(
    request: Request,
    q: str = Query(
        ..., min_length=1, max_length=60, description="a name, its pinyin, optionally `name 1234`"
    ),
    limit: int = Query(20, ge=1, le=100),
) -> Response:
    """Persons in your jurisdiction whose name matches as typed: traditional characters, the same sound, Hubei's
    h/f, n/l, en/eng, in/ing, a pinyin typo, with an optional ID-number suffix; ranked, each with how it matched,
    where they live and their category; documents masked."""
    with unit(request) as (session, ctx):
        found, total = mpi.forgiving_search(session, ctx, q, limit=limit)
        ids = [r["snapshot"].entity.id for r in found]
        homes = residence.current_residences(session, ctx, ids) if ctx.actor.may("residence.read") else {}
        answer = {
            "total": total,
            "items": [
                {
                    **object_read(r["snapshot"], _person_extra(session, ctx, r["snapshot"])).model_dump(
                        mode="json"
                    ),
                    "match": r["level"],
                    "id_suffix_matched": r["id_suffix_matched"],
                    "lives_at": homes.get(r["snapshot"].entity.id),
                }
                for r in found
            ],
        }
    return json_answer(answer)


@persons.post("/lookup", response_model=dict[str, Any], summary="查人知住 by ID number (in the body)")
def lookup(body: LookupIn, request: Request) -> Response:
    """The person holding a document number and where they live now and lived before; the number is sent in the
    body, never in a URL (issue 18)."""
    with unit(request) as (session, ctx):
        found = residence.where_lives_by_document(session, ctx, body.id_number)
    # Serialised after the commit, as FastAPI would: the audit entry is committed before the answer leaves.
    return json_answer(found)


@persons.get(
    "/{object_id}/residences",
    response_model=dict[str, Any],
    summary="查人知住: current residence and full history",
)
def residences(object_id: int, request: Request) -> Response:
    """A person's current residences and every residence they had."""
    with unit(request) as (session, ctx):
        found = residence.where_lives(session, ctx, object_id)
    return json_answer(found)


@persons.post("/{object_id}/unmask", summary="Show full document numbers (reason required, audited)")
def unmask(object_id: int, body: UnmaskIn, request: Request) -> dict[str, Any]:
    """Full ID numbers for roles that may unmask; the reason goes into the audit log."""
    with unit(request) as (session, ctx):
        ctx.actor.ensure("person.unmask")
        registry.read(session, ctx, service.PERSON, object_id)
        return {"documents": service.documents_view(session, ctx, object_id, unmask_reason=body.reason)}


@persons.post("/{object_id}/documents", response_model=ObjectRead, status_code=201, summary="Add a document")
def add_document(object_id: int, body: DocumentAdd, request: Request) -> ObjectRead:
    """Add an identity document to a person. A collector proposes it instead (POST
    /persons/{id}/document-proposals, for review)."""
    with unit(request, writes="person") as (session, ctx):
        snap = service.add_document(session, ctx, object_id, body)
        return object_read(snap, _person_extra(session, ctx, snap))


class CorrectionCaseRead(BaseModel):
    """A community-correction case from justice (社区矫正)."""

    id: int
    department: str
    case_kind: str = Field(description="1 管制, 2 缓刑, 3 假释, 4 暂予监外执行")
    case_kind_label: dict[str, str] = Field(description="The kind's name: {zh, en}")
    start_date: Any
    end_date: Any = None
    office: str = Field(description="The responsible judicial office (负责司法所)")
    community_code: str
    batch_id: int
    recorded_at: Any


class CorrectionCases(BaseModel):
    """A person's current community-correction cases."""

    person_id: int
    cases: list[CorrectionCaseRead]


@persons.get(
    "/{object_id}/corrections",
    response_model=CorrectionCases,
    summary="Community-correction cases (社区矫正; community police, station, justice liaison)",
)
def corrections(object_id: int, request: Request) -> CorrectionCases:
    """The person's current community-correction cases from justice, for the roles that handle them
    (`correction.read`: 403 otherwise; 404 outside the jurisdiction); every read is audited."""
    with unit(request) as (session, ctx):
        cases = departments.person_cases(session, ctx, object_id)
        return CorrectionCases(person_id=object_id, cases=[CorrectionCaseRead(**c) for c in cases])


class AccessEntry(BaseModel):
    """One access to a person's record: who, when, what and why (ID numbers in free text masked)."""

    seq: int
    at: Any
    actor: str
    action: str
    action_label: dict[str, str] = Field(description="The action's label: {zh, en}")
    object_kind: str | None = None
    object_id: int | None = None
    import_batch: int | None = None
    purpose: str | None
    reason: str | None = None
    leaf_index: int | None = Field(None, description="The entry's place in the audit log's Merkle tree")
    leaf_hash: str | None = Field(None, description="RFC 6962 leaf hash of the entry (hex)")
    tree_size: int | None = Field(None, description="The signed tree head the proof is under")
    inclusion_proof: list[str] | None = Field(
        None,
        description="RFC 6962 audit path (hex, leaf side first); none while the entry awaits the sequencer",
    )
    proven: bool = Field(False, description="The server checked the proof against the entry as shown")


class TreeHead(BaseModel):
    """A signed tree head of the audit log."""

    tree_size: int
    root_hash: str
    timestamp: str
    key_id: str
    signature: str = Field(description="Ed25519 signature (base64)")


class AccessLog(BaseModel):
    """Who read or changed a person's record, each entry with its inclusion proof under `tree_heads`."""

    person_id: int
    total: int
    entries: list[AccessEntry]
    tree_heads: list[TreeHead] = Field(default_factory=list)


@persons.get("/{object_id}/access-log", response_model=AccessLog, summary="Who read or changed this record")
def access_log(object_id: int, request: Request, page: tuple[int, int] = Depends(paging)) -> AccessLog:
    """The person's right to know: every read and write of their data (imports included), newest first."""
    with unit(request) as (session, ctx):
        rows, total = service.access_log(session, ctx, object_id, limit=page[1], offset=page[0])
        heads = [
            audit.head_at(session, size) for size in sorted({r["tree_size"] for r in rows if r["tree_size"]})
        ]
        return AccessLog(
            person_id=object_id,
            total=total,
            entries=[AccessEntry(**r) for r in rows],
            tree_heads=[TreeHead(**h.to_json()) for h in heads if h is not None],
        )


object_routes(
    persons,
    service.PERSON,
    patch=PersonPatch,
    correct=PersonCorrect,
    extra=_person_extra,
    check=lambda session, ctx: service.person_check(session, ctx),
)


def _household_extra(session: Session, ctx: Context, snap: Snapshot) -> dict[str, Any]:
    return {
        "household_kind": snap.entity.household_kind,
        "members": service.members_view(
            session, ctx, snap.entity.id, snap.row.valid_from if snap.retired else ctx.today
        ),
    }


@households.post("", response_model=ObjectRead, status_code=201, summary="Create a household")
def create_household(body: HouseholdCreate, request: Request) -> ObjectRead:
    """A household with members and their relationship to the head (GB/T 4761). A collector proposes it instead
    (POST /household-proposals, for review)."""
    with unit(request, writes="household") as (session, ctx):
        snap = service.create_household(session, ctx, body)
        return object_read(snap, _household_extra(session, ctx, snap))


@households.get("", response_model=PageRead, summary="List households")
def list_households(
    request: Request, area_id: int | None = None, page: tuple[int, int] = Depends(paging)
) -> PageRead:
    """Households in your jurisdiction."""
    with unit(request) as (session, ctx):
        where = [Household.area_id == area_id] if area_id is not None else []
        result = registry.search(session, ctx, service.HOUSEHOLD, where=where, offset=page[0], limit=page[1])
        return page_read(result)


@households.post("/{object_id}/members", response_model=ObjectRead, status_code=201, summary="Add a member")
def add_member(object_id: int, body: MemberAdd, request: Request) -> ObjectRead:
    """Add a member; pass the household's version, a stale one gets 409. A collector proposes it instead (POST
    /households/{id}/member-proposals, for review)."""
    with unit(request, writes="household") as (session, ctx):
        snap = service.add_member(session, ctx, object_id, body)
        return object_read(snap, _household_extra(session, ctx, snap))


@households.post(
    "/{object_id}/members/{membership_id}/end", response_model=ObjectRead, summary="End a membership"
)
def end_member(object_id: int, membership_id: int, body: MemberEnd, request: Request) -> ObjectRead:
    """End a membership from a date; pass the household's version. A collector proposes it instead (POST
    /households/{id}/members/{membership_id}/end-proposals, for review)."""
    with unit(request, writes="household") as (session, ctx):
        snap = service.end_member(session, ctx, object_id, membership_id, body)
        return object_read(snap, _household_extra(session, ctx, snap))


object_routes(
    households, service.HOUSEHOLD, patch=HouseholdPatch, correct=HouseholdCorrect, extra=_household_extra
)
