"""`docgap backup` / `docgap restore`: a restored instance is the backed-up one, and bad archives change nothing.

The demo (a writable copy) gets writer decisions, a user and an API key, is backed up and restored into an empty
data dir; then every table is compared row by row, the vectors id by id, and a search must return the same
passages. A backup taken while a thread keeps importing questions must restore to a database that passes SQLite's
integrity check and whose vectors agree with its rows. Refusals (a non-empty instance, a truncated or altered
archive, another embedding model, a newer format, a role without the permission) change nothing.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import threading
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session, col, select

from core.backup import MANIFEST, BackupError
from core.embedding import SentenceTransformerEmbedder
from core.models import Topic, TopicEvent
from core.runtime import Runtime
from core.vectors import DOC_CHUNKS, QUESTIONS, VectorStore
from ingest.records import AccountHint, QuestionRecord
from retrieval.index import search
from tests.conftest import NOW, make_runtime
from usecases.apikeys import create_key, find_key
from usecases.backup import backup, restore
from usecases.permissions import OPERATOR, PermissionDenied, user_actor
from usecases.pipeline import import_docs, import_questions
from usecases.topics import change_topic
from usecases.users import create_user, log_in

ROOT = Path(__file__).resolve().parent.parent


def _tables(rt: Runtime) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in rowid order (none when there is no database)."""
    if not rt.settings.sqlite_path.exists():
        return {}
    conn = sqlite3.connect(rt.settings.sqlite_path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE "
                                            "'sqlite_%' ORDER BY name")]  # fmt: skip
        return {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY rowid').fetchall() for n in names}
    finally:
        conn.close()


def _vectors(rt: Runtime, name: str) -> tuple[list[str], np.ndarray, list[object]]:
    dump = VectorStore.open("", rt.settings.chroma_path).dump(name)
    order = np.argsort(dump.ids)
    return [dump.ids[i] for i in order], dump.embeddings[order], [dump.metadatas[i] for i in order]


def _decide(rt: Runtime) -> dict[str, object]:
    """Writer decisions (a rename, notes, statuses: lineage events), a user and an API key on top of the demo."""
    with Session(rt.engine) as s:
        ids = list(s.exec(select(Topic.id).where(col(Topic.active)).order_by(col(Topic.size).desc()).limit(3)))
    change_topic(rt, OPERATOR, ids[0], "in_progress", notes="Writer note: needs a page on limits", label="Limits?")
    change_topic(rt, OPERATOR, ids[1], "dismissed", notes="Not a docs question")
    create_user(rt, OPERATOR, "restore-admin", "admin", "restore-password-0001")
    key = create_key(rt, ["answers:read"], name="restore-key")
    return {"topic": ids[0], "dismissed": ids[1], "key": key.secret}


def test_restore_into_an_empty_dir_gives_back_the_same_instance(
    demo_copy: Runtime, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    made = _decide(demo_copy)
    archive = tmp_path / "backup.tar.gz"
    summary = backup(demo_copy, OPERATOR, archive)
    assert summary.tables["question"] > 1000 and summary.vectors[QUESTIONS] == summary.tables["question"]
    assert summary.vectors[DOC_CHUNKS] == summary.tables["chunk"] and not summary.pending

    restored = make_runtime(tmp_path / "restored", embedder)
    result = restore(restored, OPERATOR, archive)
    assert result.tables == summary.tables and result.vectors == summary.vectors

    before, after = _tables(demo_copy), _tables(restored)
    assert before.keys() == after.keys()
    for table in before:
        assert after[table] == before[table], f"table {table} differs after the restore"
    # The things people would miss, named (the row comparison above already holds them).
    assert {"question", "topic", "topicevent", "user", "apikey", "report", "chatturn"} <= before.keys()
    assert before["topicevent"] and before["report"] and before["apikey"] and before["user"]
    with Session(restored.engine) as s:
        topic, dismissed = s.get(Topic, made["topic"]), s.get(Topic, made["dismissed"])
        assert topic and (topic.label, topic.status, topic.label_locked) == ("Limits?", "in_progress", True)
        assert topic.notes == "Writer note: needs a page on limits"
        assert dismissed and dismissed.status == "dismissed"
        events = s.exec(select(TopicEvent).where(col(TopicEvent.topic_id).in_([topic.id, dismissed.id]))).all()
        assert {e.kind for e in events} >= {"rename", "status"}
    assert find_key(restored, str(made["key"])) is not None  # the stored key hash still authenticates
    log_in(restored, "restore-admin", "restore-password-0001", "test")

    for name in (QUESTIONS, DOC_CHUNKS):
        ids0, vec0, meta0 = _vectors(demo_copy, name)
        ids1, vec1, meta1 = _vectors(restored, name)
        assert ids1 == ids0 and meta1 == meta0
        assert np.allclose(vec1, vec0, atol=1e-6)
    for question in ("How do I change my PIN?", "My transfer never arrived", "Which currencies can I hold?"):
        qvec = embedder.embed([question])[0]
        want = [(p.chunk_id, round(p.score, 5)) for p in search(demo_copy, qvec, k=5, query_text=question)]
        got = [(p.chunk_id, round(p.score, 5)) for p in search(restored, qvec, k=5, query_text=question)]
        assert got == want and want


def _records(prefix: str, n: int, start: int = 0) -> list[QuestionRecord]:
    return [
        QuestionRecord(source="backup-test", external_id=f"{prefix}-{i}", created_at=NOW - timedelta(hours=i),
                       text=f"Question {prefix} {i}: why was my card payment number {i} declined abroad?",
                       hint=AccountHint(account_name="Brightline Logistics"))
        for i in range(start, start + n)
    ]  # fmt: skip


def test_a_backup_taken_while_questions_are_written_is_consistent(
    demo_copy: Runtime, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    stop, first = threading.Event(), threading.Event()
    batches: list[int] = []
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            while not stop.is_set():
                import_questions(demo_copy, _records("live", 5, start=5 * len(batches)))
                batches.append(1)
                first.set()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)
            first.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        first.wait(60)
        during = len(batches)
        archive = tmp_path / "live.tar.gz"
        summary = backup(demo_copy, OPERATOR, archive)
        written_during = len(batches) - during
    finally:
        stop.set()
        thread.join(60)
    assert not failures, failures
    assert written_during > 0, "the writer wrote nothing while the backup ran: the test proved nothing"

    restored = make_runtime(tmp_path / "restored", embedder)
    result = restore(restored, OPERATOR, archive)  # checks every member's checksum and every count
    conn = sqlite3.connect(restored.settings.sqlite_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        question_ids = {str(r[0]) for r in conn.execute("SELECT id FROM question")}
        embedded = {str(r[0]) for r in conn.execute("SELECT id FROM question WHERE embedded")}
    finally:
        conn.close()
    assert result.tables["question"] == summary.tables["question"] == len(question_ids)
    ids, _, _ = _vectors(restored, QUESTIONS)
    assert set(ids) <= question_ids, "vectors of questions the database snapshot does not hold"
    assert embedded <= set(ids), "questions marked embedded without a vector"


@pytest.fixture()
def tiny(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> tuple[Runtime, Path]:
    """A small instance (two doc pages, five questions) and its backup."""
    rt = make_runtime(tmp_path / "tiny", embedder)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "cards.md").write_text("# Cards\n\n## Declined abroad\n\nEnable travel mode in the app before you go.\n")
    (docs / "pin.md").write_text("# PIN\n\n## Change your PIN\n\nOpen Settings, then Security, then Change PIN.\n")
    assert import_docs(rt, docs, "help").ok
    assert import_questions(rt, _records("tiny", 5)).ok
    (rt.settings.data_dir / "profiles").mkdir()
    (rt.settings.data_dir / "profiles" / "custom.json").write_text('{"calibrated": true}')
    archive = tmp_path / "tiny.tar.gz"
    backup(rt, OPERATOR, archive)
    return rt, archive


def test_restoring_over_data_without_force_is_refused_and_loses_nothing(
    tiny: tuple[Runtime, Path], tmp_path: Path
) -> None:
    rt, archive = tiny
    import_questions(rt, _records("after", 3))  # written after the backup
    before, vectors_before = _tables(rt), _vectors(rt, QUESTIONS)[0]
    refusal = r"is not empty \(it holds 8 questions, 2 doc passages.*8 vectors in 'questions'.*--force"
    with pytest.raises(BackupError, match=refusal):
        restore(rt, OPERATOR, archive)
    assert _tables(rt) == before and _vectors(rt, QUESTIONS)[0] == vectors_before

    result = restore(rt, OPERATOR, archive, force=True)
    assert result.tables["question"] == 5 and result.vectors[QUESTIONS] == 5 and result.files == 1
    assert len(_vectors(rt, QUESTIONS)[0]) == 5 and len(_tables(rt)["question"]) == 5


def _rewrite(archive: Path, out: Path, change: dict[str, object]) -> None:
    """The archive with its manifest edited (the other members as they are)."""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == MANIFEST:
                data = json.dumps({**json.loads(data), **change}).encode()
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate", r"not a readable docgap backup \(truncated or corrupt\?\)|incomplete"),
        ("flip", r"truncated or corrupt|checksum|not a readable"),
        ("not-an-archive", r"not a readable docgap backup"),
        ("other-model", r"made with 'some-other-model'.*DOCGAP_EMBEDDING_MODEL=some-other-model"),
        ("newer-format", r"backup format 99; this docgap .* reads format 1"),
        ("newer-docgap", r"made by docgap 99\.0\.0, newer than this one"),
    ],
)
def test_a_damaged_or_foreign_archive_is_refused_clearly_and_changes_nothing(
    tiny: tuple[Runtime, Path], tmp_path: Path, embedder: SentenceTransformerEmbedder, damage: str, message: str
) -> None:
    _, archive = tiny
    bad = tmp_path / "bad.tar.gz"
    raw = archive.read_bytes()
    if damage == "truncate":
        bad.write_bytes(raw[: len(raw) * 2 // 3])
    elif damage == "flip":
        spot = len(raw) // 2
        bad.write_bytes(raw[:spot] + bytes([raw[spot] ^ 0xFF]) + raw[spot + 1 :])
    elif damage == "not-an-archive":
        bad.write_text("this is not a backup\n")
    else:
        change = {"other-model": {"embedding_model": "some-other-model"}, "newer-format": {"format_version": 99},
                  "newer-docgap": {"docgap_version": "99.0.0"}}[damage]  # fmt: skip
        _rewrite(archive, bad, change)
    target = make_runtime(tmp_path / "target", embedder)
    with pytest.raises(BackupError, match=message):
        restore(target, OPERATOR, bad)
    rows = {t: r for t, r in _tables(target).items() if t != "alembic_version"}  # opening the instance stamps it
    assert not any(rows.values()), "a refused restore wrote rows"
    assert not VectorStore.open("", target.settings.chroma_path).collection_names()
    assert not (target.settings.data_dir / "profiles").exists()


def test_backup_needs_the_backup_permission_and_never_overwrites_by_accident(tiny: tuple[Runtime, Path]) -> None:
    rt, archive = tiny
    writer = user_actor("wes", "docs_writer")
    with pytest.raises(PermissionDenied):
        backup(rt, writer, archive.with_name("other.tar.gz"))
    with pytest.raises(PermissionDenied):
        restore(rt, writer, archive, force=True)
    stamp = archive.stat().st_mtime_ns
    with pytest.raises(BackupError, match="already exists"):
        backup(rt, OPERATOR, archive)
    assert archive.stat().st_mtime_ns == stamp
    assert backup(rt, OPERATOR, archive, overwrite=True).tables["question"] == 5
    assert archive.stat().st_mode & 0o077 == 0, "the archive holds password and key hashes: owner-only"


def test_the_command_line_backs_up_and_restores(tiny: tuple[Runtime, Path], tmp_path: Path) -> None:
    rt, _ = tiny
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCGAP_")}
    archive = tmp_path / "cli.tar.gz"

    def docgap(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True,
                              env={**env, "DOCGAP_DATA_DIR": str(data_dir)}, timeout=120, check=False)  # fmt: skip

    made = docgap(rt.settings.data_dir, "backup", str(archive), "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["tables"]["question"] == 5
    target = tmp_path / "cli-restored"
    done = docgap(target, "restore", str(archive))
    assert done.returncode == 0, done.stderr
    assert "counts verified" in done.stdout
    assert len(_tables(make_runtime(target, rt.embedder))["question"]) == 5  # type: ignore[arg-type]
    # A refusal is one line and exit status 1 (in-process: a third interpreter start would add seconds).
    from typer.testing import CliRunner

    from cli.main import app

    again = CliRunner().invoke(app, ["restore", str(archive)], env={"DOCGAP_DATA_DIR": str(target)})
    assert again.exit_code == 1, again.output
    said = " ".join(again.output.split())
    assert "is not empty (it holds 5 questions" in said and "Traceback" not in said
