"""The use cases the CLI, the API and scheduled jobs share: import questions, import docs, analyse.

Each is a plain function over a `Runtime`; progress is reported through an optional callback so the CLI can
draw bars while the server and tests stay quiet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from clustering.service import ClusterResult, recluster
from docgap.runtime import Runtime
from ingest.accounts import import_accounts_csv, remap_questions
from ingest.docs import read_docs_folder
from ingest.embed import embed_pending_questions, pending_count
from ingest.records import IngestError, IngestResult, QuestionRecord
from ingest.store import store_records
from retrieval.coverage import assess_topics
from retrieval.index import index_documents

Progress = Callable[[str, int | None], Callable[[int], None]]
"""Given a task name and its total (None if unknown), returns the function that advances it."""


def _quiet(_name: str, _total: int | None) -> Callable[[int], None]:
    return lambda _n: None


def import_questions(
    runtime: Runtime, items: Iterable[QuestionRecord | IngestError], progress: Progress = _quiet
) -> IngestResult:
    """Store records, then embed whatever is pending (this import's and any a crash left behind)."""
    result = store_records(runtime.engine, items, progress("storing questions", None))
    pending = pending_count(runtime)
    if pending:
        embed_pending_questions(runtime, progress("embedding questions", pending))
    return result


def import_docs(runtime: Runtime, folder: Path, source: str | None = None, progress: Progress = _quiet) -> IngestResult:
    pages = list(read_docs_folder(folder))
    return index_documents(runtime, source or str(folder.resolve()), pages, progress("indexing pages", len(pages)))


def import_accounts(runtime: Runtime, path: Path) -> tuple[IngestResult, int]:
    """Import the CRM CSV, then map questions that arrived before their account existed."""
    with Session(runtime.engine) as session:
        result = import_accounts_csv(session, path)
        session.commit()
        mapped = remap_questions(session)
        session.commit()
    return result, mapped


@dataclass(frozen=True)
class AnalysisResult:
    clustering: ClusterResult
    assessed: int


def analyse(runtime: Runtime) -> AnalysisResult:
    """Re-cluster (keeping topic ids), then judge each topic's coverage and gap score."""
    clustering = recluster(runtime)
    return AnalysisResult(clustering, assess_topics(runtime))
