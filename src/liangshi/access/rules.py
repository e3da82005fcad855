"""Roles and what each may do: the permission table (pure data, no session)."""

from __future__ import annotations

from liangshi.errors import Forbidden, ValidationFailed

ROLES: dict[str, tuple[str, str]] = {
    "collector": ("采集员", "Collector"),
    "community_police": ("社区民警", "Community police officer"),
    "station_admin": ("派出所管理员", "Police station administrator"),
    "district_admin": ("区级管理员", "District administrator"),
    "city_admin": ("市级管理员", "City administrator"),
    "department_liaison": ("部门联络员", "Department liaison"),
    "inspector": ("检查验收员", "Inspector"),
    "auditor": ("审计员", "Auditor"),
    "housing_officer": ("房管员", "Housing officer"),
}

# Object kinds whose rows are read, written (create, change, correct, flag) and retired through the registry.
KINDS = (
    "area",
    "street",
    "address",
    "building",
    "dwelling",
    "person",
    "household",
    "residence",
    "rental",
    "permit",
    "venue",
)
HOUSING_AND_PEOPLE = ("building", "dwelling", "person", "household", "residence", "rental")
# kpi.read: the dashboard's aggregate rates of an area (no personal data in them).
# person.link / person.link_force: the master person index (decide reviews, merge, split, undo; force a merge).
SPECIAL_ACTIONS = (
    "person.unmask",
    "person.access_log",
    "audit.verify",
    "user.manage",
    "kpi.read",
    "person.link",
    "person.link_force",
    # collect.sync: download the assigned work to a phone and sync its offline outbox (离线采集).
    "collect.sync",
)
# Checking and acceptance (liangshi.inspections): draw a plan's sample (inspection.plan); read plans, samples and
# rates (inspection.read: not collectors or community officers, who would otherwise know which households the
# check will visit); record results and re-inspect (inspection.record); list and report rectification items
# (inspection.rectify: the owners, who are collectors and officers, and the station above them).
INSPECTION_ACTIONS = ("inspection.plan", "inspection.read", "inspection.record", "inspection.rectify")
_INSPECT = set(INSPECTION_ACTIONS)
# Department data exchange (liangshi.departments): register departments and agreements; exchange data for one's
# own department under its agreement; decide conflicts between a department's value and the register's; pick up
# and decide a department's feedback on a value; verify the exchange log.
# The campaign (liangshi.campaign.organisation, .progress): set up a campaign with its phases and pilot areas
# (station and above); form teams and assign, reassign work units (the community officer leads a community's team);
# return one's own assignment with a reason; read campaigns, assignments and completeness progress.
CAMPAIGN_ACTIONS = ("campaign.manage", "campaign.read", "assignment.manage", "assignment.return")
EXCHANGE_ACTIONS = (
    "department.manage",
    "department.exchange",
    "conflict.decide",
    "feedback.handle",
    "exchange_log.verify",
)
# The review desk (liangshi.review): approve or return collected work at the station, then at district level
# for what district policy names.
# The same desk carries department records waiting for their community's claim (认领) and the station's ruling
# on a cross-unit edit the holder refused (业务协同).
REVIEW_ACTIONS = ("changeset.review", "changeset.review_district", "department.claim", "dispute.rule")


# The register exported to Parquet per county (liangshi.exchange.parquet), the hand-off to a data platform: district
# and city administrators, within their jurisdiction; unmasked only with person.unmask and a reason.
EXPORT_ACTIONS = ("register.export",)

# Quality checks (liangshi.checks): read the findings (work items) of one's area, run the checks, dismiss a finding
# with a reason, and hold a department's file for checking.
CHECK_ACTIONS = ("check.read", "check.run", "check.dismiss", "check.source")

# Community-correction cases from justice (司法: 社区矫正, issue 15): read only by those who handle them — the
# community police, the station, and the justice department's own liaison (`DEPARTMENT_ONLY`); not collectors,
# housing, inspectors, auditors, other departments, nor the district and city administrators.
CORRECTION_ACTIONS = ("correction.read",)
# Actions a department liaison holds only for one department.
DEPARTMENT_ONLY: dict[str, str] = {"correction.read": "justice"}


def _grant(kinds: tuple[str, ...], verb: str) -> set[str]:
    return {f"{kind}.{verb}" for kind in kinds}


