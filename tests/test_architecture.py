"""The layer rules of DESIGN.md, checked on the source tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ui.registry import HOME, TOPICS, available_topics

ROOT = Path(__file__).resolve().parent.parent
CORE_ALLOWED = {"numpy", "scipy", "pandas", "torch", "ot", "sklearn", "core"}
PAGE_FORBIDDEN = {"torch", "scipy", "ot", "sklearn"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _stdlib(name: str) -> bool:
    import sys

    return name in sys.stdlib_module_names or name == "__future__"


@pytest.mark.parametrize("path", sorted((ROOT / "core").glob("*.py")), ids=lambda p: p.name)
def test_core_imports_only_science_libraries(path: Path) -> None:
    bad = {n for n in _imports(path) if not _stdlib(n) and n not in CORE_ALLOWED}
    assert not bad, f"{path.name} imports {sorted(bad)}; core/ may import only {sorted(CORE_ALLOWED)} and stdlib"


@pytest.mark.parametrize("path", sorted((ROOT / "ui").glob("charts*.py")), ids=lambda p: p.name)
def test_chart_builders_do_not_import_streamlit(path: Path) -> None:
    assert "streamlit" not in _imports(path)


@pytest.mark.parametrize("path", sorted((ROOT / "pages").glob("*.py")), ids=lambda p: p.name)
def test_pages_are_thin_views(path: Path) -> None:
    bad = _imports(path) & PAGE_FORBIDDEN
    assert not bad, f"{path.name} imports {sorted(bad)}: numerics belong in core/"
    n_lines = len(path.read_text().splitlines())
    assert n_lines <= 170, f"{path.name} has {n_lines} lines; move numerics to core/ and charts to ui/"


def test_router_imports_nothing_heavy() -> None:
    assert _imports(ROOT / "app.py") <= {"importlib", "threading", "streamlit", "threadpoolctl", "ui"}
    assert "torch" not in (ROOT / "ui" / "page.py").read_text()
    assert _imports(ROOT / "ui" / "registry.py") <= {"__future__", "dataclasses", "pathlib"}


def test_every_page_file_is_registered() -> None:
    registered = {HOME.file} | {p.file for p in TOPICS}
    on_disk = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
    assert on_disk <= registered, f"unregistered pages: {sorted(on_disk - registered)}"


def test_every_registered_topic_exists() -> None:
    missing = [p.file for p in TOPICS if not p.exists]
    assert not missing, f"registered but missing: {missing}"
    assert available_topics() == list(TOPICS)


def test_every_core_module_has_tests() -> None:
    modules = [p.stem for p in (ROOT / "core").glob("*.py") if not p.stem.startswith("_")]
    missing = [m for m in modules if not (ROOT / "tests" / f"test_{m}.py").exists()]
    assert not missing, f"core modules without tests/test_<module>.py: {missing}"


def test_every_page_has_an_apptest() -> None:
    missing = [p.file for p in TOPICS if not (ROOT / "tests" / f"test_page_{Path(p.file).stem}.py").exists()]
    assert not missing, f"pages without tests/test_page_<stem>.py: {missing}"


def _project_modules() -> dict[str, Path]:
    return {f"{p.parent.name}.{p.stem}": p for d in ("core", "ui") for p in (ROOT / d).glob("*.py")}


def _project_imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The core/ui modules that ``path`` imports anywhere in its body (function-level imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module in modules:
                found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules)
    return found


def test_no_import_cycles() -> None:
    modules = _project_modules()
    graph = {name: _project_imports(path, modules) - {name} for name, path in modules.items()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                cycle = [*path[path.index(dep) :], dep]
                raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
            if dep not in state:
                visit(dep, [*path, dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


@pytest.mark.parametrize("path", sorted([*(ROOT / "core").glob("*.py"), *(ROOT / "ui").glob("*.py")]), ids=str)
def test_no_module_getattr_reexports(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "__getattr__" not in names, f"{path.name} defines a module __getattr__: import the name where it lives"
