"""`liangshi campaign`: set up a campaign from a file, assign work from a CSV, print completeness.

liangshi campaign create --file campaign.toml [--calendar holidays.toml] [--as station_admin_li]
liangshi campaign assign 1 --csv assignments.csv [--as station_admin_li]
liangshi campaign team 1 --area 420704001001 --name 滨湖社区专班 --member police_wu:community_police:leader …
liangshi campaign progress --area 420704001001 --json
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.table import Table

from liangshi.campaign import counts, organisation, progress, rules
from liangshi.campaign.schemas import MemberIn, TeamCreate
from liangshi.cli.common import context_as, database, err, fail, out
from liangshi.errors import LiangshiError, ValidationFailed

app = typer.Typer(help="Campaigns, assignments, progress / 采集活动", no_args_is_help=True)


@app.callback()
def _root() -> None:
    """Campaigns and phases, bulk assignment, completeness progress."""


def _unreadable(path: Path, why_zh: str, why_en: str) -> ValidationFailed:
    return ValidationFailed(
        "file.unreadable",
        f"无法读取文件“{path}”：{why_zh}",
        f"Cannot read file {str(path)!r}: {why_en}",
        {"file": str(path)},
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValidationFailed(
            "file.not_found", "文件不存在", "File not found", {"file": str(path)}
        ) from None
    except UnicodeDecodeError:
        raise _unreadable(path, "须为UTF-8编码", "it must be UTF-8") from None


def _document(path: Path) -> dict[str, Any]:
    text = _read(path)
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise _unreadable(path, str(exc), str(exc)) from None
    if not isinstance(data, dict):
        raise _unreadable(path, "须为一个对象", "it must hold one object")
    return data


@app.command("create")
def create(
    file: Path = typer.Option(
        ..., "--file", help="The campaign as TOML or JSON (name, area, starts_on, phases …)"
    ),
    calendar: Path | None = typer.Option(
        None, "--calendar", help="A holiday calendar file (holidays, workdays)"
    ),
    as_user: str | None = typer.Option(None, "--as", help="Act as this user (default: the system operator)"),
) -> None:
    """Set up a campaign with its phases (default: the seed's five) and pilot areas."""
    try:
        data = _document(file)
        if calendar is not None:
            data["calendar"] = _document(calendar)
        spec = rules.parse_campaign(data)
        with database() as (session, clock):
            c = organisation.create_campaign(session, context_as(session, clock, as_user), spec)
    except LiangshiError as exc:
        raise fail(exc) from None
    print(f"采集活动已建立 / campaign created: #{c.id} {c.name} ({c.area_code} {c.area_name})")
    for p in c.phases:
        print(f"  {p.key:<10} {p.name_zh} / {p.name_en}: {p.starts_on} – {p.ends_on or '…'} [{p.status}]")


def _member(spec: str) -> MemberIn:
    """`username:role[:leader]` as a team member (roles by their codes: community_police, auxiliary, …)."""
    parts = [x.strip() for x in spec.split(":")]
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "leader"):
        raise ValidationFailed(
            "team.bad_member",
            f"成员“{spec}”须写作 用户名:角色[:leader]",
            f"Member {spec!r} must read username:role[:leader]",
            {"field": "member", "value": spec, "roles": list(rules.TEAM_ROLES)},
        )
    try:
        return MemberIn.model_validate({"username": parts[0], "role": parts[1], "leader": len(parts) == 3})
    except ValidationError:
        raise ValidationFailed(
            "team.bad_role",
            f"成员“{spec}”的角色不在可选范围内",
            f"Member {spec!r} has an unknown role",
            {"field": "member", "value": spec, "roles": list(rules.TEAM_ROLES)},
        ) from None


