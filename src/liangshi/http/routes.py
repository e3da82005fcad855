"""Every router, included in one place."""

from __future__ import annotations

from fastapi import FastAPI

from liangshi.access.api import router as access
from liangshi.addresses.api import addresses, area_views, streets
from liangshi.areas.api import router as areas
from liangshi.audit.api import router as audit
from liangshi.buildings.api import buildings, dwellings
from liangshi.campaign.api import router as campaign
from liangshi.checks.api import router as checks
from liangshi.departments.api import router as departments
from liangshi.exchange.api import router as exports
from liangshi.inspections.api import router as inspections
from liangshi.kpis.api import router as kpis
from liangshi.mpi.api import person_links
from liangshi.mpi.api import router as mpi
from liangshi.permits.api import person_permits
from liangshi.permits.api import router as permits
from liangshi.persons.api import households, persons
from liangshi.rentals.api import router as rentals
from liangshi.residence.api import lifecycle
from liangshi.residence.api import router as residences
from liangshi.review.api import claims, cross_unit
from liangshi.review.api import router as review
from liangshi.tables.api import router as tables
from liangshi.venues.api import router as venues


def include_all(app: FastAPI) -> None:
    """Mount the domain routers."""
    for router in (
        access,
        area_views,
        areas,
        streets,
        addresses,
        buildings,
        dwellings,
        campaign,
        persons,
        households,
        residences,
        lifecycle,
        rentals,
        permits,
        person_permits,
        venues,
        departments,
        kpis,
        inspections,
        tables,
        exports,
        checks,
        mpi,
        person_links,
        review,
        claims,
        cross_unit,
        audit,
    ):
        app.include_router(router)
