from datetime import date

from sqlmodel import Session, select

from docgap.jobs import Job, Scheduler, default_jobs, ensure_weekly_report
from docgap.models import Report


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
    assert [j.name for j in default_jobs(fresh_runtime)] == ["weekly report"], "no Zendesk job unless configured"
    assert ensure_weekly_report(fresh_runtime) is True
    assert ensure_weekly_report(fresh_runtime) is False
    with Session(fresh_runtime.engine) as s:
        reports = s.exec(select(Report)).all()
    assert [r.period_start for r in reports] == [date(2026, 11, 16)]
