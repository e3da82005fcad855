"""Display names of the registry's vocabularies (messages translated in templates with `_()`)."""

from __future__ import annotations

from typing import Any

from babel import Locale
from pydantic import ValidationError

from liangshi.common import codes
from liangshi.common.idnumber import DOCUMENT_TYPE_NAMES, region_name
from liangshi.errors import LiangshiError
from liangshi.web.i18n import N_, short

OUTCOMES = {
    "occupied": N_("Occupied"),
    "vacant": N_("Vacant"),
    "nobody_home": N_("Nobody home"),
    "refused": N_("Refused"),
}
DWELLING_STATUS = {
    **OUTCOMES,
    "rented": N_("Rented"),
    "demolished": N_("Demolished"),
    "unknown": N_("Not yet known"),
}
VISIT_STATUS = {
    "not_visited": N_("Not visited"),
    "visited": N_("Visited"),
    "partly_visited": N_("Partly visited"),
}
CATEGORIES = {
    "resident": N_("Resident at hukou place"),
    "separated": N_("Hukou elsewhere in the city"),
    "floating": N_("Floating (from outside the city)"),
    "lodging": N_("Lodging"),
    "unregistered": N_("No hukou"),
    "overseas": N_("Overseas"),
}
DEREG_REASONS = {
    "moved_within_city": N_("Moved within the city"),
    "left_city": N_("Left the city"),
    "returned_home": N_("Returned home"),
    "went_abroad": N_("Went abroad"),
    "died": N_("Died"),
    "other": N_("Other"),
}
SEX = {"1": N_("Male"), "2": N_("Female"), "0": N_("Unknown"), "9": N_("Not stated")}
ATTRIBUTES = {
    "name": N_("Name"),
    "sex": N_("Sex"),
    "birth_date": N_("Birth date"),
    "ethnicity": N_("Ethnicity"),
    "nationality": N_("Nationality"),
    "hukou_region": N_("Hukou region"),
    "hukou_address": N_("Hukou address"),
    "education": N_("Education"),
    "marital_status": N_("Marital status"),
    "occupation": N_("Occupation"),
    "workplace": N_("Workplace"),
    "phone": N_("Phone"),
    "death_date": N_("Death date"),
    "id_number": N_("ID number"),
    "address": N_("Address"),
    "status": N_("Status"),
    "category": N_("Category"),
    "arrival_date": N_("Arrival date"),
    "registration_date": N_("Registration date"),
    "intended_stay_until": N_("Intended stay until"),
    "departure_date": N_("Departure date"),
    "deregistration_date": N_("Deregistration date"),
    "deregistration_reason": N_("Reason"),
    "destination": N_("Destination"),
    "stay_reason": N_("Reason for stay"),
    "doc_type": N_("Document type"),
    "number": N_("Document number"),
    "country": N_("Country"),
    "valid_to": N_("Valid until"),
    "prior": N_("Prior (before any evidence)"),
    # What a proposed new object is attached to, and the version a document or a member raises.
    "person_id": N_("Person"),
    "household_id": N_("Household"),
    "dwelling_id": N_("Dwelling"),
    "relationship": N_("Relationship to the head"),
    "version": N_("Version of the record"),
}
SOURCES = {
    "collector": N_("Collector"),
    "department": N_("Department"),
    "venue": N_("Venue"),
    "system": N_("System"),
    "import": N_("Import"),
}
EVENTS = {
    "residence": N_("Residence"),
    "rental_landlord": N_("Landlord of a rental"),
    "rental_tenant": N_("Tenant"),
    "permit": N_("Residence permit"),
    "stay": N_("Hotel or internet café stay"),
}
CONFLICT_STATUS = {"open": N_("Open"), "accepted": N_("Accepted"), "rejected": N_("Rejected")}
FEEDBACK_STATUS = {"open": N_("Open"), "picked_up": N_("Picked up"), "decided": N_("Decided")}
FEEDBACK_OUTCOMES = {"confirmed": N_("Confirmed (the register stands)"), "corrected": N_("Corrected")}
REVIEW_STATUS = {
    "pending": N_("Pending"),
    "linked": N_("Same person"),
    "distinct": N_("Different persons"),
    "closed": N_("Closed (another candidate was chosen)"),
}
# The review desk (liangshi.review): a change set's status, what it proposes, its items' operations.
CHANGESET_STATUS = {
    "pending_station": N_("Awaiting station review"),
    "pending_district": N_("Awaiting district review"),
    "approved": N_("Approved"),
    "returned": N_("Returned"),
}
CHANGESET_ACTIONS = {
    "person_at_dwelling": N_("New person at a dwelling"),
    "arrival": N_("Arrival"),
    "departure": N_("Departure"),
    "extension": N_("Extension of stay"),
    "correction": N_("Correction of a person"),
    "occupancy": N_("Occupancy of a dwelling"),
    "move": N_("Move within the city"),
    "birth": N_("Birth"),
    "document": N_("New document of a person"),
    "member": N_("New member of a household"),
    "member_end": N_("Member leaving a household"),
    "household": N_("New household"),
}
CHANGESET_OPS = {
    "create": N_("New"),
    "change": N_("Change"),
    "correct": N_("Correction"),
    "retire": N_("Deregistration"),
    "bump": N_("Version raised"),
}
STALE_REASONS = {
    "gone": N_("the object no longer exists"),
    "retired": N_("the object was retired (a death, a departure, a demolition)"),
    "version_moved": N_("the record changed since it was collected"),
    "status": N_("the dwelling is demolished"),
    "document_taken": N_("the ID number is now registered to another person"),
}
DEPARTMENTS = {
    "health": N_("Health"),
    "justice": N_("Justice"),
    "civil_affairs": N_("Civil affairs"),
    "family_planning": N_("Family planning"),
    "statistics": N_("Statistics"),
    "housing": N_("Housing"),
    "business_registry": N_("Business registry"),
    "police": N_("Police"),
    "register": N_("Register"),
}
# Comparison levels of the record linkage (liangshi.linkage.compare), as evidence on a review page.
LEVELS = {
    "prior": N_("prior"),
    "null": N_("missing on one side"),
    "exact": N_("exactly equal"),
    "equal": N_("equal"),
    "different": N_("different"),
    "simplified_equal": N_("equal after traditional → simplified"),
    "pinyin_equal": N_("same pinyin (homophone)"),
    "tokens_reordered": N_("same parts, reordered"),
    "near_homophone": N_("near-homophone (Hubei dialect: n/l, h/f, huang/wang, en/eng, in/ing)"),
    "latin_similar": N_("similar (Latin letters)"),
    "latin_somewhat_similar": N_("somewhat similar (Latin letters)"),
    "latin_surname_equal_given_similar": N_("same surname, similar given name (Latin letters)"),
    "latin_one_part_equal": N_("one part of the name equal (Latin letters)"),
    "one_character_differs": N_("one character differs"),
    "id_both_valid_differ": N_("two valid ID numbers that differ"),
    "id_both_valid_differ_suspect": N_("two valid ID numbers that differ (suspect)"),
    "id_typo_one_edit": N_("ID typo: one character off"),
    "id_typo_adjacent_swap": N_("ID typo: two neighbours swapped"),
    "id_near_unvalidated": N_("nearly equal, one ID invalid"),
    "id_other": N_("other ID difference"),
    "day_month_swapped": N_("day and month swapped"),
    "one_component_off": N_("one of year, month, day differs"),
    "one_digit_off": N_("one digit off or two swapped"),
    "shared_by_other_name": N_("shared with a differently named person"),
    "one_edit": N_("one digit off"),
    "similar": N_("similar"),
    "somewhat_similar": N_("somewhat similar"),
}
# Audit entries (the auditor's pages): the kind of object an entry is about (actions label themselves).
OBJECT_KINDS = {
    "person": N_("Person"),
    "document": N_("Identity document"),
    "household": N_("Household"),
    "membership": N_("Household membership"),
    "residence": N_("Residence registration"),
    "rental": N_("Rented dwelling"),
    "rental_tenant": N_("Tenancy"),
    "permit": N_("Residence permit"),
    "dwelling": N_("Dwelling"),
    "area": N_("Area"),
}
# What verifying a log can find wrong (audit.service.verify: entries and the tree; departments.verify_log).
CHAIN_PROBLEMS = {
    "altered": N_("altered: its hash does not match its content"),
    "missing": N_("entries before it are missing"),
    "broken_link": N_("its link to the previous entry is broken"),
    "truncated": N_("entries at the end are missing: a signed tree head covers more entries than are left"),
    "tree_mismatch": N_("the tree recomputed from the entries differs from its signed head"),
    "bad_signature": N_("a tree head's signature is not valid"),
    "unknown_key": N_("a tree head is signed by a key that is not ours"),
    "inconsistent": N_("the log does not extend the published tree head"),
}
TONE = {
    "occupied": "ok",
    "visited": "ok",
    "rented": "ok",
    "vacant": "warn",
    "partly_visited": "warn",
    "nobody_home": "warn",
    "refused": "bad",
    "not_visited": "bad",
    "demolished": "bad",
    "open": "warn",
    "pending": "warn",
    "picked_up": "warn",
    "accepted": "ok",
    "decided": "ok",
    "linked": "ok",
    "rejected": "bad",
    "pending_station": "warn",
    "pending_district": "warn",
    "approved": "ok",
    "returned": "bad",
}

