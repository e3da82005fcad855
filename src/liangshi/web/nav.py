"""The navigation menu: one entry per page family, shown to the roles whose permissions allow it, grouped into a
few labelled sections (issue 17) so that every role's menu is one line on a desk: the home page, the collector's
area and the search stay in the bar; every other entry lies in its section's drop-down (a disclosure button,
static/menu.js). A section that holds a single entry for a role is shown as that entry's own link."""

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


@dataclass(frozen=True)
class NavSection:
    """A labelled group of menu entries (a drop-down on a desk, a block of the opened menu on a phone)."""

    key: str
    label: str  # an N_() message
    paths: tuple[str, ...]


# The entries kept in the bar itself, outside any section.
TOP_LEVEL = ("/web/", "/web/collect", "/web/search")

# The sections, in the bar's order, and the entries each holds (in the order shown). Every entry added with
# add_nav belongs to exactly one section or to TOP_LEVEL (tests/web/test_menu_sections.py); an entry missing here
# is shown in the bar on its own.
SECTIONS: tuple[NavSection, ...] = (
    NavSection(
        "work",
        N_("Field work"),
        ("/web/collect/app", "/web/collect/outbox", "/web/declarations"),
    ),
    NavSection(
        "people",
        N_("Population"),
        ("/web/households", "/web/floating", "/web/rentals", "/web/venues"),
    ),
    NavSection(
        "places",
        N_("Places"),
        ("/web/areas", "/web/streets", "/web/map", "/web/addresses/match"),
    ),
    NavSection(
        "review",
        N_("Review"),
        (
            "/web/changesets",
            "/web/reviews",
            "/web/conflicts",
            "/web/feedback",
            "/web/claims",
            "/web/coordination",
            "/web/checks",
        ),
    ),
    NavSection(
        "stats",
        N_("Statistics"),
        ("/web/dashboard", "/web/tables", "/web/campaigns", "/web/progress"),
    ),
    NavSection(
        "inspect",
        N_("Inspection"),
        ("/web/inspections", "/web/rectifications", "/web/collect/inspect", "/web/accountability"),
    ),
    NavSection(
        "oversight",
        N_("Departments and audit"),
        ("/web/departments", "/web/batches", "/web/audit", "/web/access-log"),
    ),
)


@dataclass(frozen=True)
class MenuGroup:
    """A section as one role sees it: its label and the entries of it the role may open (two or more)."""

    key: str
    label: str
    items: tuple[NavItem, ...]

    def holds(self, path: str) -> bool:
        """Whether the page at `path` is one of this group's (to mark the section current)."""
        return any(path == i.path or path.startswith(i.path + "/") for i in self.items)


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


def menu_for(actor: Actor) -> list[NavItem | MenuGroup]:
    """The menu an actor sees: the bar's own entries and the sections, in the bar's order. A section the role has
    one entry of becomes that entry's link; a section it has none of is left out."""
    items = nav_for(actor)
    by_path = {i.path: i for i in items}
    placed = {p for section in SECTIONS for p in section.paths}
    out: list[NavItem | MenuGroup] = [i for i in items if i.path in TOP_LEVEL]
    for section in SECTIONS:
        mine = tuple(by_path[p] for p in section.paths if p in by_path)
        if len(mine) == 1:
            out.append(mine[0])
        elif mine:
            out.append(MenuGroup(section.key, section.label, mine))
    out.extend(i for i in items if i.path not in TOP_LEVEL and i.path not in placed)
    return out
