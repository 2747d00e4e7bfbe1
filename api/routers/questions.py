"""`POST /v1/questions`: a helpdesk trigger pushes one customer question; it is stored and answered from the docs.

The question goes through the same pipeline as every import (cleaning, PII redaction, language, idempotency by
source and external id), so a ticket pushed here and later imported from an export is one question, not two. Like a
ticket it is a request: stored whatever it says ("alarm settings" included), skipped only when empty once cleaned,
an auto-reply or a bounce.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException

from api.auth import AUTH_RESPONSES, require_permission
from api.deps import RuntimeDep
from api.routers.answers import answer_response
from api.schemas import QuestionIn, QuestionOut
from ingest.records import AccountHint, IngestResult, QuestionRecord
from retrieval.answer import answer_question
from usecases.answers import no_docs_answer
from usecases.permissions import Permission
from usecases.questions import import_one, stored_question

router = APIRouter(prefix="/v1", tags=["questions"], responses=AUTH_RESPONSES)


def generated_external_id(body: QuestionIn) -> str:
    """A stable id for a payload without one, so a trigger that fires twice stores the question once."""
    created = body.created_at.isoformat() if body.created_at else ""
    digest = hashlib.sha256("\x1f".join([body.text, body.account or "", created]).encode()).hexdigest()
    return f"sha256:{digest[:32]}"


def _status(result: IngestResult) -> str:
    for name in ("added", "updated", "unchanged"):
        if getattr(result, name):
            return name
    return "skipped"


@router.post(
    "/questions",
    response_model=QuestionOut,
    dependencies=[Depends(require_permission(Permission.WRITE_QUESTIONS))],
    responses={422: {"description": "Invalid payload, or a message too long to be a question."}},
)
def post_question(body: QuestionIn, runtime: RuntimeDep) -> QuestionOut:
    """Ingest one question and return a suggested answer.

    The suggested answer comes from the documentation only: never from other accounts' questions or staff
    answers. Re-posting the same payload (or the same `source` + `external_id`) is idempotent: `status` is
    "unchanged", or "updated" when the text changed; "skipped" (with `skip_reason`) means it was an auto-reply, a
    bounce or empty once cleaned: not stored, but still answered.
    """
    external_id = body.external_id or generated_external_id(body)
    existing = stored_question(runtime, body.source, external_id)
    created_at: datetime = body.created_at or (existing.created_at if existing else runtime.clock())
    record = QuestionRecord(
        source=body.source,
        external_id=external_id,
        text=body.text,
        created_at=created_at,
        hint=AccountHint(account_name=body.account),
    )
    result = import_one(runtime, record)
    if result.errors:
        raise HTTPException(422, "; ".join(e.message for e in result.errors))
    stored = stored_question(runtime, body.source, external_id)
    # Retrieval works best on the cleaned text; the question itself is the gap signal, so no chat turn is recorded.
    asked = stored.text if stored is not None else body.text
    answer = no_docs_answer(runtime, asked) or answer_question(
        runtime, asked, account=body.account, top_k=body.top_k, record=False
    )
    return QuestionOut(
        question_id=stored.id if stored else None,
        external_id=external_id,
        stored=stored is not None,
        status=_status(result),  # type: ignore[arg-type]
        skip_reason=next(iter(result.skipped_by), None),
        suggested_answer=answer_response(answer),
    )
