"""The campaign's organisation (the face of `liangshi.campaign.organisation`): `campaigns` holds campaigns and
their phases, pilot areas, calendar and teams; `assignments` the work units given to collectors (分片包干), their
workload and cards, reassignment and return, the check at sync and bulk assignment from a CSV."""

from liangshi.campaign.organisation.assignments import (
    _covering,
    assign,
    assignments,
    bulk_assign,
    campaign_of,
    collectors_of,
    covered_buildings,
    is_assigned,
    read_assignment,
    reassign,
    return_assignment,
    workload,
)
from liangshi.campaign.organisation.campaigns import (
    COLLECTING_ROLES,
    add_team_member,
    calendar_of,
    campaign_units,
    create_campaign,
    create_team,
    get_campaign,
    list_campaigns,
    own_area_code,
    read_campaign,
    read_team,
    teams_of,
)

__all__ = [
    "COLLECTING_ROLES",
    "_covering",
    "add_team_member",
    "assign",
    "assignments",
    "bulk_assign",
    "calendar_of",
    "campaign_of",
    "campaign_units",
    "collectors_of",
    "covered_buildings",
    "create_campaign",
    "create_team",
    "get_campaign",
    "is_assigned",
    "list_campaigns",
    "own_area_code",
    "read_assignment",
    "read_campaign",
    "read_team",
    "reassign",
    "return_assignment",
    "teams_of",
    "workload",
]
