"""The navigation menu: one entry per page family, shown to the roles whose permissions allow it."""

from __future__ import annotations

from dataclasses import dataclass

from liangshi.access.rules import Actor
from liangshi.web.i18n import N_


@dataclass(frozen=True)
class NavItem:
    """A menu entry: shown when the actor's role has `permission` (any one of them, when several are given) and is
    one of `roles`, when given."""

    path: str
    label: str  # an N_() message, translated in the template
    permission: str | tuple[str, ...]
    roles: tuple[str, ...] = ()
    order: int = 50


NAV: list[NavItem] = [
    NavItem("/web/", N_("Home"), "area.read", order=0),
    NavItem("/web/collect", N_("My area"), "dwelling.write", order=10),
    NavItem("/web/search", N_("Search"), "person.read", order=20),
]


def add_nav(item: NavItem) -> None:
    """Add a menu entry (call at module level of a pages module)."""
    if all(existing.path != item.path for existing in NAV):
        NAV.append(item)


def _allowed(actor: Actor, permission: str | tuple[str, ...]) -> bool:
    return any(actor.may(p) for p in ((permission,) if isinstance(permission, str) else permission))


def nav_for(actor: Actor) -> list[NavItem]:
    """The entries an actor sees, in order."""
    return sorted(
        (i for i in NAV if _allowed(actor, i.permission) and (not i.roles or actor.role in i.roles)),
        key=lambda i: i.order,
    )
