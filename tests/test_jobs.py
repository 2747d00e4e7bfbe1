import csv
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from core.models import Question, Report
from ingest.tabular import ColumnMap, read_csv
from tests.conftest import NOW, make_runtime
from usecases.jobs import Job, Scheduler, default_jobs, ensure_weekly_report, topic_updates
from usecases.pipeline import import_questions


def test_scheduler_runs_due_jobs_and_survives_failures() -> None:
    now = [0.0]
    calls: list[str] = []

    def boom() -> None:
        raise RuntimeError("zendesk down")

    ok, bad = Job("ok", 60, lambda: calls.append("ok")), Job("bad", 30, boom)
    s = Scheduler([ok, bad], monotonic=lambda: now[0])
    s.run_due()
    now[0] = 31
    s.run_due()
    now[0] = 61
    s.run_due()
    assert calls == ["ok", "ok"] and ok.runs == 2
    assert bad.failures == 3 and bad.last_error == "RuntimeError: zendesk down"


def test_weekly_report_written_once_by_the_job(fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    names = [j.name for j in default_jobs(fresh_runtime)]
    assert names == ["weekly report", "risk alerts", "topic updates"], (
        "no Zendesk, re-cluster or delivery job unless configured"
    )
    configured = make_runtime(
        fresh_runtime.settings.data_dir,
        fresh_runtime.embedder,
        smtp_host="127.0.0.1",
        report_recipients="cs@example.com",
    )
    assert "weekly delivery" in [j.name for j in default_jobs(configured)]
    assert ensure_weekly_report(fresh_runtime) is True
    assert ensure_weekly_report(fresh_runtime) is False
    with Session(fresh_runtime.engine) as s:
        reports = s.exec(select(Report)).all()
    assert [r.period_start for r in reports] == [date(2026, 11, 16)]


def _import(rt, path: Path, texts: list[str], start: int) -> None:  # type: ignore[no-untyped-def]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        w.writerows([(f"Q{start + i}", t) for i, t in enumerate(texts)])
    assert import_questions(rt, read_csv(path, ColumnMap("text", "id"), NOW)).ok


PIN = [
    "How do I change my PIN?",
    "Can I change my card PIN in the app?",
    "Where do I reset my PIN number?",
    "How can I set a new PIN?",
    "I want a different PIN, how?",
    "Change PIN please, how does it work?",
]


def test_topic_updates_job_runs_only_when_questions_arrived(tmp_path: Path, fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    def job() -> bool:
        return topic_updates(fresh_runtime)

    assert job() is False, "nothing to do on an empty data dir"
    _import(fresh_runtime, tmp_path / "a.csv", PIN, 0)
    assert job() is True and job() is False
    # The newcomer is the topic's most central question in capitals (the same words to the uncased model), so it
    # joins by any radius: what is tested is that the job runs again, not where the radius falls (a fresh
    # paraphrase fell inside the radius on one machine and outside on another, and so did "Where do I reset my PIN
    # number?" in the first run).
    with Session(fresh_runtime.engine) as s:
        central = max(s.exec(select(Question)).all(), key=lambda q: q.topic_similarity or -1.0)
    _import(fresh_runtime, tmp_path / "b.csv", [central.text.upper()], 100)
    assert job() is True
    with Session(fresh_runtime.engine) as s:
        topics = {q.topic_id for q in s.exec(select(Question).where(col(Question.embedded).is_(True))).all()}
        newcomer = s.exec(select(Question).where(Question.external_id == "Q100")).one()
    assert central.topic_id is not None and newcomer.topic_id == central.topic_id, "it joined the PIN topic"
    assert topics - {None} == {central.topic_id}, "and no second topic was made"


def test_full_recluster_job_waits_one_interval(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    rt = make_runtime(tmp_path / "data", embedder, full_recluster_days=7)
    jobs = {j.name: j for j in default_jobs(rt, monotonic=lambda: 1000.0)}
    assert jobs["full re-cluster"].next_at == 1000.0 + 7 * 86400
