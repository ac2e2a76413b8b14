"""Shared fixtures: real prospect files in a temporary folder, and the real CLI."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mdfollow.cli import app

TODAY = "2026-11-30"  # a Monday


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own parse cache, so none sees another's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("COLUMNS", raising=False)  # tables fit COLUMNS: tests choose their own


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty prospect folder (its own root: it holds an empty mdfollow.toml)."""
    root = tmp_path / "prospects"
    root.mkdir()
    (root / "mdfollow.toml").write_text("")
    return root


WriteFile = Callable[..., Path]


@pytest.fixture
def write(folder: Path) -> WriteFile:
    """write("jane.md", text) writes dedented text (or bytes as they are) into the folder."""

    def _write(name: str, content: str | bytes) -> Path:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        return path

    return _write


class Result:
    def __init__(self, exit_code: int, stdout: str, stderr: str) -> None:
        self.exit_code, self.stdout, self.stderr = exit_code, stdout, stderr

    def __repr__(self) -> str:
        return f"Result(exit_code={self.exit_code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


RunCli = Callable[..., Result]


@pytest.fixture
def run(folder: Path) -> RunCli:
    """run("due", "--json") runs the real CLI on the folder with --today fixed."""

    def _run(*args: str, today: str = TODAY, input: str | None = None) -> Result:
        runner = CliRunner()
        result = runner.invoke(app, ["--dir", str(folder), "--today", today, *args], input=input)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Result(result.exit_code, result.stdout, result.stderr)

    return _run