RENTAL_STATUS = {"open": N_("Let (open)"), "ended": N_("Ended")}
PERMIT_STATUS = {
    "issued": N_("Valid"),
    "lapsed": N_("Lapsed (not endorsed in time)"),
    "cancelled": N_("Cancelled"),
}
STAY_KINDS = {"hotel": N_("Hotel"), "cafe": N_("Internet café")}
# The fields whose value is a code of a national table (GB/T 2261.2, 3304, 4658) or of the register's own
# (stay_reason: the public-security categories of the reason for stay).
CODE_TABLES = {
    "ethnicity": "ethnicity",
    "education": "education",
    "marital_status": "marital_status",
    "stay_reason": "stay_reason",
}
_BABEL = {"zh": "zh_Hans_CN", "en": "en"}


def code_name(field: str, value: object, lang: str = "zh") -> str:
    """A coded value by its name: 民族 01 → 汉, 文化程度 41 → its GB/T 4658 name, 户籍地区划 420115 →
    湖北省武汉市江夏区, 国籍 CHN → 中国 (China in English). Names of the Chinese tables stay Chinese in English
    pages, followed by the code."""
    if value is None or value == "":
        return "—"
    text = str(value)
    name: str | None = None
    if field == "doc_type" and text in DOCUMENT_TYPE_NAMES:  # 证件类型 resident_id → 居民身份证
        zh, en = DOCUMENT_TYPE_NAMES[text]
        return zh if short(lang) == "zh" else en
    if field == "country":  # an identity document's country: an ISO 3166 alpha-3 code, as 国籍
        field = "nationality"
    if field in CODE_TABLES:
        name = codes.table(CODE_TABLES[field]).entries.get(text)
    elif field == "hukou_region" and len(text) == 6 and text.isdigit():
        parts = [region_name(text[:2] + "0000"), region_name(text[:4] + "00"), region_name(text)]
        unique = [p for i, p in enumerate(parts) if p and p not in parts[:i]]
        name = "".join(unique) or None
    elif field == "nationality":
        # Imported here: only a page showing a nationality needs the ISO 3166 table.
        import pycountry

        country = pycountry.countries.get(alpha_3=text)
        alpha2 = getattr(country, "alpha_2", None) if country is not None else None
        if alpha2:
            return str(Locale.parse(_BABEL.get(short(lang), "zh_Hans_CN")).territories.get(alpha2, text))
    else:
        return text
    if name is None:
        return text
    return name if short(lang) == "zh" else f"{name} ({text})"


