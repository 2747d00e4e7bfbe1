"""`/v1/accounts/{id}/brief` and `/v1/briefs/executive`: the briefs as JSON (scope `answers:read`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query

from api.auth import AUTH_RESPONSES, ErrorOut, ReadKey
from api.brief_schemas import AccountBriefOut, ExecutiveBriefOut
from api.deps import RuntimeDep
from usecases.briefs import MAX_DAYS, UnknownAccount, account_brief, executive_brief

router = APIRouter(tags=["briefs"], responses=AUTH_RESPONSES)
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "No account with this id."}}


@router.get("/v1/accounts/{account_id}/brief", response_model=AccountBriefOut, responses=_NOT_FOUND)
def get_account_brief(
    runtime: RuntimeDep,
    actor: ReadKey,
    account_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="The account's id (see `GET /v1/accounts`).")],
    days: Annotated[int, Query(ge=1, le=MAX_DAYS, description="Days in the period, ending where the data ends.")] = 90,
) -> AccountBriefOut:
    """One account's brief; only this account's questions are in it.

    Its questions and trend, velocity, top topics, gaps, unanswered questions, repeat requesters and teams,
    sentiment, risk flags with their evidence, suggested actions and a summary (`mode` says whether the LLM or a
    template wrote it).
    """
    try:
        return AccountBriefOut.model_validate(account_brief(runtime, actor, account_id, days))
    except UnknownAccount as exc:
        raise HTTPException(404, str(exc)) from exc


@router.get("/v1/briefs/executive", response_model=ExecutiveBriefOut)
def get_executive_brief(runtime: RuntimeDep, actor: ReadKey) -> ExecutiveBriefOut:
    """Every account ranked by risk weighted by ARR.

    Each open flag's evidence in one line, the ARR under open flags and the week's priority actions.
    """
    return ExecutiveBriefOut.model_validate(executive_brief(runtime, actor))
