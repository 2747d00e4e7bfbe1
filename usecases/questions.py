"""One question pushed by a helpdesk trigger or the API: stored through the import pipeline, found again by its id."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.models import Question
from core.runtime import Runtime
from ingest.records import IngestResult, QuestionRecord
from usecases.pipeline import import_questions


def stored_question(runtime: Runtime, source: str, external_id: str) -> Question | None:
    with Session(runtime.engine) as session:
        query = select(Question).where(Question.source == source, Question.external_id == external_id)
        return session.exec(query).first()


def import_one(runtime: Runtime, record: QuestionRecord) -> IngestResult:
    """Store the record; a concurrent post of the same id loses the insert race once, then finds it stored."""
    try:
        return import_questions(runtime, iter([record]), location="api")
    except IntegrityError:
        return import_questions(runtime, iter([record]), location="api")
