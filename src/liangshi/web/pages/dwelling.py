"""The dwelling page (查房知人): current and past occupants, rental and landlord, visit history."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from liangshi.buildings import service as buildings
from liangshi.campaign import service as campaign
from liangshi.rentals import service as rentals
from liangshi.residence import service as residence
from liangshi.web.pages import as_of, read_as_of, web_router
from liangshi.web.render import render
from liangshi.web.session import page

router = web_router()


@router.get("/dwellings/{dwelling_id}")
def dwelling(request: Request, dwelling_id: int, on: str | None = None) -> Response:
    """查房知人: who lives here now and who lived here, the rental and its landlord, the visits; as of a past
    date with `?on=YYYY-MM-DD`."""
    with page(request) as p:
        day = as_of(on)
        snap, not_yet = read_as_of(p, buildings.DWELLING, dwelling_id, day)
        occupants = (
            residence.occupants(p.session, p.ctx, dwelling_id, day) if p.may("residence.read") else None
        )
        visits = campaign.visits_of(p.session, p.ctx, dwelling_id)
        address = buildings.describe_dwelling(p.session, dwelling_id, day or p.ctx.today)
        # The open rental's snapshot (its version for the agreement and end forms), for roles that may write it.
        rental = (
            rentals.rental_of_dwelling(p.session, p.ctx, dwelling_id)
            if day is None and p.may("rental.write")
            else None
        )
        return render(
            request,
            "dwelling.html",
            p,
            dwelling=snap,
            occupants=occupants,
            visits=visits,
            address=address,
            on=day,
            not_yet=not_yet,
            rental=rental,
            today=p.ctx.today.isoformat(),
        )
