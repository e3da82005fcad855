"""Every action the code can write to the audit log is enumerated in audit.actions, with both labels."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from liangshi.audit import actions
from liangshi.audit import service as audit

SRC = Path(__file__).resolve().parents[2] / "src" / "liangshi"
CJK = re.compile(r"[\u4e00-\u9fff]")

# Actions built from a value at run time: the site (package under src/liangshi, the expression as written) and
# every value it can take, with where the values come from. A new dynamic site must be added here.
DYNAMIC: dict[tuple[str, str], tuple[set[str], str]] = {
    ("registry", "how['action']"): (
        {"rental.tenant_attach"},
        "a proposed item's audit_as (campaign.service: an approved tenant is audited as the direct attach is)",
    ),
    ("access", "action"): (
        {"user.create", "user.password_change", "user.totp_enrol", "user.totp_reset"},
        "access.service._log_user: the four callers pass these literals",
    ),
    ("registry", "f'{name}.create'"): (
        {"stay.create"},
        "create_records' chunk entry: its only record table is the venues' guest log (name='stay')",
    ),
    ("residence", "f'residence.{list_name}'"): (
        {"residence.floating_arrivals", "residence.due_to_leave", "residence.overdue"},
        "the three residence lists (list_name= in floating_arrivals, due_to_leave, overdue)",
    ),
    ("departments", "f'conflict.{c.status}'"): (
        {"conflict.accepted", "conflict.rejected"},
        "a decided conflict is accepted or rejected",
    ),
    ("venues", "action"): (
        {"stay.check_in", "stay.check_out"},
        "the events list of a stays upload holds check-ins and check-outs",
    ),
    ("mpi", "f'person.{event.kind}_undo'"): (
        {"person.merge_undo", "person.split_undo"},
        "an undo undoes a merge or a split (an undo itself cannot be undone)",
    ),
    ("mpi", "f\"mpi.record_{v['status']}\""): (
        {
            "mpi.record_linked",
            "mpi.record_new",
            "mpi.record_review",
            "mpi.record_rejected",
            "mpi.record_claim",
        },
        "mpi.rules.RECORD_STATUSES",
    ),
}


def _package(path: str) -> str:
    """The domain package of a file under src/liangshi (splitting a file into modules needs no change here)."""
    return path.split("/", 1)[0] if "/" in path else path.removesuffix(".py")


def _trees() -> dict[str, ast.Module]:
    return {str(p.relative_to(SRC)): ast.parse(p.read_text(encoding="utf-8")) for p in SRC.rglob("*.py")}


def _callee(node: ast.Call) -> str | None:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _kind_names(trees: dict[str, ast.Module]) -> set[str]:
    """The name of every `Kind(...)` descriptor in the source."""
    names = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _callee(node) == "Kind" and node.args:
                first = node.args[0]
                assert isinstance(first, ast.Constant), ast.unparse(node)
                names.add(first.value)
    return names


def _kind_verb(expr: ast.expr) -> str | None:
    """The verb of an action written f"{kind.name}.verb" (the registry's scoped use cases), else None."""
    if isinstance(expr, ast.JoinedStr) and len(expr.values) == 2:
        head, tail = expr.values
        if (
            isinstance(head, ast.FormattedValue)
            and ast.unparse(head.value) == "kind.name"
            and isinstance(tail, ast.Constant)
            and str(tail.value).startswith(".")
        ):
            return str(tail.value)[1:]
    return None


def written_actions() -> tuple[set[str], list[str]]:
    """Every action an `Event(...)` in src/liangshi can carry, and the dynamic sites nobody enumerated."""
    trees = _trees()
    kinds = _kind_names(trees)
    found: set[str] = set()
    unresolved: list[str] = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _callee(node) == "Event"):
                continue
            if ast.unparse(node.func) == "threading.Event":
                continue  # a thread signal (the background jobs' stop flag), not an audit event
            action = node.args[0] if node.args else next(k.value for k in node.keywords if k.arg == "action")
            if isinstance(action, ast.Constant):
                found.add(action.value)
            elif (verb := _kind_verb(action)) is not None:
                found |= {f"{k}.{verb}" for k in kinds}
            elif (_package(path), ast.unparse(action)) in DYNAMIC:
                found |= DYNAMIC[(_package(path), ast.unparse(action))][0]
            else:
                unresolved.append(f"{path}:{node.lineno}: {ast.unparse(action)}")
    return found, unresolved


def test_every_action_the_code_writes_is_enumerated() -> None:
    found, unresolved = written_actions()
    assert not unresolved, f"enumerate these dynamic actions in DYNAMIC: {unresolved}"
    assert len(found) > 100
    missing = sorted(a for a in found if not actions.is_known(a))
    assert not missing, f"not in liangshi.audit.actions: {missing}"


def test_every_registry_kind_has_a_label_for_its_actions() -> None:
    assert _kind_names(_trees()) == set(actions.KINDS)


def test_every_dynamic_site_still_exists() -> None:
    sites = {
        (_package(path), ast.unparse(node.args[0]))
        for path, tree in _trees().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _callee(node) == "Event" and node.args
    }
    assert set(DYNAMIC) <= sites


def test_every_action_has_a_chinese_and_an_english_label() -> None:
    for action, label in actions.ACTIONS.items():
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", action), action
        assert CJK.search(label.zh), (action, label)
        assert label.en and not CJK.search(label.en) and "{" not in label.en + label.zh, (action, label)
    assert actions.label("person.unmask", "zh") == "查看完整证件号码"
    assert actions.label("residence.change", "en") == "Changed the residence registration"
    assert actions.labels("person.read") == {"zh": "查阅人员", "en": "Read the person"}


def test_labels_are_distinct_so_an_access_log_tells_actions_apart() -> None:
    for lang in ("zh", "en"):
        texts = [label.text(lang) for label in actions.ACTIONS.values()]
        assert len(texts) == len(set(texts)), lang


def test_an_entry_written_before_the_enumeration_shows_its_raw_action() -> None:
    assert actions.label("legacy.thing", "en") == "legacy.thing"


def test_an_unknown_action_cannot_be_logged() -> None:
    with pytest.raises(ValueError, match="not enumerated"):
        audit.Event("person.peek", "person", 1, 1)
    assert audit.Event("person.read", "person", 1, 1).action == "person.read"
