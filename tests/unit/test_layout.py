"""The layout stays one a newcomer can follow: imports go one way, modules stay small, the wheel holds the tap only."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from typing import TYPE_CHECKING

import pytest
from helpers import ROOT

from tap_lms.sync.stream import LMSStream

if TYPE_CHECKING:
    from pathlib import Path

#: Packages whose modules are held to these rules: the tap, and the sandbox API beside it.
PACKAGES = ("tap_lms", "sandbox")
#: No module of either is longer than this.
MAX_LINES = 420


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(package: str) -> dict[str, Path]:
    return {_module_name(path): path for path in sorted((ROOT / package).rglob("*.py"))}


def _imports(path: Path, known: set[str]) -> set[str]:
    """Modules of `known` that `path` imports, type-checking imports included: a circle is a circle."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found |= {name for name in names if name in known}
    return found


def import_circles(package: str) -> list[list[str]]:
    """Every circle of imports between modules of `package` (a package's own `__init__` re-exports aside)."""
    modules = _modules(package)
    known = set(modules)
    graph = {
        name: {dep for dep in _imports(path, known) if dep != name and not name.startswith(dep + ".")}
        for name, path in modules.items()
    }
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                circles.append([*path[path.index(dep):], dep])
            elif dep not in state:
                visit(dep)
        path.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    return circles


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_imports_one_that_imports_it(package):
    assert import_circles(package) == []


def test_the_circle_finder_finds_a_circle(tmp_path, monkeypatch):
    package = tmp_path / "circle"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from circle.b import x\n")
    (package / "b.py").write_text("import typing as t\nif t.TYPE_CHECKING:\n    from circle import a\nx = 1\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert import_circles("circle") == [["circle.a", "circle.b", "circle.a"]]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_longer_than_the_limit(package):
    long = {name: n for name, path in _modules(package).items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_stream_is_built_from_objects_it_holds_not_mixins():
    assert [cls.__name__ for cls in LMSStream.__mro__ if "Mixin" in cls.__name__] == []


def test_the_wheel_holds_the_tap_and_not_the_sandbox(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist")],
        cwd=source, capture_output=True, text=True, timeout=300, check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert "tap_lms" in tops
    assert not [top for top in tops if top.startswith("sandbox")], tops
