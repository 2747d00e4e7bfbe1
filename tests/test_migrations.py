"""Schema migrations: a data dir from before them upgrades cleanly, and the revisions describe the models."""

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from core import migrations
from core.db import make_engine
from core.models import Account, DocTicket, Question, Topic
from tests.commandline import docgap
from tests.servers import postgres  # noqa: F401  (the throwaway PostgreSQL cluster fixture)

FIXTURE = Path(__file__).parent / "fixtures" / "pre_migrations.sqlite3"
"""A data dir's database as docgap made it before migrations (commit 29560ce's make_engine), with a few rows."""


def _old_data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(FIXTURE, data / "docgap.sqlite3")
    return data


def _schema(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute("SELECT name, coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))


def test_a_data_dir_from_before_migrations_upgrades_cleanly_and_keeps_its_rows(tmp_path: Path) -> None:
    data = _old_data_dir(tmp_path)
    before = docgap(["db", "current"], data, check=False)
    assert before.returncode == 1 and "none (made before migrations)" in before.stdout

    upgraded = docgap(["db", "upgrade"], data).stdout
    assert "before: none (made before migrations)" in upgraded
    assert f"after:  {migrations.head()} (head)" in upgraded

    now = docgap(["db", "current"], data)
    assert f"revision: {migrations.head()} (head)" in now.stdout
    engine = make_engine(f"sqlite:///{data / 'docgap.sqlite3'}")
    try:
        assert migrations.differences(engine) == []
        with Session(engine) as s:
            accounts = {a.name: a for a in s.exec(select(Account))}
            (topic,) = s.exec(select(Topic)).all()
            questions = {q.external_id: q for q in s.exec(select(Question))}
        assert set(accounts) == {"Northgate", "Acme"} and accounts["Northgate"].domains == ["northgate.example"]
        assert accounts["Northgate"].arr == 12000.0 and accounts["Acme"].zendesk_org_ids == ["42"]
        assert (topic.label, topic.status, topic.notes, topic.label_source) == (
            "card declined abroad", "triaged", "writer's note", "writer")  # fmt: skip
        assert topic.signals == {"volume": 2} and topic.keywords == ["card", "declined"]
        assert set(questions) == {"1", "2", "3"}
        assert questions["1"].topic_id == topic.id and questions["1"].account_id == accounts["Northgate"].id
        assert questions["1"].redactions == {"email": 1} and questions["1"].follow_ups == ["still declined"]
        assert questions["3"].topic_id is None and questions["3"].unassigned_reason == "noise"
    finally:
        engine.dispose()


def test_db_upgrade_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    data = _old_data_dir(tmp_path)
    docgap(["db", "upgrade"], data)
    schema = _schema(data / "docgap.sqlite3")
    again = docgap(["db", "upgrade", "--json"], data).stdout
    assert '"before": "' + migrations.head() in again and '"patched": []' in again
    assert _schema(data / "docgap.sqlite3") == schema
    assert "(nothing to do)" in docgap(["db", "upgrade"], data).stdout


def test_db_current_on_a_data_dir_with_no_database_says_so_and_creates_nothing(tmp_path: Path) -> None:
    proc = docgap(["db", "current"], tmp_path / "data", check=False)
    assert proc.returncode == 1 and "none (empty database)" in proc.stdout
    assert not (tmp_path / "data" / "docgap.sqlite3").exists()


def test_the_revisions_build_exactly_the_models_schema() -> None:
    """Fails when a model gains (or loses) a column, index or constraint without a revision: `docgap db revision`."""
    engine = make_engine("sqlite://")
    try:
        assert migrations.current(engine) == migrations.head()
        assert migrations.differences(engine) == []
        tables = set(inspect(engine).get_table_names())
        assert tables == set(SQLModel.metadata.tables) | {migrations.VERSION_TABLE}
    finally:
        engine.dispose()


def test_a_model_change_without_a_revision_is_found(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite3"
    make_engine(f"sqlite:///{db}").dispose()
    with sqlite3.connect(db) as conn:  # what the models would differ by had one gained a column and an index
        conn.execute("ALTER TABLE topic DROP COLUMN documented_url")
        conn.execute("DROP INDEX ix_question_language")
    engine = create_engine(f"sqlite:///{db}")
    try:
        found = {(d[0], getattr(d[-1], "name", None)) for d in migrations.differences(engine)}  # type: ignore[index]
        assert ("add_column", "documented_url") in found and ("add_index", "ix_question_language") in found
    finally:
        engine.dispose()


def test_db_revision_refuses_to_write_an_empty_revision() -> None:
    versions = Path(migrations.__file__).parent / "versions"
    before = sorted(p.name for p in versions.glob("0*.py"))
    proc = docgap(["db", "revision", "-m", "nothing"], check=False)
    assert proc.returncode == 1 and "nothing to write" in proc.stderr
    assert sorted(p.name for p in versions.glob("0*.py")) == before


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: seen.append(sql.strip().split()[0]))
    return seen


def test_opening_a_database_at_the_head_only_reads_its_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.sqlite3'}"
    make_engine(url).dispose()
    engine = make_engine(url, upgrade=False)
    seen = _statements(engine)
    try:
        done = migrations.upgrade(engine)
    finally:
        engine.dispose()
    assert done.before == done.after == migrations.head() and done.patched == ()
    assert {s.upper() for s in seen} <= {"SELECT", "PRAGMA"}, seen
    assert len(seen) <= 4, seen


def test_an_old_data_dir_whose_rows_break_a_unique_index_is_left_unversioned_and_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = _old_data_dir(tmp_path)
    db = data / "docgap.sqlite3"
    with sqlite3.connect(db) as conn:  # two live tickets for one topic, from before the index existed
        conn.execute("DROP INDEX uq_docticket_live")
        for title in ("a", "b"):
            conn.execute(
                "INSERT INTO docticket (topic_id, title, problem, evidence, outline, outline_mode, target_page,"
                " target_title, target_is_new, status, created_at, updated_at, created_by) VALUES (1, ?, '', '[]',"
                " '[]', 'template', '', '', 0, 'open', '2026-11-02 09:00:00', '2026-11-02 09:00:00', 'x')",
                (title,),
            )
    proc = docgap(["db", "upgrade"], data, check=False)
    assert proc.returncode == 1 and "uq_docticket_live" in proc.stderr
    engine = create_engine(f"sqlite:///{db}")
    assert migrations.current(engine) is None
    engine.dispose()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE docticket SET status = 'done' WHERE title = 'a'")
    engine = make_engine(f"sqlite:///{db}")
    try:
        assert migrations.current(engine) == migrations.head() and migrations.differences(engine) == []
        with Session(engine) as s:
            assert len(s.exec(select(DocTicket)).all()) == 2
    finally:
        engine.dispose()


def test_postgresql_empty_and_pre_migration_databases_reach_the_head(postgres: str) -> None:  # noqa: F811
    empty = make_engine(postgres.format(db="a"))
    try:
        assert migrations.current(empty) == migrations.head() and migrations.differences(empty) == []
    finally:
        empty.dispose()

    old = create_engine(postgres.format(db="b"))
    SQLModel.metadata.create_all(old)  # how docgap made a PostgreSQL database before migrations
    with old.begin() as conn:
        conn.execute(text("ALTER TABLE question DROP COLUMN team"))  # came with revision 0002, after migrations
        conn.execute(text("ALTER TABLE topic DROP COLUMN label_locked"))
        conn.execute(text("DROP INDEX ix_question_language"))
        conn.execute(text("INSERT INTO topic (label, status, active, size, account_count, gap_score, notes, gap_reason,"
                          " label_source) VALUES ('old', 'new', true, 0, 0, 0, '', '', 'keywords')"))  # fmt: skip
    old.dispose()
    engine = make_engine(postgres.format(db="b"))
    try:
        assert migrations.current(engine) == migrations.head() and migrations.differences(engine) == []
        with Session(engine) as s:
            (topic,) = s.exec(select(Topic)).all()
        assert topic.label == "old" and topic.label_locked is False
    finally:
        engine.dispose()
