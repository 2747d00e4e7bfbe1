"""The archive of weekly reports."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from core.models import Report
from core.runtime import Runtime


def report_list(runtime: Runtime) -> list[Report]:
    with Session(runtime.engine) as session:
        return list(session.exec(select(Report).order_by(col(Report.period_start).desc()).limit(104)).all())


def weekly_report(runtime: Runtime, week: date) -> Report | None:
    """The weekly report that starts on `week`, if one was written."""
    with Session(runtime.engine) as session:
        return session.exec(select(Report).where(Report.kind == "weekly", Report.period_start == week)).first()
