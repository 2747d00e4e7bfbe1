"""`/v1/topics`: the gap board as JSON."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from api.auth import AUTH_RESPONSES, ErrorOut, require_scope
from api.deps import RuntimeDep
from api.schemas import StatusChange, TopicDetailOut, TopicOut, TopicPage
from clustering.topics import count_matching, list_topics, set_status, topic_detail
from docgap.models import TOPIC_STATUSES

router = APIRouter(prefix="/v1/topics", tags=["topics"], responses=AUTH_RESPONSES)
_read = [Depends(require_scope("answers:read"))]
_STATUS_PATTERN = f"^({'|'.join(TOPIC_STATUSES)})$"
"""Validated by FastAPI, so a bad value gets the same 422 body as every other invalid parameter."""
TopicId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The topic's stable id.")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "No topic with this id."}}


@router.get("", response_model=TopicPage, dependencies=_read)
def get_topics(
    runtime: RuntimeDep,
    status: str | None = Query(
        default=None, pattern=_STATUS_PATTERN, description=f"One of {', '.join(TOPIC_STATUSES)}."
    ),
    gaps_only: bool = Query(default=False, description="Only topics the docs do not (fully) cover."),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=2**62),
) -> TopicPage:
    """Active topics, biggest documentation gap first."""
    items = list_topics(runtime, status=status, gaps_only=gaps_only, limit=limit, offset=offset)
    total = count_matching(runtime, status=status, gaps_only=gaps_only)
    return TopicPage(items=[TopicOut(**asdict(t)) for t in items], limit=limit, offset=offset, total=total)


@router.get("/{topic_id}", response_model=TopicDetailOut, dependencies=_read, responses=_NOT_FOUND)
def get_topic(topic_id: TopicId, runtime: RuntimeDep) -> TopicDetailOut:
    detail = topic_detail(runtime, topic_id)
    if detail is None:
        raise HTTPException(404, f"no topic {topic_id}")
    return TopicDetailOut(**asdict(detail))


@router.post(
    "/{topic_id}/status", response_model=TopicOut, dependencies=[Depends(require_scope("admin"))], responses=_NOT_FOUND
)
def change_status(topic_id: TopicId, body: StatusChange, runtime: RuntimeDep) -> TopicOut:
    """A docs writer's decision (status, notes, label); it survives re-clustering."""
    try:
        set_status(runtime, topic_id, body.status, body.notes, body.label)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    detail = topic_detail(runtime, topic_id, question_limit=0)
    assert detail is not None
    return TopicOut(**asdict(detail.topic))
