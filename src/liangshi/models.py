"""Every table, imported in one place for Alembic and tests."""

from liangshi.access.models import ApiToken, User
from liangshi.addresses.models import Address, AddressVersion, Street, StreetVersion
from liangshi.areas.models import Area, AreaCode, AreaEpoch, AreaVersion
from liangshi.audit.models import AuditEntry, AuditTreeHead, AuditTreeNode
from liangshi.buildings.models import Building, BuildingVersion, Dwelling, DwellingVersion
from liangshi.campaign.models import (
    Assignment,
    AssignmentBuilding,
    Campaign,
    CampaignPhase,
    CampaignPilot,
    HouseholdCount,
    Team,
    TeamMember,
    Visit,
    VisitPerson,
)
from liangshi.checks.models import CheckRun, Finding, SourceRecord
from liangshi.db import Base
from liangshi.departments.models import (
    Agreement,
    Department,
    DepartmentBatch,
    ExchangeConflict,
    ExchangeLogEntry,
    Feedback,
)
from liangshi.exchange.models import ImportAuditEntry, ImportBatch
from liangshi.inspections.models import (
    InspectionEstimate,
    InspectionLot,
    InspectionPlan,
    InspectionResult,
    InspectionResultBand,
    InspectionSample,
    Rectification,
)
from liangshi.kpis.models import KpiDaily, KpiDelta
from liangshi.mpi.models import MatchReview, PersonLinkEvent, PersonSourceRecord
from liangshi.permits.models import Permit, PermitVersion
from liangshi.persons.models import (
    Document,
    DocumentVersion,
    Household,
    HouseholdVersion,
    Membership,
    MembershipVersion,
    Person,
    PersonVersion,
)
from liangshi.registry import AttributeFlag, ChangeSet
from liangshi.rentals.models import Rental, RentalTenant, RentalTenantVersion, RentalVersion
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.venues.models import Stay, StayBatch, Venue, VenueKey, VenueVersion

__all__ = [
    "Address",
    "AddressVersion",
    "Agreement",
    "ApiToken",
    "Area",
    "AreaCode",
    "AreaEpoch",
    "AreaVersion",
    "Assignment",
    "AssignmentBuilding",
    "AttributeFlag",
    "AuditEntry",
    "AuditTreeHead",
    "AuditTreeNode",
    "Base",
    "Building",
    "BuildingVersion",
    "Campaign",
    "CampaignPhase",
    "CampaignPilot",
    "ChangeSet",
    "CheckRun",
    "Department",
    "DepartmentBatch",
    "Document",
    "DocumentVersion",
    "Dwelling",
    "DwellingVersion",
    "ExchangeConflict",
    "ExchangeLogEntry",
    "Feedback",
    "Finding",
    "Household",
    "HouseholdCount",
    "HouseholdVersion",
    "ImportAuditEntry",
    "ImportBatch",
    "InspectionEstimate",
    "InspectionLot",
    "InspectionPlan",
    "InspectionResult",
    "InspectionResultBand",
    "InspectionSample",
    "KpiDaily",
    "KpiDelta",
    "MatchReview",
    "Membership",
    "MembershipVersion",
    "Permit",
    "PermitVersion",
    "Person",
    "PersonLinkEvent",
    "PersonSourceRecord",
    "PersonVersion",
    "Rectification",
    "Rental",
    "RentalTenant",
    "RentalTenantVersion",
    "RentalVersion",
    "Residence",
    "ResidenceVersion",
    "SourceRecord",
    "Stay",
    "StayBatch",
    "Street",
    "StreetVersion",
    "Team",
    "TeamMember",
    "User",
    "Venue",
    "VenueKey",
    "VenueVersion",
    "Visit",
    "VisitPerson",
]
