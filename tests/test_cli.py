"""The `docgap` command as a user runs it: a real subprocess with its own data dir."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from demo import HELPCENTER_DIR

COMMANDS = [
    [],
    ["ingest"],
    ["ingest", "docs"],
    ["ingest", "zendesk"],
    ["ingest", "slack"],
    ["ingest", "csv"],
    ["ingest", "jsonl"],
    ["accounts", "import"],
    ["cluster"],
    ["sources"],
    ["keys"],
    ["keys", "create"],
    ["keys", "list"],
    ["keys", "revoke"],
    ["sync"],
    ["topics"],
    ["topics", "export"],
    ["ask"],
    ["report", "weekly"],
    ["serve"],
    ["demo"],
    ["reindex"],
]


def docgap(args: list[str], data_dir: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCGAP_DATA_DIR": str(data_dir), "COLUMNS": "160"}
    env.pop("DOCGAP_LLM_BASE_URL", None)
    proc = subprocess.run([sys.executable, "-m", "docgap", *args], capture_output=True, text=True, env=env, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"docgap {args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "docgap")
def test_every_command_has_help(cmd: list[str], tmp_path: Path) -> None:
    proc = docgap([*cmd, "--help"], tmp_path)
    assert "Usage" in proc.stdout and len(proc.stdout) > 200


def test_end_to_end_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    docs = tmp_path / "docs"
    shutil.copytree(HELPCENTER_DIR / "cards", docs)
    questions = tmp_path / "q.csv"
    texts = [
        "How do I change my PIN?",
        "Can I change my PIN in the app?",
        "How to set a new PIN for my card?",
        "I forgot my PIN, can I change it?",
        "Where can I change the PIN?",
        "Is changing the PIN free?",
        "My card has not arrived yet",
        "When will my card arrive?",
        "Card still not delivered after 2 weeks",
        "How long does card delivery take?",
        "Where is my new card?",
        "Card delivery is late, help",
    ]
    with questions.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "account"])
        w.writerows([(f"Q{i}", t, "Acme") for i, t in enumerate(texts)])
    assert "added" in docgap(["ingest", "docs", str(docs)], data).stdout
    assert (
        "12 added"
        in docgap(
            [
                "ingest",
                "csv",
                str(questions),
                "--text-column",
                "text",
                "--id-column",
                "id",
                "--account-column",
                "account",
            ],
            data,
        ).stdout
    )
    assert "topics over 12 questions" in docgap(["cluster"], data).stdout
    topics = json.loads(docgap(["topics", "--json"], data).stdout)
    assert len(topics) == 2
    export = tmp_path / "out.csv"
    docgap(["topics", "export", str(export)], data)
    rows = list(csv.DictReader(export.open()))
    assert sorted(r["question_id"] for r in rows) == sorted(f"Q{i}" for i in range(12))
    answer = json.loads(docgap(["ask", "--json", "How long does delivery of a new card take?"], data).stdout)
    assert answer["covered"] and answer["citations"][0]["url"].startswith("card-delivery.md")
    assert answer["mode"] == "offline"
    missing = docgap(["ingest", "zendesk", str(tmp_path / "nope.json")], data, check=False)
    assert missing.returncode != 0 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    report = docgap(["report", "weekly", "--week", "2026-11-16"], data).stdout
    assert report.startswith("# Recurring questions") and "offline" in report
