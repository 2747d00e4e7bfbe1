"""`POST /v1/answers`: a suggested answer from the docs, with citations, or an honest abstention.

It abstains with "not covered" when the docs do not seem to answer, and with "no docs indexed" before any doc is.
"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from api.auth import AUTH_RESPONSES, AskKey
from api.deps import RuntimeDep
from api.schemas import AnswerRequest, AnswerResponse, TopicRef
from retrieval.answer import Answer
from usecases.answers import NO_DOCS, NO_DOCS_INDEXED, ask

router = APIRouter(prefix="/v1", tags=["answers"], responses=AUTH_RESPONSES)


@router.post("/answers", response_model=AnswerResponse)
def create_answer(body: AnswerRequest, runtime: RuntimeDep, actor: AskKey) -> AnswerResponse:
    """Answer from the documentation only (never from other accounts' questions)."""
    return answer_response(ask(runtime, actor, body.question, account=body.account, top_k=body.top_k))


def answer_response(a: Answer) -> AnswerResponse:
    """The API's answer object (shared with `POST /v1/questions`)."""
    reason = None if a.covered else NO_DOCS_INDEXED if a.mode == NO_DOCS else "not covered"
    return AnswerResponse(
        answer=a.answer,
        citations=[asdict(c) for c in a.citations],  # type: ignore[misc]
        confidence=a.confidence,
        covered=a.covered,
        topic_id=a.topic_id,
        topic=TopicRef(id=a.topic_id, label=a.topic_label or "") if a.topic_id else None,
        mode=a.mode,
        turn_id=a.turn_id,
        reason=reason,
    )
