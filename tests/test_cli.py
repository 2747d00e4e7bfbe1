"""The `docgap` command as a user runs it, with its own data dir.

The commands run in this process through the console script's own `main` (`tests.commandline.docgap`: its own
argv, environment and streams); a real subprocess checks what only a subprocess shows: the installed `docgap`
script, and the exit status and one-line error a shell sees.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from demo import HELPCENTER_DIR
from tests.commandline import docgap, docgap_process

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
    ["users"],
    ["users", "create"],
    ["users", "list"],
    ["users", "disable"],
    ["sync"],
    ["topics"],
    ["topics", "export"],
    ["topics", "show"],
    ["topics", "merge"],
    ["topics", "split"],
    ["topics", "lineage"],
    ["ask"],
    ["report", "weekly"],
    ["brief"],
    ["brief", "account"],
    ["brief", "executive"],
    ["alerts"],
    ["alerts", "check"],
    ["alerts", "list"],
    ["tickets"],
    ["tickets", "create"],
    ["tickets", "list"],
    ["tickets", "export"],
    ["backup"],
    ["restore"],
    ["db"],
    ["db", "upgrade"],
    ["db", "current"],
    ["db", "revision"],
    ["serve"],
    ["demo"],
    ["reindex"],
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "docgap")
def test_every_command_has_help(cmd: list[str], tmp_path: Path) -> None:
    proc = docgap([*cmd, "--help"], tmp_path)
    assert "Usage" in proc.stdout and len(proc.stdout) > 200


def test_the_installed_script_runs_and_a_failure_is_one_line_and_status_1(tmp_path: Path) -> None:
    """The `docgap` console script as a shell runs it: help, and a bad path as an exit status and one line."""
    shown = docgap_process(["--help"], tmp_path, entry_point=True)
    assert "Usage: docgap" in shown.stdout and len(shown.stdout) > 200
    missing = docgap_process(["ingest", "zendesk", str(tmp_path / "nope.json")], tmp_path / "data", check=False)
    assert missing.returncode == 1 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    assert missing.stderr.strip().startswith("error:") and len(missing.stderr.strip().splitlines()) == 1


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
    first = topics[0]["id"]
    shown = docgap(["topics", "show", str(first)], data).stdout
    assert f"#{first}" in shown and "question id" in shown
    split = docgap(["topics", "split", str(first), "--label", "PIN, the rest"], data).stdout
    new = int(split.split("new topic ")[1].split(":")[0])
    assert "PIN, the rest" in split and new not in (t["id"] for t in topics)
    assert "split" in docgap(["topics", "lineage", str(first)], data).stdout
    merged = docgap(["topics", "merge", str(new), "--into", str(first)], data).stdout
    assert f"into topic {first} (6 questions)" in merged
    again = docgap(["topics", "merge", str(new), "--into", str(first)], data, check=False)
    assert again.returncode == 1 and "no longer active" in again.stderr
    assert "full re-cluster: 2 topics over 12 questions (2 kept" in docgap(["cluster", "--full"], data).stdout
    assert "0 new questions joined existing topics, 0 new topics" in docgap(["cluster"], data).stdout
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
