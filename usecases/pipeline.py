"""The use cases the CLI, the API and scheduled jobs share: import questions, import docs, analyse, merge, split.

Each is a plain function over a `Runtime`; progress is reported through an optional callback so the CLI can
draw bars while the server and tests stay quiet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from clustering.curation import merge_topics, split_topic
from clustering.service import ClusterResult, update_topics
from core.models import Topic
from core.runtime import Runtime
from ingest.accounts import import_accounts_csv, remap_questions
from ingest.docs import read_docs_folder
from ingest.embed import embed_pending_questions, pending_count
from ingest.openapi import read_openapi
from ingest.records import IngestError, IngestResult, QuestionRecord
from ingest.runs import RunRecorder
from ingest.site import CrawlOptions, crawl_sitemap
from ingest.store import store_records
from retrieval.coverage import assess_topics
from retrieval.index import index_documents

Progress = Callable[[str, int | None], Callable[[int], None]]
"""Given a task name and its total (None if unknown), returns the function that advances it."""


def _quiet(_name: str, _total: int | None) -> Callable[[int], None]:
    return lambda _n: None


def import_questions(
    runtime: Runtime,
    items: Iterable[QuestionRecord | IngestError],
    progress: Progress = _quiet,
    location: str = "",
) -> IngestResult:
    """Store records, then embed whatever is pending (this import's and any a crash left behind).

    The import is recorded (see `docgap sources`), including a failure, which is re-raised.
    """
    recorder = RunRecorder(runtime, location)
    try:
        result = store_records(runtime.engine, recorder.watch(items), progress("storing questions", None))
        pending = pending_count(runtime)
        if pending:
            embed_pending_questions(runtime, progress("embedding questions", pending))
    except Exception as exc:
        recorder.finish(None, failure=f"{type(exc).__name__}: {exc}")
        raise
    recorder.finish(result)
    return result


def import_docs(
    runtime: Runtime,
    folder: Path | None = None,
    source: str | None = None,
    progress: Progress = _quiet,
    *,
    sitemap: str | None = None,
    openapi: Path | None = None,
    crawl: CrawlOptions | None = None,
) -> IngestResult:
    """Index one doc source: a folder (Markdown/HTML/rST), a site through its sitemap, or an OpenAPI spec.

    When nothing at all could be read (an unreachable sitemap, a broken spec) the index is left as it was: a
    failed fetch must not look like a site whose pages were all deleted.
    """
    if sum(x is not None for x in (folder, sitemap, openapi)) != 1:
        raise ValueError("import_docs takes exactly one of a folder, a sitemap URL or an OpenAPI file")
    if sitemap is not None:
        items, name = list(crawl_sitemap(sitemap, crawl, progress=progress("fetching pages", None))), sitemap
    elif openapi is not None:
        items, name = list(read_openapi(openapi)), str(openapi.resolve())
    else:
        assert folder is not None
        items, name = list(read_docs_folder(folder)), str(folder.resolve())
    errors = [i for i in items if isinstance(i, IngestError)]
    if items and len(errors) == len(items):
        return IngestResult(errors=errors)
    return index_documents(runtime, source or name, items, progress("indexing pages", len(items)))


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

    def summary(self) -> str:
        return f"{self.clustering.summary()}; coverage assessed for {self.assessed} topics"


def analyse(runtime: Runtime, full: bool = False) -> AnalysisResult:
    """Bring topics up to date (incremental, or a full re-cluster keeping ids), then judge coverage and gap score."""
    clustering = update_topics(runtime, full=full)
    return AnalysisResult(clustering, assess_topics(runtime))


def merge(runtime: Runtime, sources: Sequence[int], into: int) -> Topic:
    """A writer's merge, then the gap assessment of the result (the merged topic's coverage is new evidence)."""
    target = merge_topics(runtime, sources, into)
    assess_topics(runtime)
    return target


def split(
    runtime: Runtime, topic_id: int, question_ids: Sequence[int] | None = None, label: str | None = None
) -> Topic:
    """A writer's split, then the gap assessment of both sides."""
    new = split_topic(runtime, topic_id, question_ids, label)
    assess_topics(runtime)
    return new
