"""The Jobs page, `/jobs` (admins): what runs in the background, what failed and why, and a button to start one.

With a queue (`DOCGAP_REDIS_URL`) it lists the queue's jobs; in the embedded default, the schedule this server
process runs. The rows come from `usecases.job_status`, as `GET /v1/jobs` does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import RuntimeDep
from usecases.job_status import list_jobs, start_job
from web.auth import FormUser, UserDep, current_user
from web.routes import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, runtime: RuntimeDep, user: UserDep, started: str | None = None):
    view = list_jobs(runtime, user.actor, getattr(request.app.state, "scheduler", None))
    return render(request, "jobs.html", runtime, v=view, started=started)


@router.post("/jobs/start")
def start(request: Request, runtime: RuntimeDep, user: FormUser, name: Annotated[str, Form(max_length=100)]):
    try:
        start_job(runtime, user.actor, name, getattr(request.app.state, "scheduler", None))
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from exc
    return RedirectResponse(f"/jobs?started={name}", status_code=303)
