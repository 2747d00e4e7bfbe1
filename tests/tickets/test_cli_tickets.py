"""`docgap tickets` as a user runs it (in this process, through the console script's `main`: see
`tests.commandline`) on a copy of the analysed demo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from core.models import Topic
from core.runtime import Runtime
from tests.commandline import docgap


@pytest.fixture(scope="module")
def data_dir(demo_runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("cli-tickets") / "data"
    shutil.copytree(demo_runtime.settings.data_dir, target)
    return target


def test_create_list_and_export(data_dir: Path, demo_runtime: Runtime) -> None:
    with Session(demo_runtime.engine) as s:
        topic = s.exec(select(Topic).where(col(Topic.active).is_(True), Topic.gap_kind == "missing")
                       .order_by(col(Topic.gap_score).desc())).first()  # fmt: skip
    assert topic is not None
    made = json.loads(docgap(["tickets", "create", str(topic.id), "--json"], data_dir).stdout)
    assert made["created"] is True and made["topic_id"] == topic.id and len(made["evidence"]["examples"]) == 5
    listed = json.loads(docgap(["tickets", "list", "--json"], data_dir).stdout)
    assert [t["id"] for t in listed] == [made["id"]]

    first = json.loads(docgap(["tickets", "export", "--to", "markdown", "--json"], data_dir).stdout)
    again = json.loads(docgap(["tickets", "export", str(made["id"]), "--to", "markdown", "--json"], data_dir).stdout)
    assert [r["action"] for r in first + again] == ["created", "updated"]
    files = [f for f in (data_dir / "tickets").iterdir() if f.name.startswith(f"ticket-{made['id']}-")]
    assert [f.name for f in files] == [first[0]["external_id"]] and files[0].read_text().startswith("# Document: ")

    refused = docgap(["tickets", "export", "--to", "github"], data_dir, check=False)
    assert refused.returncode == 1 and "DOCGAP_GITHUB_REPO, DOCGAP_GITHUB_TOKEN" in refused.stderr
    missing = docgap(["tickets", "create", "999999"], data_dir, check=False)
    assert missing.returncode == 1 and "no topic #999999" in missing.stderr
