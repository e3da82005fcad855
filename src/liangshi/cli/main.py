"""`liangshi` command: database, server, users, audit, validation, demo."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.table import Table

from liangshi.cli.common import actor_as, database, err, fail, out
from liangshi.clock import Clock
from liangshi.config import Settings
from liangshi.errors import LiangshiError

app = typer.Typer(help="两实 liangshi: registry of actual population and housing", no_args_is_help=True)
db_app = typer.Typer(help="Database schema / 数据库", no_args_is_help=True)
user_app = typer.Typer(help="Users / 用户", no_args_is_help=True)
audit_app = typer.Typer(help="Audit log / 审计日志", no_args_is_help=True)
validate_app = typer.Typer(help="Validate input / 校验", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data / 演示数据", no_args_is_help=True)
areas_app = typer.Typer(help="Areas / 区划", no_args_is_help=True)


def _mount_domain_apps() -> None:
    from liangshi.cli.address import app as address_app
    from liangshi.cli.departments import app as dept_app
    from liangshi.cli.kpis import kpis
    from liangshi.cli.link import app as link_app
    from liangshi.cli.plates import app as plates_app
    from liangshi.cli.venues import app as venues_app

    app.add_typer(plates_app, name="plates", help="Door plates: gaps and proposals / 门牌编号检查")
    app.add_typer(address_app, name="address", help="Addresses: parse free text / 地址解析")
    app.add_typer(venues_app, name="venues", help="Hotels and internet cafés / 旅店网吧")
    app.add_typer(dept_app, name="dept", help="Department data exchange / 部门数据交换")
    app.command("kpis")(kpis)
    from liangshi.mpi.cli import add_commands as mpi_commands

    mpi_commands(link_app)  # `liangshi link persons`: the master person index over the register
    app.add_typer(link_app, name="link", help="Record linkage: dedupe, explain, persons / 记录关联")


_mount_domain_apps()

for sub, name in (
    (db_app, "db"),
    (user_app, "user"),
    (audit_app, "audit"),
    (validate_app, "validate"),
    (demo_app, "demo"),
    (areas_app, "areas"),
):
    app.add_typer(sub, name=name)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Bring the schema up to date and load Ezhou's areas (idempotent)."""
    from liangshi import migrate
    from liangshi.access.service import SYSTEM
    from liangshi.areas import service as areas
    from liangshi.common.codes import ezhou_areas
    from liangshi.db import make_engine
    from liangshi.registry import Context

    settings = Settings()
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine, revision)
    engine.dispose()
    with database() as (session, clock):
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="gazetteer")
        added = areas.load_gazetteer(session, ctx, ezhou_areas())
    out.print(
        f"数据库已升级 / database upgraded ({settings.database_url.split('://')[0]}); 新增区划 areas added: {added}"
    )


@db_app.command("kpi-daily")
def db_kpi_daily(
    rebuild: bool = typer.Option(False, "--rebuild", help="Rebuild the aggregate from the registry tables"),
) -> None:
    """Fold the KPI deltas into the daily aggregate (rebuild it if its triggers are missing) / 指标日汇总."""
    from sqlalchemy import func, select

    from liangshi.kpis import daily
    from liangshi.kpis.models import KpiDaily

    with database() as (session, _):
        if rebuild:
            daily.install(session)
            done = "rebuilt"
        else:
            done = daily.maintain(session)
        rows = session.execute(select(func.count()).select_from(KpiDaily)).scalar_one()
    label = {"rebuilt": "已重建 rebuilt", "compacted": "已归并 folded"}[done]
    out.print(f"指标日汇总 KPI daily aggregate: {label}; {rows:,} rows")


