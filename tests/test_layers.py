"""The layers of the package are checked by a tool, and the tool bites."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "mdfollow" / "core"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=project, capture_output=True, text=True, timeout=120
    )


def _copy_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "mdfollow", project / "mdfollow", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", project)
    return project


def test_the_contracts_hold_on_the_package(tmp_path: Path) -> None:
    result = _lint_imports(_copy_project(tmp_path))
    assert result.returncode == 0, result.stdout


def test_the_core_importing_the_store_or_typer_breaks_a_contract(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    model = project / "mdfollow" / "core" / "model.py"
    model.write_text(model.read_text() + "\nimport typer  # noqa\nimport mdfollow.store.atomic  # noqa\n")
    result = _lint_imports(project)
    assert result.returncode != 0
    assert "mdfollow.core.model -> typer" in result.stdout
    assert "mdfollow.core.model -> mdfollow.store.atomic" in result.stdout


def _calls(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every call in a module: `open`, `dt.date.today`, `os.stat`…"""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            parts = []
            target = node.func
            while isinstance(target, ast.Attribute):
                parts.append(target.attr)
                target = target.value
            if isinstance(target, ast.Name):
                parts.append(target.id)
            found.append((node.lineno, ".".join(reversed(parts))))
    return found


CLOCKS_AND_FILES = ("open", "today", "now", "utcnow", "time.time", "read_text", "read_bytes", "write_text")


def test_the_core_reads_no_clock_and_no_file() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in sorted(CORE.glob("*.py"))
        for line, name in _calls(path)
        if name == "open"
        or name.split(".")[-1] in CLOCKS_AND_FILES
        or name.startswith("os.")
        or name == "time.time"
    ]
    assert offenders == []
