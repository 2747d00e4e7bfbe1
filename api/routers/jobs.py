"""`GET /v1/jobs` and `POST /v1/jobs`: the background jobs and their errors, and starting one (scope `admin`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Request
from pydantic import BaseModel

from api.auth import AUTH_RESPONSES, JobsKey
from api.deps import RuntimeDep
from usecases.job_status import list_jobs, start_job

router = APIRouter(tags=["jobs"], responses=AUTH_RESPONSES)


class JobOut(BaseModel):
    id: str
    name: str
    state: str
    requested_by: str
    enqueued_at: datetime | None
    ended_at: datetime | None
    attempts_left: int | None
    error: str
    result: str
    runs: int | None
    failures: int | None


class JobsOut(BaseModel):
    mode: str
    depth: int
    startable: list[str]
    jobs: list[JobOut]


class Started(BaseModel):
    id: str
    name: str


@router.get("/v1/jobs", response_model=JobsOut)
def get_jobs(request: Request, runtime: RuntimeDep, actor: JobsKey) -> JobsOut:
    """Queued, scheduled (waiting to retry), running, failed (with the error) and recently finished jobs.

    Without a queue (`DOCGAP_REDIS_URL`), the schedule of this server process, with run and failure counts.
    """
    v = list_jobs(runtime, actor, getattr(request.app.state, "scheduler", None))
    return JobsOut(mode=v.mode, depth=v.depth, startable=v.startable,
                   jobs=[JobOut.model_validate(j, from_attributes=True) for j in v.jobs])  # fmt: skip


@router.post("/v1/jobs", response_model=Started, status_code=202)
def post_job(
    request: Request, runtime: RuntimeDep, actor: JobsKey, name: Annotated[str, Body(embed=True, max_length=100)]
) -> Started:
    """Start a job by name (one of `startable`): enqueued, or run by this process's schedule within seconds."""
    try:
        job_id = start_job(runtime, actor, name, getattr(request.app.state, "scheduler", None))
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from exc
    return Started(id=job_id, name=name)
