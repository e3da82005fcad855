"""docs/errors.md lists every error code the code can raise, with its HTTP status and its two messages.

The raise sites are found with `ast` over src/liangshi: every call of a `LiangshiError` subclass (or of a small
factory that passes its `code, zh, en` straight to one) whose first argument is a literal code. A message may be
an f-string: its interpolations are compared as placeholders (`{…}`), so one code has one message text whatever
data it carries. A code built at run time is either an f-string over a registry `Kind` (evaluated for every
kind), or listed below (`_static_tables`, `PASS_THROUGH`) with where its values come from.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "liangshi"
DOC = ROOT / "docs" / "errors.md"
BASE = "LiangshiError"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True)
class Site:
    """One raise site of one code."""

    code: str
    status: int
    zh: str
    en: str
    where: str


def _trees() -> dict[str, ast.Module]:
    return {
        str(p.relative_to(SRC)): ast.parse(p.read_text(encoding="utf-8")) for p in sorted(SRC.rglob("*.py"))
    }


def _name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def error_classes(trees: dict[str, ast.Module]) -> dict[str, int]:
    """Every LiangshiError subclass by name, with its HTTP status (its own `http_status`, else inherited)."""
    bases: dict[str, str] = {}
    own: dict[str, int] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                parents = [n for b in node.bases if (n := _name(b))]
                if parents:
                    bases[node.name] = parents[0]
                for stmt in node.body:
                    if (
                        isinstance(stmt, ast.Assign)
                        and [_name(t) for t in stmt.targets] == ["http_status"]
                        and isinstance(stmt.value, ast.Constant)
                    ):
                        own[node.name] = stmt.value.value

    def status(name: str) -> int | None:
        while name not in own:
            if name not in bases:
                return None
            name = bases[name]
        return own[name]

    def is_error(name: str) -> bool:
        while name != BASE:
            if name not in bases:
                return False
            name = bases[name]
        return True

    return {n: s for n in [*bases, BASE] if is_error(n) and (s := status(n)) is not None}


def template(node: ast.expr) -> str:
    """A message as written: literal text, each interpolation as `{…}`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(template(v) if isinstance(v, ast.Constant) else "{…}" for v in node.values)
    raise AssertionError(f"not a message literal: {ast.unparse(node)}")


def normalise(message: str) -> str:
    """A message with every placeholder as `{…}` (the doc names its placeholders freely)."""
    return PLACEHOLDER.sub("{…}", message)


def _kinds(trees: dict[str, ast.Module]) -> list[SimpleNamespace]:
    """Every `Kind(...)` descriptor's name and labels."""
    kinds = []
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) == "Kind" and len(node.args) >= 6:
                name, zh, en = (node.args[i] for i in (0, 4, 5))
                assert all(isinstance(a, ast.Constant) for a in (name, zh, en)), ast.unparse(node)
                kinds.append(SimpleNamespace(name=name.value, label_zh=zh.value, label_en=en.value))
    assert len(kinds) >= 10
    return kinds


def _per_kind(call: ast.Call, kinds: list[SimpleNamespace]) -> list[tuple[str, str, str]]:
    """A call whose code and messages are f-strings over `kind`, evaluated for every registry kind."""
    exprs = [ast.Expression(a) for a in call.args[:3]]
    compiled = [compile(e, "<site>", "eval") for e in exprs]
    out = []
    for kind in kinds:
        code, zh, en = (str(eval(c, {}, {"kind": kind})) for c in compiled)
        out.append((code, zh, en))
    return out


def _lifecycle_refusals() -> list[tuple[str, str, str]]:
    """Every `Lifecycle` declared at module level (found by ast, read by import): its refusals as templates, the
    object's label filled in and every other field a placeholder."""
    refusals = []
    for path, tree in _trees().items():
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and _name(node.value.func) == "Lifecycle"
            ):
                module = importlib.import_module("liangshi." + path.removesuffix(".py").replace("/", "."))
                lifecycle = getattr(module, str(_name(node.targets[0])))
                for code, zh, en in [
                    (lifecycle.code, lifecycle.message_zh, lifecycle.message_en),
                    *lifecycle.special.values(),
                ]:
                    zh, en = (
                        t.replace("{label_zh}", lifecycle.label_zh).replace("{label_en}", lifecycle.label_en)
                        for t in (zh, en)
                    )
                    refusals.append((code, normalise(zh), normalise(en)))
    assert len(refusals) >= 5, refusals
    return refusals


def _static_tables() -> dict[tuple[str, str], tuple[list[tuple[str, str, str]], str]]:
    """Codes raised from a table of (code, zh, en): the site, every entry, and why it is a table."""
    from liangshi.common.idnumber import _ID_MESSAGES

    return {
        ("common", "f'id_number.{result.error}'"): (
            [(f"id_number.{error}", zh, en) for error, (zh, en) in _ID_MESSAGES.items()],
            "one message per IdCheck error (check_id_number reports the error without raising)",
        ),
        ("common", "code"): (
            _lifecycle_refusals(),
            "the one Lifecycle.ensure: each declared lifecycle's code and templates, and its special refusals",
        ),
    }


# A re-raise that keeps the caught error's code and messages (adds data only): nothing new is raised there.
def _package(path: str) -> str:
    """The domain package of a file under src/liangshi (sites are keyed by package so that splitting a file into
    modules needs no change here)."""
    return path.split("/", 1)[0] if "/" in path else path.removesuffix(".py")


PASS_THROUGH = {
    ("registry", "exc.code"): "change_many re-raises check_change_date's error with the entity id",
    ("departments", "exc.code"): "a feed's ID number error re-raised naming the field",
}


