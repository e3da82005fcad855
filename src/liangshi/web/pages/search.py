"""Search (查询): persons by name, pinyin or initials, ID number, phone; addresses by text. Results masked."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response

from liangshi.addresses import service as addresses
from liangshi.addresses.batch import MATCH_LEVEL_LABELS
from liangshi.errors import LiangshiError
from liangshi.mpi import service as mpi
from liangshi.persons import service as persons
from liangshi.residence import service as residence
from liangshi.web import i18n
from liangshi.web.i18n import N_
from liangshi.web.pages import web_router
from liangshi.web.render import render
from liangshi.web.session import Page, page

router = web_router()

KINDS = {
    "auto": N_("Anything"),
    "name": N_("Name or pinyin (forgiving)"),
    "id": N_("ID number"),
    "phone": N_("Phone"),
    "address": N_("Address"),
}
_ID = re.compile(r"^[0-9０-９]{6}[0-9０-９]{8,9}[0-9０-９xX]{0,3}$")
_PHONE = re.compile(r"^\+?[0-9\- ]{7,20}$")
PAGE_SIZE = 20
# How a name matched (mpi.MATCH_LEVELS), shown under each result that is not the exact name.
MATCH_LABELS = {
    "exact": N_("exact name"),
    "pinyin": N_("its pinyin"),
    "simplified_equal": N_("traditional characters"),
    "pinyin_equal": N_("same sound, other characters"),
    "near_homophone": N_("same sound in Hubei speech (h/f, n/l, en/eng, in/ing)"),
    "one_edit": N_("pinyin one letter off"),
    "prefix": N_("beginning of the name or its pinyin"),
}


def guess_kind(q: str) -> str:
    """What a typed query most likely is: an ID number, a phone number, an address or a name."""
    compact = "".join(q.split())
    if _ID.match(compact) and len(compact) in (15, 18):
        return "id"
    if _PHONE.match(q.strip()):
        return "phone"
    if any(mark in q for mark in ("路", "街", "巷", "号", "村", "社区", "栋", "单元", "室")):
        return "address"
    return "name"


def _row(p: Page, snap: Any, *, level: str | None = None, suffix: bool = False) -> dict[str, Any]:
    """One result: who (masked), how the name matched, and (filled in after) where they live."""
    return {
        "id": snap.entity.id,
        "name": snap.row.name,
        "sex": snap.row.sex,
        "birth_date": snap.row.birth_date,
        "phone": snap.row.phone,
        "documents": persons.documents_view(p.session, p.ctx, snap.entity.id, unmask_reason=None),
        "level": level,
        "suffix": suffix,
        "home": None,
    }


@router.get("/search")
def search(request: Request, q: str = "", kind: str = "auto", offset: int = 0) -> Response:
    """The search form, and a search by name, phone or address from a link (an ID number in the URL is refused
    before this runs: the form sends by POST, issue 18)."""
    return _search(request, q, kind, offset)


@router.post("/search")
def search_posted(
    request: Request,
    q: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=20)] = "auto",
    offset: Annotated[int, Form(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Search within the jurisdiction as the form sends it (by POST: an ID number never lands in a URL)."""
    return _search(request, q, kind, offset)


def _search(request: Request, q: str, kind: str, offset: int) -> Response:
    """Search within the jurisdiction; every person shown is logged as a search read."""
    with page(request) as p:
        p.ctx.actor.ensure("person.read")
        q = q.strip()[:60]
        kind = kind if kind in KINDS else "auto"
        used = guess_kind(q) if kind == "auto" and q else kind
        people: list[dict[str, Any]] = []
        total = 0
        address: dict[str, Any] | None = None
        error = None
        if q:
            try:
                if used == "address":
                    if p.may("address.read"):
                        address = addresses.match_address(p.session, p.ctx, q)
                elif used == "name":
                    # Forgiving: same-sound and traditional characters, dialect, a pinyin typo, `name 1234`.
                    found, total = mpi.forgiving_search(p.session, p.ctx, q, limit=PAGE_SIZE)
                    # Letters typed are pinyin: their equal key is "the pinyin", not "same sound, other characters".
                    latin = q.replace(" ", "").isascii()
                    people = [
                        _row(
                            p,
                            r["snapshot"],
                            level="pinyin" if latin and r["level"] == "pinyin_equal" else r["level"],
                            suffix=r["id_suffix_matched"],
                        )
                        for r in found
                    ]
                else:
                    result = persons.search_persons(
                        p.session,
                        p.ctx,
                        name=None,
                        id_number=q if used == "id" else None,
                        phone=q if used == "phone" else None,
                        area_id=None,
                        offset=max(0, offset),
                        limit=PAGE_SIZE,
                    )
                    total = result.total
                    people = [_row(p, snap) for snap in result.items]
                if people and p.may("residence.read"):
                    homes = residence.current_residences(p.session, p.ctx, [r["id"] for r in people])
                    for r in people:
                        r["home"] = homes.get(r["id"])
            except LiangshiError as exc:
                if exc.http_status != 422:
                    raise
                error = exc.message(i18n.short(p.lang))
        return render(
            request,
            "search.html",
            p,
            q=q,
            kind=kind,
            used=used,
            kinds=KINDS,
            people=people,
            total=total,
            offset=max(0, offset),
            page_size=PAGE_SIZE,
            address=address,
            error=error,
            match_levels=MATCH_LABELS,
            address_levels=MATCH_LEVEL_LABELS,
        )
