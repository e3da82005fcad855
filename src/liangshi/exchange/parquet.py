"""The register exported to Parquet, partitioned by county: the hand-off to a data platform (issue 19).

One directory per object kind, one Hive-style partition per county (``persons/county_code=420704/part-0.parquet``;
the county code is in the path, not in the file), so Spark, DuckDB or any lakehouse reads it with partition pruning
on the same distribution column the PostgreSQL tables carry (``county_code``; see docs/deploy.md for Citus). Each
row is a current-knowledge version (not superseded in record time) with its valid interval: the register's present
knowledge of every period.

Rows are read and written in chunks (a server-side cursor, one Parquet row group per chunk), so memory stays
bounded whatever the size of the register. The export is scoped to the actor's jurisdiction; ID numbers and
phone numbers are masked unless the actor may unmask and gives a reason; every export is audited (one entry per
kind and county, with the row count and the file's SHA-256), and a ``manifest.json`` lists every file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric, TypeDecorator, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.addresses.models import ADDRESS, STREET
from liangshi.areas.models import AREA, Area
from liangshi.audit import service as audit
from liangshi.buildings.models import BUILDING, DWELLING
from liangshi.common.idnumber import mask_id_number
from liangshi.errors import NotFound, ValidationFailed
from liangshi.permits.models import PERMIT
from liangshi.persons.models import DOCUMENT, HOUSEHOLD, MEMBERSHIP, PERSON
from liangshi.registry import Context, Kind
from liangshi.rentals.models import RENTAL, TENANT
from liangshi.residence.models import RESIDENCE
from liangshi.venues.models import VENUE

__all__ = ["EXPORT_KINDS", "ExportResult", "export_parquet"]

#: The kinds exported, in order (directory name -> kind).
EXPORT_KINDS: dict[str, Kind] = {
    "areas": AREA,
    "streets": STREET,
    "addresses": ADDRESS,
    "buildings": BUILDING,
    "dwellings": DWELLING,
    "persons": PERSON,
    "documents": DOCUMENT,
    "households": HOUSEHOLD,
    "memberships": MEMBERSHIP,
    "residences": RESIDENCE,
    "permits": PERMIT,
    "rentals": RENTAL,
    "rental_tenants": TENANT,
    "venues": VENUE,
}

#: Rows per chunk (and per Parquet row group).
CHUNK = 50_000

_META = ("valid_from", "valid_to", "recorded_at", "source_kind")


def _mask_phone(value: Any) -> Any:
    if not isinstance(value, str) or len(value) < 4:
        return value
    return "*" * (len(value) - 4) + value[-4:]


#: Columns masked unless the export is unmasked: kind name -> column -> masking function.
MASKED: dict[str, dict[str, Callable[[Any], Any]]] = {
    "document": {"number": lambda v: mask_id_number(v) if isinstance(v, str) else v},
    "person": {"phone": _mask_phone},
}


@dataclass(frozen=True)
class ExportFile:
    """One written partition file."""

    kind: str
    county_code: str
    path: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    directory: Path
    masked: bool
    files: tuple[ExportFile, ...]

    @property
    def rows(self) -> dict[str, int]:
        """Rows per kind directory."""
        totals: dict[str, int] = {}
        for f in self.files:
            totals[f.kind] = totals.get(f.kind, 0) + f.rows
        return totals


def _rows(session: Session, ctx: Context, kind: Kind, county: str) -> Iterator[list[dict[str, Any]]]:
    """The current-knowledge versions of a kind in one county, within the actor's jurisdiction, in chunks."""
    e, v = kind.entity, kind.version
    area_col = e.id if e is Area else e.area_id
    cols = [e.id.label("id"), area_col.label("area_id")]
    cols += [getattr(v, a).label(a) for a in kind.attributes] + [getattr(v, m).label(m) for m in _META]
    stmt = (
        select(*cols)
        .join(v, v.entity_id == e.id)
        .where(e.county_code == county, registry.history.current_condition(v))
        .order_by(e.id, v.valid_from)
    )
    stmt = registry.scoped(stmt, kind, ctx.actor)
    result = session.execute(stmt.execution_options(yield_per=CHUNK))
    for part in result.mappings().partitions(CHUNK):
        yield [dict(row) for row in part]


def _counties(session: Session, ctx: Context, area: Area) -> list[str]:
    """The counties under an area (the area's own when it is a county or below)."""
    rows = session.execute(
        select(Area.county_code).where(Area.path.startswith(area.path)).distinct().order_by(Area.county_code)
    ).scalars()
    return [c for c in rows if c and c != "000000"]


