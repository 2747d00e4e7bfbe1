"""`/v1/topics`: the gap board as JSON, and a writer's decisions (status, merge, split) with their lineage."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from api.auth import AUTH_RESPONSES, ErrorOut, TopicWriteKey, require_permission
from api.deps import RuntimeDep
from api.schemas import (
    EmergingTopicOut,
    LineageOut,
    MergeRequest,
    SplitRequest,
    StatusChange,
    TopicDetailOut,
    TopicOut,
    TopicPage,
)
from clustering.curation import CurationError, lineage
from clustering.topics import COVERAGE_VIEWS, TopicFilter, count_matching, list_topics, topic_detail
from clustering.trends import load_emerging_topics
from core.models import TOPIC_STATUSES
from core.runtime import Runtime
from usecases.accounts import account_id_named
from usecases.permissions import Permission, PermissionDenied
from usecases.topics import change_topic, merge_topics, split_topic

router = APIRouter(prefix="/v1/topics", tags=["topics"], responses=AUTH_RESPONSES)
_read = [Depends(require_permission(Permission.READ))]
_STATUS_PATTERN = f"^({'|'.join(TOPIC_STATUSES)})$"
"""Validated by FastAPI, so a bad value gets the same 422 body as every other invalid parameter."""
TopicId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The topic's stable id.")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "No topic with this id."}}
_REFUSED: dict[int | str, dict[str, Any]] = {
    **_NOT_FOUND,
    409: {"model": ErrorOut, "description": "The decision cannot be applied (e.g. the topic was merged away)."},
}


@router.get(
    "",
    response_model=TopicPage,
    dependencies=_read,
    responses={404: {"model": ErrorOut, "description": "No account with the given name."}},
)
def get_topics(
    runtime: RuntimeDep,
    status: str | None = Query(
        default=None, pattern=_STATUS_PATTERN, description=f"One of {', '.join(TOPIC_STATUSES)}."
    ),
    gaps_only: bool = Query(default=False, description="Only topics the docs do not (fully) cover."),
    coverage: str | None = Query(
        default=None, pattern=f"^({'|'.join(COVERAGE_VIEWS)})$", description="gaps or covered (gaps_only = gaps)."
    ),
    since: date | None = Query(default=None, description="Only topics asked about on or after this day."),
    until: date | None = Query(default=None, description="Only topics asked about before this day."),
    account: str | None = Query(
        default=None, min_length=1, max_length=200, description="Only topics this account asked about (its name)."
    ),
    language: str | None = Query(
        default=None, pattern="^[a-z]{2,3}$", description="Only topics with questions in this language (ISO 639-1)."
    ),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=2**62),
) -> TopicPage:
    """Active topics, biggest documentation gap first; with since/until/account/language, most asked first.

    The scope filters count questions: `matching` on each topic says how many of its questions are in scope.
    """
    f = TopicFilter(
        status=status,
        coverage="gaps" if gaps_only else coverage,
        since=datetime.combine(since, time()) if since else None,
        until=datetime.combine(until, time()) if until else None,
        account_id=_account_id(runtime, account) if account else None,
        language=language,
    )
    items = list_topics(runtime, f, limit=limit, offset=offset)
    total = count_matching(runtime, f)
    return TopicPage(items=[TopicOut(**asdict(t)) for t in items], limit=limit, offset=offset, total=total)


@router.get("/emerging", response_model=list[EmergingTopicOut], dependencies=_read)
def get_emerging(runtime: RuntimeDep) -> list[EmergingTopicOut]:
    """Topics first seen in the last 14 days, or at least doubling their weekly rate in the last 7."""
    return [EmergingTopicOut(**asdict(e)) for e in load_emerging_topics(runtime)]


@router.get("/{topic_id}", response_model=TopicDetailOut, dependencies=_read, responses=_NOT_FOUND)
def get_topic(topic_id: TopicId, runtime: RuntimeDep) -> TopicDetailOut:
    detail = topic_detail(runtime, topic_id)
    if detail is None:
        raise HTTPException(404, f"no topic {topic_id}")
    return TopicDetailOut(**asdict(detail))


@router.get("/{topic_id}/lineage", response_model=list[LineageOut], dependencies=_read, responses=_NOT_FOUND)
def get_lineage(topic_id: TopicId, runtime: RuntimeDep) -> list[LineageOut]:
    """Merges, splits, renames, status changes and re-cluster retirements involving the topic, oldest first."""
    if topic_detail(runtime, topic_id, question_limit=0) is None:
        raise HTTPException(404, f"no topic {topic_id}")
    return [LineageOut(**asdict(e)) for e in lineage(runtime, topic_id)]


@router.post("/{topic_id}/status", response_model=TopicOut, responses=_NOT_FOUND)
def change_status(topic_id: TopicId, body: StatusChange, runtime: RuntimeDep, actor: TopicWriteKey) -> TopicOut:
    """A docs writer's decision (status, notes, label); it survives re-clustering."""
    _decide(lambda: change_topic(runtime, actor, topic_id, body.status, body.notes, body.label, body.doc_url,
                                 body.documented_on))  # fmt: skip
    return _topic_out(runtime, topic_id)


@router.post("/{topic_id}/merge", response_model=TopicOut, responses=_REFUSED)
def merge_topic(topic_id: TopicId, body: MergeRequest, runtime: RuntimeDep, actor: TopicWriteKey) -> TopicOut:
    """Merge this topic into `into`: its questions move there, and later re-clusters keep them together."""
    target = _decide(lambda: merge_topics(runtime, actor, [topic_id], body.into))
    return _topic_out(runtime, target.id or 0)


@router.post("/{topic_id}/split", response_model=TopicOut, status_code=201, responses=_REFUSED)
def split(topic_id: TopicId, body: SplitRequest, runtime: RuntimeDep, actor: TopicWriteKey) -> TopicOut:
    """Split questions out of this topic into a new one (returned); later re-clusters keep the two apart."""
    new = _decide(lambda: split_topic(runtime, actor, topic_id, body.question_ids, body.label))
    return _topic_out(runtime, new.id or 0)


def _decide(action):  # type: ignore[no-untyped-def]
    """Run a curation action, mapping its refusals onto HTTP (unknown → 404, not applicable → 409)."""
    try:
        return action()
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    except CurationError as exc:
        raise HTTPException(409, str(exc)) from exc
    except PermissionDenied as exc:
        raise HTTPException(403, str(exc)) from exc


def _topic_out(runtime: Runtime, topic_id: int) -> TopicOut:
    detail = topic_detail(runtime, topic_id, question_limit=0)
    assert detail is not None
    return TopicOut(**asdict(detail.topic))


def _account_id(runtime: Runtime, name: str) -> int:
    found = account_id_named(runtime, name)
    if found is None:
        raise HTTPException(404, f"no account named {name!r}")
    return found
