"""`liangshi user`: create users and issue API tokens (as the system operator)."""

from __future__ import annotations

import typer
from sqlalchemy import select

from liangshi.access import service
from liangshi.access.models import User
from liangshi.access.service import SYSTEM
from liangshi.cli.common import database, err, fail, out
from liangshi.config import Settings
from liangshi.errors import LiangshiError

app = typer.Typer(help="Users / 用户", no_args_is_help=True)


@app.command("add")
def user_add(
    username: str,
    role: str = typer.Option(
        ...,
        help="collector, community_police, station_admin, district_admin, city_admin, "
        "department_liaison, inspector, auditor, housing_officer",
    ),
    area: str = typer.Option(..., help="Area code of the jurisdiction, e.g. 420704001"),
    display_name: str = typer.Option(None, help="Name shown on screen"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    department: str = typer.Option(None),
) -> None:
    """Create a user (as the system operator)."""
    try:
        with database() as (session, clock):
            settings = Settings()
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
                policy=_policy(settings),
            )
            out.print(f"用户已创建 / user created: {user.username} ({user.role})")
    except LiangshiError as exc:
        raise fail(exc) from None


@app.command("token")
def user_token(
    username: str,
    name: str = typer.Option("api", help="What the token is for"),
    days: int = typer.Option(365, min=1, max=3650, help="Lifetime in days"),
) -> None:
    """Issue an API token for a user (for integrations); it is printed once and stored only as a hash."""
    with database() as (session, clock):
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            err.print("[red]user.not_found[/red]: 用户不存在 / no such user")
            raise typer.Exit(2)
        print(service.issue_token(session, user, name=name, days=days, now=clock.now()))


def _policy(settings: Settings) -> service.PasswordPolicy:
    return service.PasswordPolicy(min_length=settings.password_min_length, history=settings.password_history)


@app.command("password")
def user_password(
    username: str,
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Set a user's password under the password policy (not one of the last N); their sessions end."""
    try:
        with database() as (session, clock):
            user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
            if user is None:
                err.print("[red]user.not_found[/red]: 用户不存在 / no such user")
                raise typer.Exit(2)
            service.change_password(
                session,
                user=user,
                password=password,
                policy=_policy(Settings()),
                actor=SYSTEM,
                now=clock.now(),
            )
            out.print(f"密码已更改 / password changed: {username}")
    except LiangshiError as exc:
        raise fail(exc) from None


@app.command("totp-reset")
def user_totp_reset(username: str) -> None:
    """Switch a user's two-factor login off (a lost phone): they enrol again at their next login (audited)."""
    try:
        with database() as (session, clock):
            user = service.reset_totp(session, username=username, actor=SYSTEM, now=clock.now())
            out.print(
                f"双因素登录已重置，下次登录时重新登记 / TOTP reset, enrols again at next login: {user.username}"
            )
    except LiangshiError as exc:
        raise fail(exc) from None
