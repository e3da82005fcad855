"""The register exported to Parquet per county (issue 19): scoped, masked by default, audited, chunked."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from liangshi.areas.models import Area
from liangshi.audit.models import AuditEntry
from liangshi.errors import LiangshiError
from liangshi.exchange import parquet
from tests import factories
from tests.conftest import INSIDE, World

HIVE = ds.partitioning(pa.schema([("county_code", pa.string())]), flavor="hive")


def _community_in(world: World, county: str, *, not_code: str | None = None) -> tuple[str, int]:
    with world.session() as s:
        row = s.execute(
            select(Area.code, Area.id)
            .where(Area.county_code == county, Area.level == "community", Area.code != (not_code or ""))
            .order_by(Area.code)
            .limit(1)
        ).one()
    return str(row[0]), int(row[1])


def _city(world: World) -> dict[str, Any]:
    """Persons in two counties of Ezhou: three in 420704 (the personas' district), two in 420703."""
    other_code, other = _community_in(world, "420703")
    numbers = []
    with world.session() as s:
        ctx = world.ctx(s)
        district = world.area("420704")
        place = factories.place(s, ctx, area_id=world.area(INSIDE), district_id=district)
        ids = [factories.person(s, ctx, area_id=world.area(INSIDE), name=n) for n in ("张伟", "李娜", "王芳")]
        ids += [factories.person(s, ctx, area_id=other, name=n) for n in ("赵强", "周敏")]
        from liangshi.persons.models import DocumentVersion

        numbers = list(s.execute(select(DocumentVersion.number)).scalars())
    return {"ids": ids, "numbers": numbers, "other": other_code, "place": place}


def _audit_count(world: World) -> int:
    with world.session() as s:
        return int(s.execute(select(func.count()).where(AuditEntry.action == "register.export")).scalar_one())


def test_export_writes_one_partition_per_county_masked_and_audited(world: World, tmp_path: Path) -> None:
    city = _city(world)
    out = tmp_path / "export"
    with world.session() as s:
        result = parquet.export_parquet(s, world.ctx(s), area_code="420700", directory=out)
    assert result.masked
    persons = ds.dataset(out / "persons", partitioning=HIVE).to_table().to_pylist()
    assert sorted(p["name"] for p in persons) == ["周敏", "张伟", "李娜", "王芳", "赵强"]
    counties = {str(p["county_code"]) for p in persons}
    assert counties == {"420704", "420703"}
    assert (out / "persons" / "county_code=420703" / "part-0.parquet").exists()
    assert pq.read_table(out / "persons" / "county_code=420703" / "part-0.parquet").num_rows == 2
    documents = ds.dataset(out / "documents", partitioning=HIVE).to_table().to_pylist()
    assert len(documents) == 5
    for doc in documents:
        assert "*" in doc["number"]
        assert doc["number"] not in city["numbers"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["masked"] is True
    assert {f["path"] for f in manifest["files"]} >= {
        "persons/county_code=420704/part-0.parquet",
        "persons/county_code=420703/part-0.parquet",
    }
    assert result.rows["persons"] == 5 and result.rows["dwellings"] == 1
    # one audit entry per written file
    assert _audit_count(world) == len(result.files)


def test_a_district_admin_exports_only_their_district_and_unmasks_only_with_a_reason(
    world: World, tmp_path: Path
) -> None:
    city = _city(world)
    with world.session() as s:
        ctx = world.ctx(s, "district_admin_chen")
        result = parquet.export_parquet(s, ctx, area_code="420704", directory=tmp_path / "a")
        assert result.rows["persons"] == 3
        with pytest.raises(LiangshiError) as info:
            parquet.export_parquet(s, ctx, area_code="420700", directory=tmp_path / "b")
        assert info.value.code == "area.not_found"
        with pytest.raises(LiangshiError) as info:
            parquet.export_parquet(s, ctx, area_code="420704", directory=tmp_path / "c", unmasked=True)
        assert info.value.code == "export.reason_required"
        full = parquet.export_parquet(
            s, ctx, area_code="420704", directory=tmp_path / "d", unmasked=True, reason="人口普查比对"
        )
    assert not full.masked
    docs = ds.dataset(tmp_path / "d" / "documents", partitioning=HIVE).to_table().to_pylist()
    assert {d["number"] for d in docs} <= set(city["numbers"]) and len(docs) == 3


def test_refusals_write_nothing(world: World, tmp_path: Path) -> None:
    _city(world)
    with world.session() as s:
        with pytest.raises(LiangshiError) as info:
            parquet.export_parquet(
                s, world.ctx(s, "collector_zhang"), area_code=INSIDE, directory=tmp_path / "x"
            )
        assert info.value.code == "access.forbidden"
        with pytest.raises(LiangshiError) as info:
            parquet.export_parquet(
                s, world.ctx(s), area_code="420700", directory=tmp_path / "y", kinds=("cars",)
            )
        assert info.value.code == "export.kind_unknown"
        busy = tmp_path / "busy"
        busy.mkdir()
        (busy / "keep.txt").write_text("x")
        with pytest.raises(LiangshiError) as info:
            parquet.export_parquet(s, world.ctx(s), area_code="420700", directory=busy)
        assert info.value.code == "export.directory_not_empty"
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
    assert sorted(p.name for p in busy.iterdir()) == ["keep.txt"]
    assert _audit_count(world) == 0


def test_chunks_become_row_groups(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _city(world)
    monkeypatch.setattr(parquet, "CHUNK", 2)
    with world.session() as s:
        parquet.export_parquet(
            s, world.ctx(s), area_code="420704", directory=tmp_path / "e", kinds=("persons",)
        )
    meta = pq.ParquetFile(tmp_path / "e" / "persons" / "county_code=420704" / "part-0.parquet").metadata
    assert meta.num_rows == 3 and meta.num_row_groups == 2


def test_the_api_returns_a_zip_for_the_district_admin_and_refuses_a_collector(
    world: World, client: Any, login: Any
) -> None:
    _city(world)
    r = client.post("/exports/parquet", json={"area": "420704"}, headers=login("district_admin_chen"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = set(zf.namelist())
        assert "manifest.json" in names
        assert "persons/county_code=420704/part-0.parquet" in names
        table = pq.read_table(io.BytesIO(zf.read("persons/county_code=420704/part-0.parquet")))
    assert table.num_rows == 3
    refused = client.post("/exports/parquet", json={"area": INSIDE}, headers=login("collector_zhang"))
    assert refused.status_code == 403
    outside = client.post("/exports/parquet", json={"area": "420700"}, headers=login("district_admin_chen"))
    assert outside.status_code == 404


def test_the_cli_exports(world: World, tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from liangshi.cli.main import app

    _city(world)
    monkeypatch.setenv("LIANGSHI_DATABASE_URL", db_url)
    out = tmp_path / "cli"
    r = CliRunner().invoke(app, ["export", "parquet", "--area", "420700", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["rows"]["persons"] == 5 and summary["masked"] is True
    bad = CliRunner().invoke(app, ["export", "parquet", "--area", "420700", "--out", str(out)])
    assert bad.exit_code != 0
    assert "export.directory_not_empty" in bad.output or "导出目录" in bad.output