@app.command("serve")
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the API and web app."""
    import uvicorn

    from liangshi.http.app import create_app
    from liangshi.kpis.service import start_warming

    settings = Settings()
    web = create_app(settings)
    if settings.kpi_warm_seconds > 0:
        state = web.state
        start_warming(state.sessions, state.kpi_cache, state.clock, every=settings.kpi_warm_seconds)
    uvicorn.run(web, host=host, port=port, log_level="info")


@user_app.command("add")
def user_add(
    username: str,
    role: str = typer.Option(
        ...,
        help="collector, community_police, station_admin, district_admin, city_admin, "
        "department_liaison, inspector, auditor",
    ),
    area: str = typer.Option(..., help="Area code of the jurisdiction, e.g. 420704001"),
    display_name: str = typer.Option(None, help="Name shown on screen"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    department: str = typer.Option(None),
) -> None:
    """Create a user (as the system operator)."""
    from liangshi.access import service
    from liangshi.access.service import SYSTEM

    try:
        with database() as (session, clock):
            user = service.create_user(
                session,
                username=username,
                display_name=display_name or username,
                password=password,
                role=role,
                area_code=area,
                department=department,
                actor=SYSTEM,
                now=clock.now(),
            )
            out.print(f"用户已创建 / user created: {user.username} ({user.role})")
    except LiangshiError as exc:
        raise fail(exc) from None


@user_app.command("token")
def user_token(
    username: str,
    name: str = typer.Option("api", help="What the token is for"),
    days: int = typer.Option(365, min=1, max=3650, help="Lifetime in days"),
) -> None:
    """Issue an API token for a user (for integrations); it is printed once and stored only as a hash."""
    from sqlalchemy import select

    from liangshi.access import service
    from liangshi.access.models import User

    with database() as (session, clock):
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            err.print("[red]user.not_found[/red]: 用户不存在 / no such user")
            raise typer.Exit(2)
        print(service.issue_token(session, user, name=name, days=days, now=clock.now()))


@audit_app.command("verify")
def audit_verify(as_json: bool = typer.Option(False, "--json")) -> None:
    """Recompute the audit chain; exit 1 when an entry was altered or deleted."""
    from liangshi.audit import service

    with database() as (session, _):
        result = service.verify(session)
    if as_json:
        print(json.dumps({"ok": result.ok, "entries": result.entries, "problems": result.problems}))
    elif result.ok:
        out.print(f"[green]审计日志完整 / audit log intact[/green]: {result.entries} entries")
    else:
        for p in result.problems:
            err.print(f"[red]entry {p['seq']}: {p['problem']}[/red]")
        err.print(f"[red]审计日志被篡改 / audit log tampered[/red]: {len(result.problems)} problem(s)")
    if not result.ok:
        raise typer.Exit(1)


@validate_app.command("id")
def validate_id(
    ids: list[str] = typer.Argument(None, help="ID numbers"),
    file: Path = typer.Option(None, "--file", "-f", help="One ID number per line"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per input"),
) -> None:
    """Check ID numbers (GB 11643): format, birth date, check character; 15-digit numbers are upgraded."""
    from liangshi.common.idnumber import check_id_number

    inputs = list(ids or [])
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            err.print(f"[red]file.unreadable[/red]: 无法读取文件 / cannot read {file}: {exc}")
            raise typer.Exit(2) from None
        inputs += [line.strip() for line in text.splitlines() if line.strip()]
    if not inputs:
        err.print("[red]input.empty[/red]: 没有输入 / no ID numbers given")
        raise typer.Exit(2)
    today = Clock().today()
    results = [check_id_number(value, today=today) for value in inputs]
    if as_json:
        for r in results:
            sys.stdout.write(json.dumps(r.to_json(), ensure_ascii=False) + "\n")
        return
    table = Table(
        "输入 input", "有效 valid", "规范 normalized", "出生 birth", "性别 sex", "地区 region", "错误 error"
    )
    for r in results:
        j = r.to_json()
        table.add_row(
            *(
                str(j[k]) if j[k] is not None else ""
                for k in ("input", "valid", "normalized", "birth_date", "sex", "region", "error")
            )
        )
    out.print(table)


def _import_kinds() -> str:
    """The import kinds for `liangshi import --help`: the keys of formats.KINDS, which has a loader for each kind
    (tests/exchange check it against loaders.LOADERS; importing the loaders here would import every domain service
    at each start of the command line)."""
    from liangshi.exchange.formats import KINDS

    return ", ".join(KINDS)


@app.command("import")
def import_(
    kind: str = typer.Argument(..., help=f"{_import_kinds()} — or 'template'"),
    file: Path = typer.Argument(..., help="CSV (UTF-8 / GB18030) or XLSX; for 'template': the kind"),
    source: str = typer.Option(None, "--source", help="The sending department (health, justice, …)"),
    as_user: str = typer.Option(
        None, "--as", help="Import within this user's jurisdiction (default: operator)"
    ),
    errors: Path = typer.Option(
        None, "--errors", help="Where to write rejected rows (default FILE.errors.csv)"
    ),
    out: Path = typer.Option(None, "--out", help="template: where to write it (.csv or .xlsx)"),
    chinese: bool = typer.Option(False, "--zh", help="template: Chinese column headers"),
) -> None:
    """Bulk-import a department file, or write an empty template (`liangshi import template persons`)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from liangshi.exchange import formats, service

    if kind == "template":
        target_kind = str(file)
        if target_kind not in formats.KINDS:
            err.print(
                f"[red]import.kind_unknown[/red]: 未知的导入类型 / unknown kind {target_kind}: "
                f"{', '.join(formats.KINDS)}"
            )
            raise typer.Exit(2)
        path = out or Path(f"{target_kind}_template.csv")
        service.write_template(target_kind, path, chinese=chinese)
        print(f"模板已写入 / template written: {path}")
        return
    from liangshi.cli import departments

    if departments.is_department_feed(source):
        # A department's file is a batch under its agreement (accepted or refused as a whole, conflicts reviewed);
        # the police files are the register's base and go through the bulk importer below.
        departments.import_feed(kind, file, source, as_user)
        return
    from liangshi.db import make_engine, make_session_factory, session_scope

    settings = Settings()
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    try:
        with session_scope(sessions) as session:
            actor = actor_as(session, as_user)
    except LiangshiError as exc:
        engine.dispose()
        raise fail(exc) from None
    columns = [
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} rows"),
        TextColumn("{task.fields[rate]:,.0f} rows/s"),
        TimeElapsedColumn(),
    ]
    try:
        with Progress(*columns, console=err) as progress:
            task = progress.add_task(f"导入 importing {kind}", total=None, rate=0.0)

            def advance(n: int) -> None:
                progress.advance(task, n)
                t = progress.tasks[task]
                progress.update(task, rate=(t.completed / t.elapsed) if t.elapsed else 0.0)

            result = service.import_file(
                sessions, kind=kind, path=file, source=source, actor=actor, clock=Clock(), progress=advance
            )
    except LiangshiError as exc:
        raise fail(exc) from None
    finally:
        engine.dispose()
    print(
        f"批次 batch {result.batch_id}: {result.rows} 行 rows, 新增 loaded {result.loaded}, "
        f"已存在 existing {result.existing}, 拒绝 rejected {len(result.errors)} ({result.seconds:.1f} s)"
    )
    if result.errors:
        report = errors or file.with_name(file.name + ".errors.csv")
        service.write_error_report(result.errors, report)
        for e in result.errors[:5]:
            err.print(f"  line {e.line}, {e.field}: {e.code}: {e.message_zh} / {e.message_en}")
        err.print(f"被拒绝的行已写入 / rejected rows written to {report}")
        raise typer.Exit(1)


