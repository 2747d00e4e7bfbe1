"""A private copy of the analysed demo with its risk flags checked once, shared by the brief tests (read-only)."""

from __future__ import annotations

import shutil

import pytest

from core.runtime import Runtime
from reports.risk import evaluate_flags
from tests.conftest import NOW, make_runtime


@pytest.fixture(scope="package")
def flagged(demo_runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    """The demo as `docgap alerts check` leaves it: flags raised from the indicators as of the tests' clock."""
    target = tmp_path_factory.mktemp("briefs") / "data"
    shutil.copytree(demo_runtime.settings.data_dir, target)
    rt = make_runtime(target, demo_runtime.embedder)
    assert evaluate_flags(rt, NOW).open, "the demo raises flags"
    return rt
