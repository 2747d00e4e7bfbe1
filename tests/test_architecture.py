"""Layering and documentation invariants."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


LAYERS = {
    "core": 0,
    "prompts": 0,
    "demo": 0,
    "ingest": 1,
    "clustering": 1,
    "retrieval": 1,
    "reports": 1,
    "trackers": 1,
    "delivery": 1,
    "usecases": 2,
    "api": 3,
    "web": 3,
    "server": 3,
    "cli": 3,
}
"""Bottom to top: the core, the stages, the use cases, the front ends. A module imports its own layer and below."""
FRONT_ENDS_MAY_IMPORT = {"web": {"api"}, "server": {"api", "web"}, "cli": {"server"}}
"""Among the front ends: the pages use the API's request plumbing (`api.deps`), the server composes both, and
`docgap serve` starts the server; nothing imports the other way."""
FRAMEWORKS = {"fastapi", "starlette", "uvicorn", "typer"}
SQL = {"sqlmodel", "sqlalchemy"}


def _modules() -> dict[str, Path]:
    files = [f for package in LAYERS for f in (ROOT / package).rglob("*.py")]
    return {".".join(f.relative_to(ROOT).with_suffix("").parts): f for f in files}


def _imports(path: Path, depth: int = 1) -> set[str]:
    """Imported module names, cut to their first `depth` parts (1: the package)."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {".".join(a.name.split(".")[:depth]) for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(".".join(node.module.split(".")[:depth]))
    return names


def test_every_package_has_a_layer() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages <= LAYERS.keys(), f"no layer for {packages - LAYERS.keys()}"


def test_no_module_imports_a_layer_above_its_own() -> None:
    for name, f in _modules().items():
        own = name.split(".")[0]
        for package in _imports(f) & LAYERS.keys():
            assert LAYERS[package] <= LAYERS[own], f"{name} ({own}, layer {LAYERS[own]}) imports {package}"
            if LAYERS[own] == 3 and package != own and LAYERS[package] == 3:
                assert package in FRONT_ENDS_MAY_IMPORT.get(own, set()), f"front end {name} imports {package}"


def test_stages_do_not_import_each_other_in_a_cycle() -> None:
    graph: dict[str, set[str]] = {p: set() for p, layer in LAYERS.items() if layer == 1}
    for name, f in _modules().items():
        own = name.split(".")[0]
        if own in graph:
            graph[own] |= (_imports(f) & graph.keys()) - {own}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start])

    for p in graph:
        assert not reaches(p, p, set()), f"{p} imports itself through {graph[p]}"


def test_only_front_ends_import_the_web_and_cli_frameworks() -> None:
    for name, f in _modules().items():
        if LAYERS[name.split(".")[0]] < 3:
            assert not _imports(f) & FRAMEWORKS, f"{name} imports {_imports(f) & FRAMEWORKS}"


def test_front_ends_run_no_sql() -> None:
    """Pages, API routes and commands call the use cases; the queries live below them."""
    for name, f in _modules().items():
        if LAYERS[name.split(".")[0]] == 3:
            assert not _imports(f) & SQL, f"{name} imports {_imports(f) & SQL}"


def test_only_adapters_import_their_libraries() -> None:
    owners = {
        "langchain_text_splitters": {"retrieval/chunking.py"},
        "openai": {"core/llm.py"},
        "chromadb": {"core/vectors.py"},
        "sentence_transformers": {"core/embedding.py"},
    }
    for f in _modules().values():
        rel = f.relative_to(ROOT).as_posix()
        for lib, allowed in owners.items():
            if lib in _imports(f):
                assert rel in allowed, f"{rel} imports {lib}; only {allowed} may"


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, field in Settings.model_fields.items():
        assert f"DOCGAP_{name.upper()}" in readme, f"DOCGAP_{name.upper()} is not in README.md"
        assert field.description, f"{name} has no description"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"^make test\b", ci, re.M) and "make test" in readme and "make demo" in readme