_READ_ALL = _grant(KINDS, "read")
_POLICE = (
    _READ_ALL
    | _grant(("address", *HOUSING_AND_PEOPLE), "write")
    | _grant(("address", *HOUSING_AND_PEOPLE), "retire")
    # Residence permits (居住证) are issued and endorsed by the police, not by collectors.
    | _grant(("permit",), "write")
    | _grant(("permit",), "retire")
    | {"person.unmask", "kpi.read", "check.read", "check.run", "check.dismiss"}
    # The community police claim department records for their community (认领).
    | {"department.claim"}
    # The master person index: decide match reviews, merge, split and undo (within the jurisdiction).
    | {"person.link"}
    | {"campaign.read", "assignment.manage", "assignment.return", "collect.sync"}
)
# Hotels and internet cafés (venues) and their API keys are registered by the station and above.
# Merging two persons with different valid ID numbers (force, with a reason) is for the station and above.
_ADMIN = _POLICE | {
    "person.access_log",
    "user.manage",
    "venue.write",
    "venue.retire",
    "conflict.decide",
    "feedback.handle",
    "person.link_force",
    "campaign.manage",
    # The station reviews what its collectors collected before it counts (谁采集、谁录入、谁负责).
    "changeset.review",
    # The station above two units rules on a cross-unit edit one of them refused (业务协同).
    "dispute.rule",
    "check.source",
}
_DISTRICT = _ADMIN | {
    "street.write",
    "street.retire",
    "department.manage",
    "changeset.review_district",
    "register.export",
}

# Collectors propose, they never write live facts about people (issue 14, 谁采集、谁录入、谁负责): a person, a
# household or a residence they collect is a change set the station reviews (POST /sync, the collect pages,
# `liangshi collect`), so the generic API's creates, changes, corrections and deregistrations of these kinds
# refuse them (403 `changeset.required`) although their role holds `{kind}.write` (which the proposing use
# cases check). Extending a stay, a move, a birth, a document, a member added, a membership ended and a new
# household are proposed too (POST /residences/{id}/extension-proposals, /residences/{id}/move-proposals,
# /birth-proposals, /persons/{id}/document-proposals, /households/{id}/member-proposals,
# /households/{id}/members/{membership_id}/end-proposals, /household-proposals); their direct routes (and the web
# forms) refuse collectors or propose for them.
PROPOSE_ONLY: dict[str, frozenset[str]] = {
    "collector": frozenset({"person", "household", "residence"}),
}

PERMISSIONS: dict[str, frozenset[str]] = {
    # Collectors record what they find at the door; retiring records and unmasking IDs is for the police.
    # Collectors see the rates of their own community: their work is what the rates measure.
    # They see the campaign and its progress and may hand back work they cannot do, with a reason; they see the
    # findings of their area (the work items assigned to them); they download their work to a phone and sync its
    # offline outbox.
    "collector": frozenset(
        _READ_ALL
        | _grant(HOUSING_AND_PEOPLE, "write")
        | {
            "kpi.read",
            "campaign.read",
            "assignment.return",
            "inspection.rectify",
            "check.read",
            "collect.sync",
        }
    ),
    # The community officer holds the police record: they take up and settle a department's feedback on it.
    "community_police": frozenset(_POLICE | {"feedback.handle", "inspection.rectify", "correction.read"}),
    "station_admin": frozenset(_ADMIN | _INSPECT | {"correction.read"}),
    # Street names belong to civil affairs at district level (民政 names 街路巷).
    "district_admin": frozenset(_DISTRICT | _INSPECT),
    "city_admin": frozenset(
        _DISTRICT | _INSPECT | {"area.write", "area.retire", "audit.verify", "exchange_log.verify"}
    ),
    # A department reads the shared register (masked), cut to the fields its agreement names
    # (liangshi.departments), and exchanges data for its own department.
    "department_liaison": frozenset(
        _grant(("area", "street", "address", "building", "person"), "read")
        | {"department.exchange", "correction.read"}
    ),
    # Inspectors compare the register with what they find, so they read everything and may unmask with a reason.
    # They draw and record the sampled checks; fixing what they find is the owners' work (inspection.rectify).
    # They also run the quality checks (检查验收), without dismissing what they find.
    "inspector": frozenset(
        _READ_ALL
        | {
            "person.unmask",
            "kpi.read",
            "campaign.read",
            "inspection.plan",
            "inspection.read",
            "inspection.record",
            "check.read",
            "check.run",
        }
    ),
    # Auditors see who did what, not the people themselves.
    "auditor": frozenset({"area.read", "person.access_log", "audit.verify", "exchange_log.verify"}),
    # Housing officers (住建/房管) keep the housing: buildings, dwellings and their statuses, rentals with their
    # security agreements (retiring a rental filed in error too). They read who lives there (masked) to name the
    # landlord and the tenants, and see the rates of their area; persons and residences are the police's.
    "housing_officer": frozenset(
        _grant(
            ("area", "street", "address", "building", "dwelling", "person", "household", "residence"), "read"
        )
        | _grant(("rental",), "read")
        | _grant(("building", "dwelling", "rental"), "write")
        | _grant(("rental",), "retire")
        | {"kpi.read", "check.read"}
    ),
}