def _schema(kind: Kind) -> Any:
    """The Arrow schema of a kind: its columns as the table declares them (every column nullable)."""
    import pyarrow as pa

    def arrow(column: Any) -> Any:
        sql_type = column.type
        if isinstance(sql_type, TypeDecorator):
            sql_type = sql_type.impl_instance
        if isinstance(sql_type, Boolean):
            return pa.bool_()
        if isinstance(sql_type, Integer):
            return pa.int64()
        if isinstance(sql_type, Float | Numeric):
            return pa.float64()
        if isinstance(sql_type, DateTime):
            return pa.timestamp("us", tz="UTC")
        if isinstance(sql_type, Date):
            return pa.date32()
        return pa.string()

    v = kind.version
    fields = [
        pa.field("id", pa.int64()),
        pa.field("area_id", pa.int64()),
        pa.field("county_code", pa.string()),
    ]
    for name in (*kind.attributes, *_META):
        fields.append(pa.field(name, arrow(getattr(v, name).property.columns[0])))
    return pa.schema(fields)


def export_parquet(
    session: Session,
    ctx: Context,
    *,
    area_code: str,
    directory: Path,
    unmasked: bool = False,
    reason: str | None = None,
    kinds: tuple[str, ...] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ExportResult:
    """Write the register under ``area_code`` to ``directory`` as Parquet, one partition per county."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ctx.actor.ensure("register.export")
    if unmasked:
        ctx.actor.ensure("person.unmask")
        if not reason or not reason.strip():
            raise ValidationFailed(
                "export.reason_required",
                "导出完整证件号码须说明理由",
                "An unmasked export needs a reason",
                {"field": "reason"},
            )
    chosen = kinds or tuple(EXPORT_KINDS)
    unknown = [k for k in chosen if k not in EXPORT_KINDS]
    if unknown:
        raise ValidationFailed(
            "export.kind_unknown",
            f"未知的导出对象：{unknown[0]}",
            f"Unknown kind to export: {unknown[0]}",
            {"field": "kinds", "value": unknown[0], "allowed": list(EXPORT_KINDS)},
        )
    area = session.execute(
        select(Area).where(Area.code == area_code, Area.path.startswith(ctx.actor.area_path))
    ).scalar_one_or_none()
    if area is None:
        raise NotFound(
            "area.not_found", "未找到该区划", "Area not found", {"field": "area", "code": area_code}
        )
    if directory.exists() and any(directory.iterdir()):
        raise ValidationFailed(
            "export.directory_not_empty",
            "导出目录须为空目录",
            "The export directory must be empty",
            {"field": "out"},
        )
    counties = _counties(session, ctx, area)
    files: list[ExportFile] = []
    events: list[audit.Event] = []
    for name in chosen:
        kind = EXPORT_KINDS[name]
        schema = _schema(kind)
        masks = {} if unmasked else MASKED.get(kind.name, {})
        for county in counties:
            target = directory / name / f"county_code={county}" / "part-0.parquet"
            writer: Any = None
            rows = 0
            try:
                for chunk in _rows(session, ctx, kind, county):
                    for column, fn in masks.items():
                        for row in chunk:
                            row[column] = fn(row[column])
                    if writer is None:
                        target.parent.mkdir(parents=True, exist_ok=True)
                        writer = pq.ParquetWriter(target, schema, compression="zstd")
                    writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
                    rows += len(chunk)
                    if progress is not None:
                        progress(name, len(chunk))
            finally:
                if writer is not None:
                    writer.close()
            if not rows:
                continue
            digest = hashlib.sha256(target.read_bytes()).hexdigest()
            relative = str(target.relative_to(directory))
            files.append(ExportFile(name, county, relative, rows, digest))
            events.append(
                audit.Event(
                    "register.export",
                    object_kind=kind.name,
                    detail={
                        "area": area_code,
                        "county_code": county,
                        "rows": rows,
                        "file": relative,
                        "sha256": digest,
                        "masked": not unmasked,
                        **({"reason": reason} if unmasked else {}),
                    },
                )
            )
    directory.mkdir(parents=True, exist_ok=True)
    manifest = {
        "area": area_code,
        "exported_at": ctx.now.isoformat(),
        "masked": not unmasked,
        "partitioning": "hive: county_code",
        "files": [f.__dict__ for f in files],
    }
    (directory / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    registry.log(ctx, session, events)
    return ExportResult(directory, not unmasked, tuple(files))