@app.command("synth")
def synth(
    persons: int = typer.Option(
        20_000, "--persons", min=100, max=50_000_000, help="How many people live there"
    ),
    seed: int = typer.Option(2010, "--seed", help="Same seed, same city, byte for byte"),
    db: str = typer.Option(None, "--db", help="Load the police extracts into this database URL"),
    out: Path = typer.Option(None, "--out", help="Write the department files and truth/ here"),
    xlsx: bool = typer.Option(False, "--xlsx", help="Also write XLSX files (slow; for small cities)"),
    today: str = typer.Option(None, "--today", help="The city's 'today' (default: today), YYYY-MM-DD"),
) -> None:
    """Build a synthetic Ezhou with labelled defects: department files (--out) and/or a database (--db)."""
    import datetime as dt
    import tempfile

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from liangshi.synth import write_city

    if db is None and out is None:
        err.print("[red]input.invalid[/red]: 请给出 --db 或 --out / give --db and/or --out")
        raise typer.Exit(2)
    try:
        day = dt.date.fromisoformat(today) if today else Clock().today()
    except ValueError:
        err.print("[red]date.invalid[/red]: --today 须为 YYYY-MM-DD / --today must be YYYY-MM-DD")
        raise typer.Exit(2) from None
    directory = out or Path(tempfile.mkdtemp(prefix="liangshi-city-"))
    directory.mkdir(parents=True, exist_ok=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("生成 generating city", total=persons)
        summary = write_city(
            directory,
            persons=persons,
            seed=seed,
            today=day,
            formats=("csv", "xlsx") if xlsx else ("csv",),
            progress=lambda n: progress.advance(task, n),
        )
    print(
        f"城市已生成 / city written to {directory}: {summary.persons} persons, {summary.communities} communities"
    )
    if db is not None:
        _load_city(db, directory)


def _load_city(url: str, directory: Path, *, everything: bool = False) -> None:
    """Import a synthetic city's police extracts (with `everything`: its rentals, venues and stays too)."""
    from rich.progress import Progress, TaskID, TextColumn, TimeElapsedColumn

    from liangshi import migrate
    from liangshi.access.service import SYSTEM
    from liangshi.areas import service as areas
    from liangshi.common.codes import ezhou_areas
    from liangshi.db import make_engine, make_session_factory, session_scope
    from liangshi.registry import Context
    from liangshi.synth.load import load_city, load_police_extracts

    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        sessions = make_session_factory(engine)
        clock = Clock()
        with session_scope(sessions) as session:
            ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="gazetteer")
            areas.load_gazetteer(session, ctx, ezhou_areas())
        with Progress(
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,} rows"),
            TimeElapsedColumn(),
            console=err,
        ) as progress:
            tasks: dict[str, TaskID] = {}

            def step(kind: str, n: int) -> None:
                if kind not in tasks:
                    tasks[kind] = progress.add_task(f"导入 importing {kind}", total=None)
                progress.advance(tasks[kind], n)

            load = load_city if everything else load_police_extracts
            results = load(sessions, directory, actor=SYSTEM, clock=clock, progress=step)
    except LiangshiError as exc:
        raise fail(exc) from None
    finally:
        engine.dispose()
    for kind, r in results.items():
        print(f"  {kind:<18} loaded {r.loaded:>8,}  existing {r.existing:>8,}  rejected {len(r.errors):>6,}")
    if everything and results["housing_rentals"].errors:
        print(
            "  (rentals refused: tenants missing from the police files, as labelled in truth/tenant_unregistered.csv)"
        )


