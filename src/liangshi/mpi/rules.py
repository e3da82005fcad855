"""Master person index rules: field normalisation, the decision bands, review lifecycle, merge refusals."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from liangshi.common.idnumber import check_id_number, normalize_id_text
from liangshi.errors import Conflict, ValidationFailed

# Link status of a source record. A record that matches nobody waits for its community's claim (认领, `claim`);
# claimed, it made a person (`new`); marked a duplicate of a register person, it is `linked` to them.
LINKED, NEW, REVIEW, REJECTED, CLAIM = "linked", "new", "review", "rejected", "claim"
RECORD_STATUSES = (LINKED, NEW, REVIEW, REJECTED, CLAIM)
# Review lifecycle: pending → linked | distinct; closed when another decision on the same record settled it.
PENDING, DISTINCT, CLOSED = "pending", "distinct", "closed"
REVIEW_STATUSES = (PENDING, LINKED, DISTINCT, CLOSED)
DECISIONS = ("same", "distinct")
EVENT_KINDS = ("merge", "split", "undo")

_SEX = {
    "1": "1",
    "2": "2",
    "男": "1",
    "女": "2",
    "m": "1",
    "f": "2",
    "male": "1",
    "female": "2",
}
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def clean(value: object) -> str | None:
    """NFKC (full-width → half-width), trimmed; empty → None."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


def sex_code(value: object) -> str | None:
    """GB/T 2261.1 code 1/2 from 男/女/male/female/M/F/1/2, else None."""
    text = clean(value)
    return _SEX.get(text.lower()) if text else None


def birth_date(value: object) -> dt.date | None:
    """A birth date from `1990-01-02`, `19900102`, `1990年1月2日`, `1990/1/2` (or a date), else None."""
    if isinstance(value, dt.date):
        return value
    text = clean(value)
    if text is None:
        return None
    text = text.split("T")[0].split(" ")[0]
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
    return None


def id_number(value: object, today: dt.date) -> str | None:
    """An ID number as stored: normalised text, an old 15-digit number upgraded to 18; None if empty."""
    text = clean(value)
    if text is None:
        return None
    number = normalize_id_text(text)
    if len(number) == 15 and number.isdigit():
        return check_id_number(number, today=today).normalized or number
    return number[:24]


def valid_resident_id(number: str | None, today: dt.date) -> bool:
    """Whether a number is a valid 18-character resident ID (check character and birth date)."""
    return number is not None and len(number) == 18 and check_id_number(number, today=today).valid


def band(probability: float, *, accept: float, review: float) -> str:
    """Which decision a match probability falls in: linked (≥ accept), review, or new (below review)."""
    if probability >= accept:
        return LINKED
    if probability >= review:
        return REVIEW
    return NEW


def can_make_person(name: str | None, sex: str | None, born: dt.date | None, today: dt.date) -> bool:
    """A register person needs at least a name, a sex and a birth date not in the future."""
    return bool(name) and sex in ("1", "2") and born is not None and born <= today


def ensure_decision(decision: str) -> None:
    """A review decision is `same` or `distinct`."""
    if decision not in DECISIONS:
        raise ValidationFailed(
            "mpi.decision_unknown",
            "审核结论只能是“同一人”或“不同人”",
            "The decision must be 'same' or 'distinct'",
            {"field": "decision", "allowed": list(DECISIONS)},
        )


def ensure_pending(status: str, review_id: int) -> None:
    """Only a pending review can be decided."""
    if status != PENDING:
        raise Conflict(
            "mpi.review_decided",
            "该比对已审核",
            "This review has already been decided",
            {"id": review_id, "status": status},
        )


def ensure_not_self(keep: int, other: int) -> None:
    """A person cannot be merged into themselves."""
    if keep == other:
        raise ValidationFailed(
            "mpi.merge_self",
            "不能将人员与自身合并",
            "A person cannot be merged into themselves",
            {"field": "other"},
        )


def conflicting_ids(keep_ids: set[str], other_ids: set[str], today: dt.date) -> bool:
    """Two persons with different valid resident ID numbers are two people (twins have consecutive ones)."""
    a = {n for n in keep_ids if valid_resident_id(n, today)}
    b = {n for n in other_ids if valid_resident_id(n, today)}
    return bool(a) and bool(b) and not (a & b)


def id_conflict() -> Conflict:
    """The refusal for merging persons with different valid ID numbers."""
    return Conflict(
        "mpi.merge_id_conflict",
        "两人的有效身份证号码不同，不能合并（派出所及以上可注明理由强制合并）",
        "The two persons have different valid ID numbers and cannot be merged "
        "(a station administrator or above may force it with a reason)",
        {"field": "other"},
    )
