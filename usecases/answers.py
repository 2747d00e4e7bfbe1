"""Asking the docs: the answers API and the chat's doc questions, for whoever may ask (`Permission.ASK`).

What a person asks in the chat is kept as theirs (`ChatTurn.user_id`): their history on the chat page, and their
thumbs up or down, which count in the gap score of the answer's topic.

Before any doc is indexed there is nothing to answer from: the answer says so and how to add the docs
(`no_docs_answer`), rather than "not covered", and is not recorded as a gap signal (every question would be one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from core.models import ChatTurn
from core.runtime import Runtime
from retrieval.answer import Answer, answer_question, record_feedback
from usecases.docs import docs_indexed
from usecases.permissions import Actor, Permission, PermissionDenied, require

HISTORY = 10
NO_DOCS = "no docs"
"""`Answer.mode` of the answer given before any doc is indexed (no writer: nothing to answer from)."""
NO_DOCS_INDEXED = "no docs indexed"
"""Why such an answer abstains, as the API says it (`AnswerResponse.reason`)."""
NO_DOCS_TEXT = (
    "No docs are indexed yet, so there is nothing to answer from. Add your documentation with "
    "`docgap ingest docs ./path/to/docs` (or `docgap ingest docs --sitemap URL`, or `--openapi FILE` for an API "
    "spec), then ask again."
)


def no_docs_answer(runtime: Runtime, question: str) -> Answer | None:
    """The answer when no doc is indexed yet (None once one is): it says so and how to add docs.

    Not "not covered": that would blame the docs for a question they were never given the chance to answer.
    """
    if docs_indexed(runtime):
        return None
    return Answer(question, NO_DOCS_TEXT, [], 0.0, False, None, None, NO_DOCS)


def ask(runtime: Runtime, actor: Actor, question: str, account: str | None = None, top_k: int = 5) -> Answer:
    """A cited answer from the docs, or an honest abstention: "not covered", or "no docs indexed" yet."""
    require(actor, Permission.ASK)
    return no_docs_answer(runtime, question) or answer_question(
        runtime, question, account=account, top_k=top_k, asked_by=actor.user_id
    )


def rate_answer(runtime: Runtime, actor: Actor, turn_id: int, helpful: bool) -> bool:
    """A thumbs-up or down on an answer; False when there is no such answer.

    A person rates their own chat answers only (API keys rate the answers the API gave, which have no person).
    """
    require(actor, Permission.ASK)
    with Session(runtime.engine) as session:
        turn = session.get(ChatTurn, turn_id)
        if turn is None:
            return False
        if actor.kind == "user" and turn.user_id != actor.user_id:
            raise PermissionDenied(f"{actor.name} may only rate their own answers")
    return record_feedback(runtime, turn_id, helpful)


@dataclass(frozen=True)
class PastTurn:
    id: int
    asked_at: datetime
    question: str
    covered: bool
    feedback: int | None


def history(runtime: Runtime, actor: Actor, limit: int = HISTORY) -> list[PastTurn]:
    """The person's latest doc questions in the chat, newest first (nobody else's)."""
    require(actor, Permission.ASK)
    if actor.user_id is None:
        return []
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(ChatTurn)
            .where(ChatTurn.user_id == actor.user_id)
            .order_by(col(ChatTurn.asked_at).desc(), col(ChatTurn.id).desc())
            .limit(limit)
        ).all()
    return [PastTurn(t.id or 0, t.asked_at, t.question, t.covered, t.feedback) for t in rows]
