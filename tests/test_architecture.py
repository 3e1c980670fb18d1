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


CORE_FILES = sorted((ROOT / "core").rglob("*.py"))
UI_FILES = sorted((ROOT / "ui").rglob("*.py"))
SHARED_CORE = {"_validation", "data", "training"}  # helpers shared by several topics (DESIGN.md, Layout)


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", CORE_FILES, ids=_rel)
def test_core_imports_only_science_libraries(path: Path) -> None:
    bad = {n for n in _imports(path) if not _stdlib(n) and n not in CORE_ALLOWED}
    assert not bad, f"{path.name} imports {sorted(bad)}; core/ may import only {sorted(CORE_ALLOWED)} and stdlib"


@pytest.mark.parametrize("path", sorted((ROOT / "ui" / "charts").glob("*.py")), ids=_rel)
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


def _test_file(path: Path) -> Path:
    """``core/a.py`` is tested in ``tests/test_a.py``, ``core/a/b.py`` in ``tests/test_a_b.py``."""
    parts = path.relative_to(ROOT / "core").with_suffix("").parts
    return ROOT / "tests" / f"test_{'_'.join(parts)}.py"


def test_every_core_module_has_tests() -> None:
    modules = [p for p in CORE_FILES if not p.stem.startswith("_")]
    missing = [_rel(p) for p in modules if not _test_file(p).exists()]
    assert not missing, f"core modules without tests/test_<package>_<module>.py: {missing}"


def test_every_page_has_its_core_and_chart_home() -> None:
    """Page X's science is ``core/X.py`` or the package ``core/X/``, its charts ``ui/charts/X.py``."""
    stems = [Path(p.file).stem for p in TOPICS]
    no_core = [
        s for s in stems if not ((ROOT / "core" / f"{s}.py").exists() or (ROOT / "core" / s / "__init__.py").exists())
    ]
    no_charts = [s for s in stems if not (ROOT / "ui" / "charts" / f"{s}.py").exists()]
    assert not no_core, f"pages without core/<page>.py or core/<page>/: {no_core}"
    assert not no_charts, f"pages without ui/charts/<page>.py: {no_charts}"


def test_core_has_only_page_homes_and_shared_helpers() -> None:
    stems = {Path(p.file).stem for p in TOPICS}
    top = {p.stem for p in (ROOT / "core").glob("*.py")} | {
        p.name for p in (ROOT / "core").iterdir() if p.is_dir() and (p / "__init__.py").exists()
    }
    stray = sorted(top - stems - SHARED_CORE - {"__init__"})
    where = f"a topic's module goes under core/<page>/, shared helpers in {sorted(SHARED_CORE)}"
    assert not stray, f"core/ holds {stray}: {where}"


def test_every_page_has_an_apptest() -> None:
    missing = [p.file for p in TOPICS if not (ROOT / "tests" / f"test_page_{Path(p.file).stem}.py").exists()]
    assert not missing, f"pages without tests/test_page_<stem>.py: {missing}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _project_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in [*CORE_FILES, *UI_FILES]}


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


@pytest.mark.parametrize("path", [*CORE_FILES, *UI_FILES], ids=_rel)
def test_no_module_getattr_reexports(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "__getattr__" not in names, f"{path.name} defines a module __getattr__: import the name where it lives"


def _hand_written_loops(path: Path) -> list[str]:
    """Loops that step an optimizer or backpropagate in their body (``opt.step()``, ``loss.backward()``)."""
    found = []
    for loop in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(loop, ast.For | ast.While):
            continue
        for node in ast.walk(loop):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args:
                if node.func.attr in {"step", "backward"} and not node.keywords:
                    found.append(f"line {loop.lineno}: a loop calling .{node.func.attr}()")
                    break
    return found


@pytest.mark.parametrize("path", [p for p in CORE_FILES if p.name != "training.py"], ids=_rel)
def test_training_goes_through_the_one_loop(path: Path) -> None:
    loops = _hand_written_loops(path)
    assert not loops, f"{_rel(path)} has its own training loop ({loops}): use core.training.train_loop"
