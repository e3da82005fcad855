"""`liangshi plates`: door-plate numbering checks on a CSV (gaps, duplicates, wrong side, order) and proposals.

    liangshi plates gaps --file plates.csv --json
    liangshi plates propose --file plates.csv --street 滨湖南路 --between 12 16 --style fu --reserved 14,18

The CSV has a header row with `street, number[, side][, chainage_m]` (UTF-8, UTF-8 with BOM, or GB18030).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from liangshi.access.service import SYSTEM
from liangshi.addresses import service
from liangshi.addresses.numbering import (
    LineError,
    PlateEntry,
    StreetReport,
    analyse_plates,
    propose_number,
    read_plates_csv,
)
from liangshi.addresses.rules import NUMBERING_STYLES
from liangshi.areas.models import Area
from liangshi.cli.common import database
from liangshi.errors import LiangshiError, ValidationFailed
from liangshi.registry import Context

app = typer.Typer(help="Door-plate numbering / 门牌编号检查", no_args_is_help=True)

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False)


def _report_errors(errors: list[LineError]) -> typer.Exit:
    for e in errors:
        err.print(str(e), markup=False)
    err.print(f"{len(errors)} error(s) / {len(errors)}处错误; nothing analysed / 未做分析", markup=False)
    return typer.Exit(2)


def _load(file: Path) -> list[PlateEntry]:
    try:
        data = file.read_bytes()
    except OSError as exc:
        error = ValidationFailed(
            "file.unreadable",
            f"无法读取文件“{file}”：{exc.strerror or exc}",
            f"Cannot read file {str(file)!r}: {exc.strerror or exc}",
            {"field": "file", "input": str(file)},
        )
        raise _report_errors([LineError(0, "file", error)]) from None
    entries, errors = read_plates_csv(data)
    if errors:
        raise _report_errors(errors)
    return entries


def _fmt(values: list[int] | list[str]) -> str:
    text = ", ".join(str(v) for v in values)
    return text if len(text) <= 80 else text[:77] + "…"


@app.command("gaps")
def gaps(
    file: Path | None = typer.Option(None, "--file", "-f", help="CSV: street, number[, side][, chainage_m]"),
    area: str | None = typer.Option(
        None, "--area", help="Or: the plates of this area in the database (code)"
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object keyed by street"),
) -> None:
    """Missing, duplicate, wrong-side and out-of-order numbers per street / 缺号、重号、错侧、乱序."""
    if (file is None) == (area is None):
        typer.echo(
            "input.invalid: 请给出 --file 或 --area 之一 / give exactly one of --file or --area", err=True
        )
        raise typer.Exit(2)
    if area is not None:
        found = _gaps_in_database(area)
        if as_json:
            typer.echo(json.dumps(found, ensure_ascii=False))
            return
        reports = {street: _report(street, value) for street, value in found.items()}
    else:
        assert file is not None
        reports = analyse_plates(_load(file))
    if as_json:
        typer.echo(json.dumps({s: r.to_json() for s, r in reports.items()}, ensure_ascii=False))
        return
    table = Table(title="门牌编号检查 / plate numbering check")
    for column in ("街路巷 street", "缺单号 missing odd", "缺双号 missing even", "重号 duplicates"):
        table.add_column(column)
    table.add_column("错侧 wrong side")
    table.add_column("乱序 out of order")
    for street, r in reports.items():
        table.add_row(
            street,
            _fmt(r.missing_odd),
            _fmt(r.missing_even),
            _fmt(r.duplicates),
            _fmt(r.parity_violations),
            _fmt(r.order_violations),
        )
    out.print(table)
    defective = sum(not r.clean for r in reports.values())
    out.print(f"{len(reports)} street(s) / 条街路巷, {defective} with defects / 有问题")


def _reserved(text: str) -> list[int]:
    numbers: list[int] = []
    for part in text.replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not (part.isascii() and part.isdigit() and int(part) > 0):
            raise ValidationFailed(
                "plate.reserved_invalid",
                f"预留号“{part}”无效：应为逗号分隔的正整数，如 14,18",
                f"Invalid reserved number {part!r}: expected comma-separated positive integers like 14,18",
                {"field": "reserved", "input": text},
            )
        numbers.append(int(part))
    return numbers


@app.command("propose")
def propose(
    file: Path = typer.Option(..., "--file", "-f", help="CSV: street, number[, side][, chainage_m]"),
    street: str = typer.Option(..., "--street", help="Street name as in the file / 街路巷名称"),
    between: tuple[str, str] = typer.Option(
        ..., "--between", help="The two neighbouring numbers, e.g. 12 16"
    ),
    style: str = typer.Option("dash", "--style", help=f"Sub-number style: {'|'.join(NUMBERING_STYLES)}"),
    reserved: str = typer.Option("", "--reserved", help="Reserved numbers, e.g. 14,18 / 预留号"),
    as_json: bool = typer.Option(False, "--json", help="Print the proposal as JSON"),
) -> None:
    """Propose a number for a new door between two plates / 为两门牌之间的新门编号."""
    entries = _load(file)
    try:
        proposal = propose_number(
            entries, street.strip(), between[0], between[1], reserved=_reserved(reserved), style=style
        )
    except LiangshiError as exc:
        field = exc.data.get("field", "-")
        err.print(f"field {field}: {exc.code}: {exc.message_zh} / {exc.message_en}", markup=False)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(proposal.to_json(), ensure_ascii=False))
    else:
        typer.echo(proposal.text)


def _gaps_in_database(area_code: str) -> dict[str, Any]:
    """The numbering report of an area's plates in the configured database, as the system operator."""
    with database() as (session, clock):
        area_id = session.execute(select(Area.id).where(Area.code == area_code)).scalar_one_or_none()
        if area_id is None:
            typer.echo(f"area.not_found: 未找到区划 / no area {area_code}", err=True)
            raise typer.Exit(2)
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="plate numbering check")
        return service.plate_gaps(session, ctx, int(area_id), None)


def _report(street: str, value: dict[str, Any]) -> StreetReport:
    return StreetReport(street, **value)