@areas_app.command("load")
def areas_load(file: Path = typer.Argument(..., help="CSV with code,name,level,parent")) -> None:
    """Load areas from a CSV in the format of Ezhou's gazetteer."""
    import csv

    from liangshi.access.service import SYSTEM
    from liangshi.areas import service as areas
    from liangshi.registry import Context

    try:
        with file.open(encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[red]file.unreadable[/red]: {exc}")
        raise typer.Exit(2) from None
    try:
        with database() as (session, clock):
            ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="gazetteer")
            added = areas.load_gazetteer(session, ctx, rows)
    except LiangshiError as exc:
        raise fail(exc) from None
    out.print(f"新增区划 / areas added: {added}")


@demo_app.command("build")
def demo_build(
    persons: int = typer.Option(20_000, "--persons", min=100, help="Size of the demo city"),
    seed: int = typer.Option(2010, "--seed"),
) -> None:
    """Build the demo: a synthetic city (its police files, rentals, venues and stays) loaded through the importer,
    and one login per role."""
    import tempfile

    from liangshi.demo.build import ensure_departments, ensure_personas
    from liangshi.synth import write_city

    settings = Settings()
    with database() as (session, clock):
        from sqlalchemy import select

        from liangshi.areas.models import Area

        built = session.execute(select(Area.id).where(Area.code == "420704001001")).first() is not None
    if not built:
        # The city's files are needed only while they are imported.
        with tempfile.TemporaryDirectory(prefix="liangshi-demo-") as temporary:
            directory = Path(temporary)
            write_city(directory, persons=persons, seed=seed, today=Clock().today())
            _load_city(settings.database_url, directory, everything=True)
    with database() as (session, clock):
        logins = ensure_personas(session, clock)
        partners = ensure_departments(session, clock)
    out.print("演示账号 demo logins (username / password / role / jurisdiction):")
    for login in logins:
        print(f"  {login['username']:<22} {login['password']:<20} {login['role']:<20} {login['area']}")
    out.print(f"部门及共享协议 departments with agreements: {', '.join(partners)}")
    out.print("Web: http://127.0.0.1:8000/web/ — API: http://127.0.0.1:8000/docs (POST /auth/token)")


if __name__ == "__main__":
    app()
