"""`POST /v1/answers/{turn_id}/feedback`: thumbs up or down on a suggested answer, evidence for the gap score."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from api.auth import AUTH_RESPONSES, AskKey
from api.deps import RuntimeDep
from api.schemas import FeedbackIn, FeedbackOut
from usecases.answers import rate_answer

router = APIRouter(prefix="/v1", tags=["answers"], responses=AUTH_RESPONSES)


@router.post(
    "/answers/{turn_id}/feedback",
    response_model=FeedbackOut,
    responses={404: {"description": "No answer with this turn id."}},
)
def give_feedback(turn_id: int, body: FeedbackIn, runtime: RuntimeDep, actor: AskKey) -> FeedbackOut:
    """Was the answer (`turn_id` from `POST /v1/answers`) helpful? A thumbs-down raises its topic's gap score."""
    if not rate_answer(runtime, actor, turn_id, body.helpful):
        raise HTTPException(404, f"no answer with turn id {turn_id}")
    return FeedbackOut(turn_id=turn_id, feedback=1 if body.helpful else -1)
