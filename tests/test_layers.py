"""The stage packages import only downwards (docs/design.md): a stage never reaches up into one
that runs after it, and the foundation modules use no stage. Checked on every import statement,
those inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PIPELINE = Path(__file__).resolve().parents[1] / "pipeline"
ORDER = [
    "read",
    "forms",
    "validate",
    "intake",
    "store",
    "history",
    "reports",
    "admin",
    "runtime",
    "privacy",
    "backup",
    "doctor",
    "web",
]
FOUNDATION = ["records", "problems", "document", "settings", "files", "workspace", "children", "crash", "collector"]


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline."):
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("pipeline.")]
    return found


def _stage(module: str) -> str:
    return module.split(".")[1]


@pytest.mark.parametrize("stage", ORDER)
def test_a_stage_imports_no_stage_that_comes_after_it(stage):
    upward = [
        f"{path.relative_to(PIPELINE)}:{line} imports {module}"
        for path in (PIPELINE / stage).rglob("*.py")
        for line, module in _imports(path)
        if _stage(module) in ORDER and ORDER.index(_stage(module)) > ORDER.index(stage)
    ]
    assert upward == []


@pytest.mark.parametrize("module", FOUNDATION)
def test_a_foundation_module_uses_no_stage(module):
    staged = [m for _line, m in _imports(PIPELINE / f"{module}.py") if _stage(m) in ORDER]
    assert staged == []


def test_every_module_is_in_a_stage_or_the_foundation():
    flat = {p.stem for p in PIPELINE.glob("*.py")} - {"__init__", "cli"}
    assert flat <= set(FOUNDATION)
