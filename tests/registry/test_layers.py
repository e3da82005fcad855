"""The kernel is a closed layer: the registry and the ground floor import no domain, not even inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import liangshi

SRC = Path(liangshi.__file__).parent
GROUND = {
    "liangshi.config",
    "liangshi.db",
    "liangshi.errors",
    "liangshi.clock",
    "liangshi.bulk",
    "liangshi.versioned",
    "liangshi.sealed",
}
# The ground floor may use the field keyring (the sealed columns encrypt with it; issue 18), nothing else above.
GROUND_MAY = GROUND | {"liangshi.common.fieldcrypt"}
# What the registry may use besides the ground floor: validated types, the actor, the audit log and the area tree.
REGISTRY_MAY = GROUND | {
    "liangshi.common",
    "liangshi.access.rules",
    "liangshi.audit",
    "liangshi.audit.service",
    "liangshi.audit.models",
    "liangshi.areas.models",
}


def _imports(path: Path) -> set[str]:
    """Every liangshi module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {name for name in found if name == "liangshi" or name.startswith("liangshi.")}


def _allowed(name: str, allowed: set[str], own: str) -> bool:
    if name.startswith(own):
        return True
    if any(name == a or name.startswith(a + ".") for a in allowed):
        return True
    # `from liangshi.common import codes` names both the package and the module; the package is allowed.
    return any(a.startswith(name + ".") for a in allowed)


def test_the_registry_imports_no_domain() -> None:
    wrong = {
        (str(path.relative_to(SRC)), name)
        for path in (SRC / "registry").rglob("*.py")
        for name in _imports(path)
        if not _allowed(name, REGISTRY_MAY, "liangshi.registry")
    }
    assert wrong == set()


def test_the_ground_floor_imports_nothing_of_liangshi_above_it() -> None:
    wrong = {
        (module, name)
        for module in GROUND
        for name in _imports(SRC / f"{module.removeprefix('liangshi.')}.py")
        if not _allowed(name, GROUND_MAY, module)
    }
    assert wrong == set()


def test_domain_models_do_not_import_the_registry() -> None:
    wrong = {
        str(path.relative_to(SRC))
        for path in SRC.glob("*/models.py")
        if any(name.startswith("liangshi.registry") for name in _imports(path))
    }
    assert wrong == set()
