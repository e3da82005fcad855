"""`liangshi demo build`: the demo city and one login per role."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer
from sqlalchemy import select

from liangshi.areas.models import Area
from liangshi.cli.common import database, out
from liangshi.cli.synth import load_into
from liangshi.clock import Clock
from liangshi.config import Settings
from liangshi.demo.build import ensure_departments, ensure_personas
from liangshi.synth import write_city

app = typer.Typer(help="Demo data / 演示数据", no_args_is_help=True)


@app.command("build")
def demo_build(
    persons: int = typer.Option(20_000, "--persons", min=100, help="Size of the demo city"),
    seed: int = typer.Option(2010, "--seed"),
) -> None:
    """Build the demo: a synthetic city (its police files, rentals, venues and stays) loaded through the importer,
    and one login per role."""
    settings = Settings()
    with database() as (session, clock):
        built = session.execute(select(Area.id).where(Area.code == "420704001001")).first() is not None
    if not built:
        # The city's files are needed only while they are imported.
        with tempfile.TemporaryDirectory(prefix="liangshi-demo-") as temporary:
            directory = Path(temporary)
            write_city(directory, persons=persons, seed=seed, today=Clock().today())
            load_into(settings.database_url, directory, everything=True)
    with database() as (session, clock):
        logins = ensure_personas(session, clock)
        partners = ensure_departments(session, clock)
    out.print("演示账号 demo logins (username / password / role / jurisdiction):")
    for login in logins:
        print(f"  {login['username']:<22} {login['password']:<20} {login['role']:<20} {login['area']}")
    out.print(
        "管理员与审计员首次网页登录时用认证器应用（TOTP）扫码登记双因素登录，之后每次登录输入6位验证码；"
        "重置: liangshi user totp-reset 用户名 / Administrators and auditors enrol an authenticator app (TOTP) at "
        "their first web login and give its 6-digit code at every login after; reset: liangshi user totp-reset NAME"
    )
    out.print(f"部门及共享协议 departments with agreements: {', '.join(partners)}")
    out.print("Web: http://127.0.0.1:8000/web/ — API: http://127.0.0.1:8000/docs (POST /auth/token)")
