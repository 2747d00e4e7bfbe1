"""`GET /v1/flags`: the accounts' risk flags, open ones first, then the most recently cleared (scope `answers:read`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.auth import AUTH_RESPONSES, ReadKey
from api.brief_schemas import FlagOut
from api.deps import RuntimeDep
from usecases.flags import CLEARED_LIMIT, MAX_LIMIT, list_risk_flags

router = APIRouter(tags=["briefs"], responses=AUTH_RESPONSES)


@router.get("/v1/flags", response_model=list[FlagOut])
def get_flags(
    runtime: RuntimeDep,
    actor: ReadKey,
    state: Annotated[Literal["open", "cleared", "all"], Query(description="Which flags to list.")] = "open",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many cleared flags.")] = CLEARED_LIMIT,
) -> list[FlagOut]:
    """Risk flags as the last check left them: open ones (most severe first), then cleared ones (last cleared first).

    Each has its evidence in one line and in full, the questions and weeks it rests on, and links (site paths) to
    each question's topic, each week's archived report, the topics it names, the account's brief and timeline.
    """
    return [FlagOut.model_validate(r) for r in list_risk_flags(runtime, actor, state, limit).rows]
