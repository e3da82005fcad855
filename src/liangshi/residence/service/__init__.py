"""Residence use cases (the face of the package): arrival, extension, move, departure, births and deaths,
查人知住, 查房知人, area lists and the KPI counts. Callers keep `from liangshi.residence import service`."""

from liangshi.residence.models import RESIDENCE
from liangshi.residence.service.counts import RESIDENCE_COUNTS, residence_counts, status_expression
from liangshi.residence.service.deaths import Death, DeathDone, register_death, register_deaths
from liangshi.residence.service.lifecycle import (
    deregister_departure,
    extend_stay,
    move,
    register_arrival,
    register_birth,
    residence_change_check,
    residence_check,
    residence_correct_check,
    residence_status,
    retire_residence,
)
from liangshi.residence.service.lists import MAX_LIST, due_to_leave, floating_arrivals, overdue
from liangshi.residence.service.views import (
    current_person_ids,
    current_residences,
    occupants,
    registration_lateness,
    timeline,
    where_lives,
    where_lives_by_document,
)

__all__ = [
    "MAX_LIST",
    "RESIDENCE",
    "RESIDENCE_COUNTS",
    "Death",
    "DeathDone",
    "current_person_ids",
    "current_residences",
    "deregister_departure",
    "due_to_leave",
    "extend_stay",
    "floating_arrivals",
    "move",
    "occupants",
    "overdue",
    "register_arrival",
    "register_birth",
    "register_death",
    "register_deaths",
    "registration_lateness",
    "residence_change_check",
    "residence_check",
    "residence_correct_check",
    "residence_counts",
    "residence_status",
    "retire_residence",
    "status_expression",
    "timeline",
    "where_lives",
    "where_lives_by_document",
]
