"""Batch address matching: upload a column of addresses, download the ranked matches as xlsx."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Request, UploadFile
from fastapi.responses import Response

from liangshi.addresses import service as addresses
from liangshi.addresses.batch import XLSX, matches_workbook, read_upload
from liangshi.errors import LiangshiError
from liangshi.web.i18n import N_
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import web_router
from liangshi.web.render import render
from liangshi.web.session import page

router = web_router()
add_nav(NavItem("/web/addresses/match", N_("Match addresses"), "address.read", order=45))


@router.get("/addresses/match")
def match_form(request: Request) -> Response:
    """The upload form for a column of addresses."""
    with page(request) as p:
        return render(request, "address_match.html", p, error=None)


@router.post("/addresses/match")
def match_upload(request: Request, file: Annotated[UploadFile, File()]) -> Response:
    """The uploaded addresses matched; the matches and ranked candidates as an xlsx download."""
    with page(request, purpose="address matching") as p:
        try:
            texts = read_upload(file.file)
        except LiangshiError as exc:
            return render(request, "address_match.html", p, error=exc.message(p.lang), status=422)
        results = addresses.match_batch(p.session, p.ctx, texts)
        body = matches_workbook(results, p.lang == "en")
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="address-matches.xlsx"'},
    )
