"""The generator package's layout: its modules import one another in one direction, never the faces above them."""

from __future__ import annotations

import ast
from pathlib import Path

import liangshi.synth.generate as generate

PACKAGE = Path(generate.__file__).parent
# Each module may import only the ones before it; the face (__init__) may import them all.
ORDER = ("columns", "plan", "community", "more", "numbers", "items", "births", "corrections", "extracts")


def _liangshi_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path.name}: relative import"
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {n for n in names if n.startswith("liangshi.")}


def test_generator_modules_import_only_the_modules_before_them_and_never_a_face() -> None:
    assert sorted(p.stem for p in PACKAGE.glob("*.py")) == sorted(("__init__", *ORDER))
    for i, module in enumerate(ORDER):
        imported = _liangshi_imports(PACKAGE / f"{module}.py")
        assert "liangshi.synth" not in imported, module
        assert "liangshi.synth.generate" not in imported, module
        inside = {n.split(".")[3] for n in imported if n.startswith("liangshi.synth.generate.")}
        assert inside <= set(ORDER[:i]), (module, inside)


def test_a_function_local_import_in_synth_says_why_on_the_line_above() -> None:
    for path in sorted(PACKAGE.parent.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for func in ast.walk(ast.parse(text)):
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(func):
                    if isinstance(node, ast.Import | ast.ImportFrom):
                        above = lines[node.lineno - 2].strip()
                        assert above.startswith("#"), f"{path.name}:{node.lineno} in {func.name}"