ALL = {
    "outcomes": OUTCOMES,
    "dwelling_status": DWELLING_STATUS,
    "visit_status": VISIT_STATUS,
    "categories": CATEGORIES,
    "dereg_reasons": DEREG_REASONS,
    "sex": SEX,
    "tone": TONE,
    "attributes": ATTRIBUTES,
    "sources": SOURCES,
    "events": EVENTS,
    "conflict_status": CONFLICT_STATUS,
    "feedback_status": FEEDBACK_STATUS,
    "feedback_outcomes": FEEDBACK_OUTCOMES,
    "review_status": REVIEW_STATUS,
    "departments": DEPARTMENTS,
    "levels": LEVELS,
    "object_kinds": OBJECT_KINDS,
    "chain_problems": CHAIN_PROBLEMS,
    "changeset_status": CHANGESET_STATUS,
    "changeset_actions": CHANGESET_ACTIONS,
    "changeset_ops": CHANGESET_OPS,
    "stale_reasons": STALE_REASONS,
    "rental_status": RENTAL_STATUS,
    "permit_status": PERMIT_STATUS,
    "stay_kinds": STAY_KINDS,
}


def form_errors(exc: ValidationError | LiangshiError, lang: str) -> dict[str, str]:
    """Field → message in the page language, from a pydantic or domain validation error."""
    zh = short(lang) == "zh"
    if isinstance(exc, LiangshiError):
        field = str(exc.data.get("field") or "_form")
        return {field: exc.message(short(lang))}
    errors: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if not isinstance(p, int)]
        field = loc[-1] if loc else "_form"
        ctx: dict[str, Any] = dict(err.get("ctx") or {})
        if err.get("type") == "missing":
            message = "必填" if zh else "Required"
        elif "zh" in ctx:
            message = str(ctx["zh"] if zh else ctx.get("en", err.get("msg")))
        else:
            message = ("格式不正确：" if zh else "Invalid: ") + str(err.get("msg", ""))
        errors.setdefault(field, message)
    return errors
