"""Import bookkeeping: every import is recorded as an `ImportRun`, and `docgap sources` reads them back.

Skipped messages are told two ways, because they answer two questions: a run's `skipped_reasons` say what that
import skipped; the `SkippedMessage` rows (written by `ingest.store` in the commit that skips them) say what is
skipped now per source, whichever path the messages came by, and each once however often it was re-imported.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from core.models import ImportRun, Question, SkippedMessage, SyncCursor
from core.runtime import Runtime
from ingest.records import IngestError, IngestResult, QuestionRecord
from ingest.redact import redact

ERROR_SAMPLES = 20


class RunRecorder:
    """Records one import: created before the first record is read, closed with the result (or the failure)."""

    def __init__(self, runtime: Runtime, location: str) -> None:
        self._runtime = runtime
        self.source = "unknown"
        with Session(runtime.engine, expire_on_commit=False) as session:
            run = ImportRun(source=self.source, location=location, started_at=runtime.clock())
            session.add(run)
            session.commit()
            self.run_id = run.id

    def watch(self, items: Iterable[QuestionRecord | IngestError]) -> Iterator[QuestionRecord | IngestError]:
        """Pass records through, noting which source they come from."""
        for item in items:
            if isinstance(item, QuestionRecord) and self.source == "unknown":
                self.source = item.source
                # Written now, not at the end: a run killed mid-way must still show under its source.
                with Session(self._runtime.engine) as session:
                    run = session.get(ImportRun, self.run_id)
                    assert run is not None
                    run.source = item.source
                    session.commit()
            yield item

    def finish(self, result: IngestResult | None, failure: str | None = None) -> None:
        with Session(self._runtime.engine) as session:
            run = session.get(ImportRun, self.run_id)
            assert run is not None
            run.source, run.finished_at = self.source, self._runtime.clock()
            if result is not None:
                run.added, run.updated, run.unchanged = result.added, result.updated, result.unchanged
                run.skipped, run.error_count = result.skipped, len(result.errors)
                run.skipped_reasons = dict(result.skipped_by)
                run.errors = [str(e) for e in result.errors[:ERROR_SAMPLES]]
            run.status = "failed" if failure else ("errors" if run.error_count else "ok")
            if failure:  # an exception's text may quote a record: redacted like the records' errors
                run.errors = [*run.errors, redact(failure).text][-ERROR_SAMPLES:]
            session.commit()


@dataclass(frozen=True)
class SourceStatus:
    source: str
    questions: int
    skipped: dict[str, int]
    """Messages of this source not stored as questions, per reason (`ingest.records.SKIP_REASONS`)."""
    last_import: str | None
    last_location: str | None
    last_status: str | None
    last_added: int
    last_skipped: dict[str, int]
    last_errors: int
    cursor: str | None


@dataclass(frozen=True)
class SkippedView:
    source: str
    external_id: str
    reason: str
    created_at: str
    preview: str


def skipped_messages(runtime: Runtime, source: str | None = None, limit: int = 20) -> list[SkippedView]:
    """The newest skipped messages (of one source, or all), for a person to check what was dropped and why."""
    with Session(runtime.engine) as session:
        query = select(SkippedMessage).order_by(col(SkippedMessage.created_at).desc(), col(SkippedMessage.id).desc())
        if source is not None:
            query = query.where(SkippedMessage.source == source)
        rows = session.exec(query.limit(limit)).all()
    return [
        SkippedView(r.source, r.external_id, r.reason, r.created_at.isoformat(timespec="seconds"), r.preview)
        for r in rows
    ]


def source_statuses(runtime: Runtime) -> list[SourceStatus]:
    with Session(runtime.engine) as session:
        counts = dict(session.exec(select(Question.source, func.count()).group_by(Question.source)).all())
        skipped: dict[str, dict[str, int]] = {}
        by_reason = select(SkippedMessage.source, SkippedMessage.reason, func.count()).group_by(
            SkippedMessage.source, SkippedMessage.reason
        )
        for src, reason, n in session.exec(by_reason).all():
            skipped.setdefault(src, {})[reason] = int(n)
        runs = session.exec(
            select(ImportRun).order_by(col(ImportRun.started_at).desc(), col(ImportRun.id).desc())
        ).all()
        cursors = {c.source: c.cursor for c in session.exec(select(SyncCursor)).all()}
    latest: dict[str, ImportRun] = {}
    for run in runs:
        latest.setdefault(run.source, run)
    out = []
    for source in sorted(set(counts) | set(latest) | set(cursors) | set(skipped)):
        run = latest.get(source)
        out.append(
            SourceStatus(
                source=source,
                questions=int(counts.get(source, 0)),
                skipped=skipped.get(source, {}),
                last_import=run.started_at.isoformat(timespec="seconds") if run else None,
                last_location=run.location if run else None,
                last_status=("interrupted" if run.status == "running" else run.status) if run else None,
                last_added=run.added if run else 0,
                last_skipped=dict(run.skipped_reasons or {}) if run else {},
                last_errors=run.error_count if run else 0,
                cursor=cursors.get(source),
            )
        )
    return out
