"""Layering and documentation invariants."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from docgap.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_stages_do_not_import_the_web_framework() -> None:
    for package in ("ingest", "clustering", "retrieval", "reports", "docgap"):
        for f in (ROOT / package).rglob("*.py"):
            bad = _imports(f) & {"fastapi", "starlette", "uvicorn", "api", "web"}
            if f.name in ("cli.py",):
                bad -= {"uvicorn", "api"}  # `docgap serve` starts the server
            assert not bad, f"{f.relative_to(ROOT)} imports {bad}"


def test_only_adapters_import_their_libraries() -> None:
    owners = {
        "langchain_text_splitters": {"retrieval/chunking.py"},
        "openai": {"docgap/llm.py"},
        "chromadb": {"docgap/vectors.py"},
        "sentence_transformers": {"docgap/embedding.py"},
    }
    for f in ROOT.glob("*/**/*.py"):
        rel = f.relative_to(ROOT).as_posix()
        if rel.startswith((".venv", "tests/", "bench/", "build/")):
            continue
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