@app.command("team")
def team(
    campaign_id: int = typer.Argument(..., help="The campaign's number"),
    area: str = typer.Option(..., "--area", help="The community's 12-digit code"),
    name: str = typer.Option(..., "--name", help="The team's name (专班)"),
    member: list[str] = typer.Option(
        [], "--member", help="username:role[:leader], repeated; roles: " + ", ".join(rules.TEAM_ROLES)
    ),
    as_user: str | None = typer.Option(None, "--as", help="Act as this user (default: the system operator)"),
) -> None:
    """Form a community's team in a campaign: its members, their roles and the leader."""
    try:
        members = [_member(m) for m in member]
        try:
            data = TeamCreate.model_validate({"area_code": area.strip(), "name": name, "members": members})
        except ValidationError as exc:
            field = str(exc.errors()[0]["loc"][0]) if exc.errors() else "team"
            raise ValidationFailed(
                "team.invalid", f"专班信息有误：{field}", f"Invalid team: {field}", {"field": field}
            ) from None
        with database() as (session, clock):
            t = organisation.create_team(session, context_as(session, clock, as_user), campaign_id, data)
    except LiangshiError as exc:
        raise fail(exc) from None
    print(f"专班已建立 / team formed: #{t.id} {t.name}")
    for m in t.members:
        role_zh, role_en = rules.TEAM_ROLES.get(m.role, (m.role, m.role))
        lead = " 组长 / leader" if m.leader else ""
        print(f"  {m.username}: {role_zh} / {role_en}{lead}")


@app.command("assign")
def assign(
    campaign_id: int = typer.Argument(..., help="The campaign's number"),
    csv_file: Path = typer.Option(..., "--csv", help="collector,unit,target,due_on (header first)"),
    as_user: str | None = typer.Option(None, "--as", help="Act as this user (default: the system operator)"),
) -> None:
    """Assign work units from a CSV; on any error nothing is written and each line, field and reason is listed."""
    try:
        text = _read(csv_file)
        with database() as (session, clock):
            result = organisation.bulk_assign(session, context_as(session, clock, as_user), campaign_id, text)
    except LiangshiError as exc:
        raise fail(exc) from None
    if result.errors:
        err.print(
            "[red]assignment.bulk_invalid[/red]: 任务清单有误，未写入任何任务 / the file has errors; nothing written"
        )
        for e in result.errors:
            err.print(
                f"  {csv_file}:{e['line']} {e['field']}: {e['reason_zh']} / {e['reason_en']}",
                soft_wrap=True,
                markup=False,
            )
        raise typer.Exit(2)
    print(f"已分派 / assigned: {result.created}")


@app.command("recount")
def recount() -> None:
    """Recount the kept progress counts of every building now (for cron shortly after midnight, China time;
    `liangshi serve` runs it itself unless campaign_recount_after_midnight is -1)."""
    try:
        with database() as (session, clock):
            n = counts.refresh(session, today=clock.today(), now=clock.now(), full=True)
    except LiangshiError as exc:
        raise fail(exc) from None
    print(f"已重算楼栋 / buildings recounted: {n}")


@app.command("progress")
def show_progress(
    area: str | None = typer.Option(None, "--area", help="Area code (district, township, community or grid)"),
    campaign: int | None = typer.Option(None, "--campaign", help="Only what this campaign (id) covers"),
    as_json: bool = typer.Option(False, "--json", help="Print the seven counts as one JSON object"),
    as_user: str | None = typer.Option(None, "--as", help="Act as this user (default: the system operator)"),
) -> None:
    """Completeness of an area: buildings visited, dwellings with a status, households whose count matches."""
    try:
        with database() as (session, clock):
            ctx = context_as(session, clock, as_user)
            if area is None and campaign is None:
                raise typer.BadParameter("give --area or --campaign (or both)")
            if as_json:
                print(json.dumps(progress.area_progress(session, ctx, area, campaign_id=campaign)))
                return
            report = progress.report(session, ctx, area, campaign_id=campaign)
    except LiangshiError as exc:
        raise fail(exc) from None
    table = Table(title=f"{report.area_name} {report.area_code}")
    for col in (
        "区划 area",
        "楼栋 buildings",
        "已走访 visited",
        "房屋 dwellings",
        "有状态 with status",
        "户 households",
        "人数相符 matched",
    ):
        table.add_column(col, justify="left" if col.startswith("区划") else "right")
    for label, c in [(report.area_name, report.totals), *[(r.label, r) for r in report.areas]]:
        table.add_row(
            label,
            str(c.buildings),
            str(c.buildings_visited),
            str(c.dwellings),
            str(c.dwellings_with_status),
            str(c.households),
            str(c.households_count_matched),
        )
    out.print(table)