def _factories(trees: dict[str, ast.Module], classes: dict[str, int]) -> tuple[dict[str, int], set[int]]:
    """Functions whose first three parameters go straight into an error call (`bad`, `file_error`): the status
    of that error by function name, and those calls (the factories' callers are the raise sites)."""
    found: dict[str, int] = {}
    bodies: set[int] = set()
    for tree in trees.values():
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef) or len(fn.args.args) < 3:
                continue
            params = [a.arg for a in fn.args.args[:3]]
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.Call)
                    and _name(node.func) in classes
                    and [getattr(a, "id", None) for a in node.args[:3]] == params
                ):
                    status = classes[str(_name(node.func))]
                    assert found.get(fn.name, status) == status, fn.name
                    found[fn.name] = status
                    bodies.add(id(node))
    return found, bodies


def raise_sites() -> tuple[list[Site], list[str]]:
    """Every code raised in src/liangshi with its status and messages, and the sites nobody resolved."""
    trees = _trees()
    classes = error_classes(trees)
    factories, factory_bodies = _factories(trees, classes)
    kinds = _kinds(trees)
    tables = _static_tables()
    sites: list[Site] = []
    unresolved: list[str] = []
    for path, tree in trees.items():
        inits: dict[int, str] = {}  # super().__init__(...) in a subclass's __init__: that subclass
        for cls in ast.walk(tree):
            if isinstance(cls, ast.ClassDef) and cls.name in classes:
                for node in ast.walk(cls):
                    if (
                        isinstance(node, ast.Call)
                        and _name(node.func) == "__init__"
                        and node.args
                        and isinstance(node.args[0], ast.Constant)
                    ):
                        inits[id(node)] = cls.name
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args or id(node) in factory_bodies:
                continue
            callee = _name(node.func)
            if id(node) in inits:
                status = classes[inits[id(node)]]
            elif callee in classes:
                status = classes[str(callee)]
            elif callee in factories:
                status = factories[str(callee)]
            else:
                continue
            for kw in node.keywords:
                if kw.arg == "http_status":
                    assert isinstance(kw.value, ast.Constant), ast.unparse(node)
                    status = kw.value.value
            where = f"{path}:{node.lineno}"
            first = node.args[0]
            key = (_package(path), ast.unparse(first))
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                sites.append(Site(first.value, status, template(node.args[1]), template(node.args[2]), where))
            elif isinstance(first, ast.JoinedStr) and "kind." in ast.unparse(first):
                sites += [Site(c, status, zh, en, where) for c, zh, en in _per_kind(node, kinds)]
            elif key in tables:
                sites += [Site(c, status, zh, en, where) for c, zh, en in tables[key][0]]
            elif key in PASS_THROUGH:
                continue
            else:
                unresolved.append(f"{where}: {ast.unparse(node)[:120]}")
    return sites, unresolved


def _unescape(cell: str) -> str:
    return cell.replace("\\|", "|").replace("&#96;", "`")


def documented() -> dict[str, tuple[int, str, str]]:
    """The catalogue: code -> (HTTP status, zh, en), from the tables of docs/errors.md."""
    rows: dict[str, tuple[int, str, str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `([a-z0-9_.]+)` \| (\d{3}) \| (.*) \| (.*) \|$", line)
        if m:
            code = m.group(1)
            assert code not in rows, f"{code} listed twice"
            rows[code] = (int(m.group(2)), _unescape(m.group(3)), _unescape(m.group(4)))
    return rows


@pytest.fixture(scope="module")
def sites() -> list[Site]:
    found, unresolved = raise_sites()
    assert not unresolved, (
        f"codes built at run time: list them in _static_tables or make them literal: {unresolved}"
    )
    return found


def test_the_scan_finds_the_known_raise_sites(sites: list[Site]) -> None:
    codes = {s.code for s in sites}
    assert len(codes) > 180
    # a plain raise, a factory's call, a subclass's own code, a per-kind code, a table's code
    assert {"residence.already_deregistered", "department.code_invalid", "csrf.invalid"} <= codes
    assert {"person.not_found", "venue.retired", "id_number.checksum", "file.encoding"} <= codes


def test_one_code_has_one_meaning(sites: list[Site]) -> None:
    by_code: dict[str, set[tuple[int, str, str]]] = defaultdict(set)
    where: dict[str, list[str]] = defaultdict(list)
    for s in sites:
        by_code[s.code].add((s.status, s.zh, s.en))
        where[s.code].append(s.where)
    several = {c: (sorted(v), where[c]) for c, v in by_code.items() if len(v) > 1}
    assert not several, f"codes raised with different messages or statuses: {several}"


def test_every_raised_code_is_documented_with_its_messages(sites: list[Site]) -> None:
    doc = documented()
    missing = sorted({s.code for s in sites} - set(doc))
    assert not missing, f"not in docs/errors.md: {missing}"
    wrong = {
        s.code: ((s.status, s.zh, s.en), doc[s.code], s.where)
        for s in sites
        if (doc[s.code][0], normalise(doc[s.code][1]), normalise(doc[s.code][2])) != (s.status, s.zh, s.en)
    }
    assert not wrong, f"docs/errors.md differs from the code: {wrong}"


def test_every_documented_code_is_raised_somewhere(sites: list[Site]) -> None:
    stale = sorted(set(documented()) - {s.code for s in sites})
    assert not stale, f"in docs/errors.md but raised nowhere: {stale}"


def test_the_doc_groups_codes_by_domain() -> None:
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = line[3:].split()[0].strip("`")
        m = re.match(r"^\| `([a-z0-9_]+)\.", line)
        if m:
            assert m.group(1) == current, line