# Roles an administrator may create: never one above their own.
ROLE_RANK = {
    "collector": 1,
    "department_liaison": 1,
    "inspector": 1,
    "auditor": 1,
    "housing_officer": 1,
    "community_police": 2,
    "station_admin": 3,
    "district_admin": 4,
    "city_admin": 5,
}


def ensure_role(role: str) -> str:
    """Validate a role name."""
    if role not in ROLES:
        raise ValidationFailed(
            "user.role_unknown",
            "角色无效",
            "Unknown role",
            {"field": "role", "allowed": list(ROLES)},
        )
    return role


def may(role: str, action: str) -> bool:
    """Whether the role allows the action (anywhere in its jurisdiction)."""
    return action in PERMISSIONS.get(role, frozenset())


def ensure_allowed(role: str, action: str) -> None:
    """Refuse with 403 when the role does not allow the action."""
    if not may(role, action):
        raise Forbidden(
            "access.forbidden",
            "您的角色无权执行此操作",
            "Your role may not do this",
            {"action": action, "role": role},
        )


def may_unmask(role: str) -> bool:
    """Whether the role may see full ID numbers (always with a reason)."""
    return may(role, "person.unmask")


class Actor:
    """Who is acting: a user with a role and a jurisdiction (the area subtree under `area_path`)."""

    __slots__ = ("area_id", "area_path", "county_code", "department", "role", "user_id", "username")

    def __init__(
        self,
        *,
        user_id: int | None,
        username: str,
        role: str,
        area_id: int,
        area_path: str,
        county_code: str,
        department: str | None = None,
    ) -> None:
        self.user_id = user_id
        self.username = username
        self.role = role
        self.area_id = area_id
        self.area_path = area_path
        self.county_code = county_code
        self.department = department

    def may(self, action: str) -> bool:
        """Whether this actor's role allows the action (a liaison's `DEPARTMENT_ONLY` action: for that
        department's liaison only)."""
        only = DEPARTMENT_ONLY.get(action)
        if only is not None and self.role == "department_liaison" and self.department != only:
            return False
        return may(self.role, action)

    def ensure(self, action: str) -> None:
        """Refuse with 403 unless this actor may do the action (`may`)."""
        ensure_allowed(self.role, action)
        if not self.may(action):
            raise Forbidden(
                "access.forbidden",
                "您的角色无权执行此操作",
                "Your role may not do this",
                {"action": action, "role": self.role, "department": self.department},
            )

    def proposes_only(self, kind: str) -> bool:
        """Whether this actor's live facts of `kind` come only through change sets (`PROPOSE_ONLY`)."""
        return kind in PROPOSE_ONLY.get(self.role, frozenset())

    def covers_path(self, path: str) -> bool:
        """Whether an area with this path lies inside the actor's jurisdiction."""
        return path.startswith(self.area_path)


# Password policy (等保 2.0 level 3, GB/T 22239-2019 8.1.4.1: identification and authentication with passwords of
# sufficient complexity, changed without reuse): the problems of a candidate password, pure and testable.
PASSWORD_CLASSES = 3


def password_problems(password: str, *, username: str, min_length: int) -> list[str]:
    """What is wrong with a password under the policy, as error codes (empty: acceptable)."""
    problems = []
    if len(password) < min_length or len(password) > 128:
        problems.append("user.password_length")
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if classes < PASSWORD_CLASSES:
        problems.append("user.password_classes")
    if username and username.lower() in password.lower():
        problems.append("user.password_has_username")
    return problems
