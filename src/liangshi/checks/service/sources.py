"""Department files held for checking: every row as sent, a bad row's problems reported all at once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, text
from sqlalchemy.orm import Session

from liangshi.addresses.rules import parse_plate_number
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.checks.models import SourceRecord
from liangshi.common.idnumber import normalize_id_text
from liangshi.errors import LiangshiError, ValidationFailed
from liangshi.exchange import formats
from liangshi.exchange.reader import open_table
from liangshi.registry import Context
from liangshi.registry.usecases import log
from liangshi.sealed import index_rows, session_keyring

# The department files a check can compare the register with, by import kind.
SOURCE_KINDS = ("dwellings", "persons", "rentals")


# -- department files held for checking -----------------------------------------------------------------------


@dataclass
class SourceLoad:
    """What loading a department's file for checking did: rows kept, and the bad ones (line, field, code)."""

    source: str
    kind: str
    rows: int = 0
    kept: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)


def load_source(session: Session, ctx: Context, *, source: str, kind: str, path: Path) -> SourceLoad:
    """Hold a department's file (dwellings, persons or rentals) as sent, replacing that source's earlier rows.

    A row's problems are all reported (line, field, code) and the row is left out; the good rows are kept.
    """
    ctx.actor.ensure("check.source")
    if kind not in SOURCE_KINDS:
        raise ValidationFailed(
            "check.source_kind_unknown",
            f"不能用于核查的文件类型：{kind}",
            f"Not a kind of file checks compare with: {kind}",
            {"field": "kind", "allowed": list(SOURCE_KINDS)},
        )
    name = source.strip()
    if not name or len(name) > 40:
        raise ValidationFailed(
            "check.source_name_invalid",
            "来源名称须为1至40个字符",
            "A source name has 1 to 40 characters",
            {"field": "source"},
        )
    table = open_table(path)
    mapping = formats.header_map(kind, table.header)
    areas_by_code = {
        code: (aid, county, apath)
        for code, aid, county, apath in session.execute(
            select(Area.code, Area.id, Area.county_code, Area.path)
        )
    }
    session.execute(delete(SourceRecord).where(SourceRecord.source == name))
    out = SourceLoad(name, kind)
    batch: list[dict[str, Any]] = []
    for line, cells in table.rows:
        out.rows += 1
        values = formats.row_values(mapping, cells)
        rows, problems = _source_rows(values, kind, line, ctx.today)
        community = values.get("community_code") or ""
        place = areas_by_code.get(community)
        if place is None or not ctx.actor.covers_path(place[2]):
            problems.append({"line": line, "field": "community_code", "code": "check.source_area_unknown"})
        if problems:
            out.problems.extend(problems)
            continue
        assert place is not None
        for row in rows:
            batch.append(
                {
                    **row,
                    "source": name,
                    "kind": kind,
                    "line": line,
                    "area_id": place[0],
                    "county_code": place[1],
                    "loaded_at": ctx.now,
                    "community_code": community,
                }
            )
        out.kept += 1
        if len(batch) >= 5000:
            _insert(session, batch)
            batch = []
    if batch:
        _insert(session, batch)
    # After a bulk load, analyse what was loaded: the checks' plans depend on it.
    session.execute(text("ANALYZE check_source_records"))
    log(
        ctx,
        session,
        [
            audit.Event(
                "check.source_load",
                detail={
                    "source": name,
                    "kind": kind,
                    "file": path.name,
                    "rows": out.rows,
                    "kept": out.kept,
                    "problems": len(out.problems),
                },
            )
        ],
    )
    session.flush()
    return out


def _insert(session: Session, batch: list[dict[str, Any]]) -> None:
    # The column type encrypts the sealed values; an ORM bulk insert fires no mapper event, so the index here.
    index_rows(session_keyring(session), cast(Table, SourceRecord.__table__), batch)
    session.execute(insert(SourceRecord), batch)


def _source_rows(
    values: dict[str, str | None], kind: str, line: int, today: dt.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A file row as source records (a rental: one per tenant) and all its problems at once."""
    problems: list[dict[str, Any]] = []
    base: dict[str, Any] = {}

    def note_problem(field_name: str, exc: LiangshiError | ValueError) -> None:
        code = exc.code if isinstance(exc, LiangshiError) else "value.invalid"
        problems.append({"line": line, "field": field_name, "code": code})

    if kind in ("dwellings", "rentals"):
        number = values.get("number") or ""
        base |= {
            "street": values.get("street") or "",
            "number": number,
            "building": values.get("building"),
            "unit": values.get("unit"),
            "room": values.get("room"),
        }
        try:
            base["base_number"], base["sub_number"] = parse_plate_number(number)
        except LiangshiError as exc:
            note_problem("number", exc)
    if kind == "dwellings":
        base |= {"status": values.get("status"), "use": values.get("use")}
        return [base], problems
    if kind == "persons":
        raw = values.get("id_number")
        born: dt.date | None = None
        if values.get("birth_date"):
            try:
                born = formats.parse_date(values["birth_date"] or "", "birth_date")
            except LiangshiError as exc:
                note_problem("birth_date", exc)
        base |= {
            "doc_type": values.get("doc_type") or "resident_id",
            "id_number": raw,
            "id_norm": normalize_id_text(raw) if raw else None,
            "name": values.get("name"),
            "sex": (values.get("sex") or "")[:1] or None,
            "birth_date": born,
        }
        return [base], problems
    signed = (values.get("agreement_signed") or "").strip().lower()
    base |= {
        "landlord_id_number": values.get("landlord_id_number"),
        "agreement_signed": "yes"
        if signed in ("yes", "y", "1", "是", "已签", "true")
        else "no"
        if signed
        else None,
    }
    tenants = [t for t in (values.get("tenant_id_numbers") or "").replace("；", ";").split(";") if t.strip()]
    if not tenants:
        return [base], problems
    return [
        base | {"doc_type": "resident_id", "id_number": t.strip(), "id_norm": normalize_id_text(t)}
        for t in tenants
    ], problems
