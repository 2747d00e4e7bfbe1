"""A real crash: `docgap ingest zendesk` killed with SIGKILL mid-import, then run again."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import Session, col, select

from core.models import Question
from ingest.runs import source_statuses
from ingest.store import store_records
from ingest.zendesk import read_zendesk
from tests.conftest import make_runtime


def _big_ndjson(demo_sources: Path, out: Path, copies: int = 2) -> Path:
    doc = json.loads((demo_sources / "zendesk" / "tickets.json").read_text())
    with out.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"users": doc["users"], "organizations": doc["organizations"]}) + "\n")
        for k in range(copies):
            for t in doc["tickets"]:
                fh.write(json.dumps({**t, "id": t["id"] + 100_000 * k}) + "\n")
    return out


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return int(conn.execute("select count(*) from question").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # tables not created yet


def test_kill_9_mid_import_then_resume(tmp_path: Path, demo_sources: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    file = _big_ndjson(demo_sources, tmp_path / "tickets.ndjson")
    data = tmp_path / "data"
    env = {**os.environ, "DOCGAP_DATA_DIR": str(data)}
    cmd = [sys.executable, "-m", "cli", "ingest", "zendesk", str(file)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _count(data / "docgap.sqlite3") < 600 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    partial = _count(data / "docgap.sqlite3")
    rt = make_runtime(data, embedder)
    assert [s.last_status for s in source_statuses(rt)] == ["interrupted"]

    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr

    reference = make_runtime(tmp_path / "reference", embedder)  # the same file stored without interruption
    expected = store_records(reference.engine, read_zendesk(file))
    with Session(rt.engine) as s:
        got = s.exec(select(Question.external_id)).all()
        pending = s.exec(select(Question).where(col(Question.embedded).is_(False))).all()
    with Session(reference.engine) as s:
        want = s.exec(select(Question.external_id)).all()
    assert 600 <= partial < len(want)
    assert sorted(got) == sorted(want), "nothing missing, nothing duplicated"
    assert not pending and rt.vectors.count("questions") == len(got) == expected.added
    statuses = source_statuses(rt)
    assert statuses[0].last_status == "ok" and statuses[0].questions == len(want)
