"""Export route: the register under an area as Parquet partitioned by county, in one zip (issue 19)."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from liangshi.exchange import parquet
from liangshi.http.tx import unit

router = APIRouter(tags=["export 数据导出"])


class ParquetExport(BaseModel):
    """What to export: an area (its counties), masked unless unmasked with a reason."""

    area: str = Field(..., max_length=15, description="Area code (city, district, township or community)")
    unmasked: bool = Field(False, description="Full ID and phone numbers (needs person.unmask and a reason)")
    reason: str | None = Field(None, max_length=500, description="Why the full numbers are needed")
    kinds: list[str] | None = Field(None, max_length=20, description="Kinds to export (default: every kind)")


@router.post(
    "/exports/parquet",
    summary="The register under an area as Parquet, partitioned by county (zip)",
    response_class=FileResponse,
)
def export_parquet(request: Request, body: ParquetExport) -> FileResponse:
    """A zip of `<kind>/county_code=<code>/part-0.parquet` files and `manifest.json`; audited per file."""
    work = Path(tempfile.mkdtemp(prefix="liangshi-export-"))
    try:
        with unit(request) as (session, ctx):
            parquet.export_parquet(
                session,
                ctx,
                area_code=body.area,
                directory=work / "data",
                unmasked=body.unmasked,
                reason=body.reason,
                kinds=tuple(body.kinds) if body.kinds else None,
            )
        archive = work / "export.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
            for path in sorted((work / "data").rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(work / "data"))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return FileResponse(
        archive,
        media_type="application/zip",
        filename=f"liangshi-{body.area}-parquet.zip",
        background=BackgroundTask(shutil.rmtree, work, ignore_errors=True),
    )
