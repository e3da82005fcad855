"""`liangshi plates`: door-plate numbering checks on a CSV (gaps, duplicates, wrong side, order), proposals, and
QR door plates (二维码门牌): the printable sheet of a street or community, and the contact the codes carry.

    liangshi plates gaps --file plates.csv --json
    liangshi plates propose --file plates.csv --street 滨湖南路 --between 12 16 --style fu --reserved 14,18
    liangshi plates sheet --community 凤凰社区 -o plates.pdf --base-url https://ls.example
    liangshi plates contact --area 420704001 --station-name 凤凰派出所 --station-phone 0711-3220110

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
from liangshi.addresses.schemas import PlateContactIn
from liangshi.areas.models import Area
from liangshi.cli.common import context_as, database, fail
from liangshi.config import Settings
from liangshi.errors import Conflict, LiangshiError, NotFound, ValidationFailed
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


def _one(found: list[int], what: str, text: str) -> int:
    """The one id a name or code stands for; none or several is a clear error (exit 2)."""
    if len(found) == 1:
        return found[0]
    if not found:
        raise fail(
            NotFound(
                "plate_sheet.place_not_found", f"未找到{what}“{text}”", f"No {what} {text!r}", {"input": text}
            )
        )
    raise fail(
        Conflict(
            "plate_sheet.place_ambiguous",
            f"有多个{what}名为“{text}”，请用编码或 --district 区分",
            f"Several {what}s are called {text!r}: give the code or --district",
            {"input": text, "ids": found},
        )
    )


@app.command("sheet")
def sheet(
    output: Path = typer.Option(..., "--output", "-o", help="The PDF file to write"),
    street: str | None = typer.Option(None, "--street", help="A street's current name"),
    community: str | None = typer.Option(
        None, "--community", help="A community or village: its name or code"
    ),
    district: str | None = typer.Option(None, "--district", help="The district code a street name lies in"),
    base_url: str | None = typer.Option(
        None, "--base-url", help="Where the QR codes point (default: LIANGSHI_PUBLIC_BASE_URL)"
    ),
    as_user: str | None = typer.Option(None, "--as", help="Act as this user (default: the system operator)"),
) -> None:
    """Printable QR door plates (PDF) of a street or a community / 二维码门牌打印页."""
    if (street is None) == (community is None):
        typer.echo(
            "input.invalid: 请给出 --street 或 --community 之一 / give exactly one of --street or --community",
            err=True,
        )
        raise typer.Exit(2)
    url = base_url or Settings().public_base_url
    if not url:
        typer.echo(
            "input.invalid: 请用 --base-url 或 LIANGSHI_PUBLIC_BASE_URL 给出二维码指向的网址 / give --base-url",
            err=True,
        )
        raise typer.Exit(2)
    with database() as (session, clock):
        try:
            ctx = context_as(session, clock, as_user, purpose="plate sheet")
            found = service.sheet_places(
                session, street=street, community=community, district=district, on=clock.today()
            )
            place = _one(found, "街路巷" if street is not None else "社区", street or community or "")
            if street is not None:
                title, body = service.plate_sheet(session, ctx, base_url=url, street_id=place)
            else:
                title, body = service.plate_sheet(session, ctx, base_url=url, area_id=place)
        except LiangshiError as exc:
            raise fail(exc) from None
    output.write_bytes(body)
    out.print(f"{title}: {output} ({len(body)} bytes)")


@app.command("contact")
def contact(
    area: str = typer.Option(..., "--area", help="The area's code (its plates and the areas below it)"),
    station_name: str = typer.Option(..., "--station-name"),
    station_phone: str = typer.Option(..., "--station-phone"),
    grid_name: str | None = typer.Option(None, "--grid-name"),
    grid_phone: str | None = typer.Option(None, "--grid-phone"),
    as_user: str | None = typer.Option(None, "--as", help="Act as this user (default: the system operator)"),
) -> None:
    """Set the station's and grid's contact the area's QR plates carry / 设置门牌责任单位联系方式."""
    with database() as (session, clock):
        try:
            ctx = context_as(session, clock, as_user, purpose="plate contact")
            area_id = session.execute(select(Area.id).where(Area.code == area)).scalar_one_or_none()
            if area_id is None:
                raise NotFound(
                    "area.not_found", "未找到该区划", "Area not found", {"field": "area", "code": area}
                )
            data = PlateContactIn(
                station_name=station_name,
                station_phone=station_phone,
                grid_name=grid_name,
                grid_phone=grid_phone,
            )
            found = service.set_plate_contact(session, ctx, int(area_id), data)
        except LiangshiError as exc:
            raise fail(exc) from None
        except ValueError as exc:
            typer.echo(f"input.invalid: {exc}", err=True)
            raise typer.Exit(2) from None
    typer.echo(json.dumps(found, ensure_ascii=False))
