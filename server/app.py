"""The app factory: one FastAPI app serving the JSON API and the web pages over one runtime."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

import core
from api.deps import get_runtime
from api.routers import accounts, answers, briefs, feedback, flags, jobs, questions, tickets, topics, webhooks
from core.runtime import Runtime
from retrieval.answer import keep_sentence_cache_warm
from server import metrics
from server.access_log import AccessLog
from usecases.health import check_health
from usecases.jobs import Scheduler, default_jobs
from web import STATIC_DIR
from web.admin import router as admin_pages
from web.briefs import router as brief_pages
from web.chat import router as chat_router
from web.errors import EXCEPTION_HANDLERS
from web.flags import router as flag_pages
from web.jobs import router as job_pages
from web.login import router as login_router
from web.routes import router as web_router
from web.tickets import router as tickets_pages


def create_app(runtime: Runtime, run_jobs: bool = False) -> FastAPI:
    """The app; with `run_jobs` (as `docgap serve` does) scheduled jobs run while it serves."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # With a queue the workers run the schedule; this process only enqueues what its users ask for.
        scheduler = Scheduler(default_jobs(runtime) if run_jobs and runtime.queue is None else [])
        _app.state.scheduler = scheduler
        scheduler.start()
        warming = threading.Event()
        if run_jobs:  # a served app: embed the docs' sentences before the first answers, and after each import
            threading.Thread(target=keep_sentence_cache_warm, args=(runtime, warming), daemon=True).start()
        try:
            yield
        finally:
            warming.set()
            scheduler.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="docgap",
        version=core.__version__,
        description="Suggested answers from your docs, and the recurring questions they do not answer.\n\n"
        "The `/v1` API needs an API key (`docgap keys create --scope answers:read`), sent as "
        "`Authorization: Bearer dg_…` or `X-API-Key: dg_…`.",
    )
    app.state.runtime = runtime
    app.dependency_overrides[get_runtime] = lambda: runtime
    for exc, handler in EXCEPTION_HANDLERS.items():
        app.add_exception_handler(exc, handler)

    @app.get("/healthz", tags=["health"], responses={503: {"description": "a store does not answer"}})
    def healthz() -> JSONResponse:
        """200 when the database and the vector store answer, else 503; each store's state is in `checks`."""
        health = check_health(runtime)
        body = {
            "status": "ok" if health.ok else "unavailable",
            "mode": "llm" if runtime.settings.llm_enabled else "offline",
            "checks": health.checks,
        }
        return JSONResponse(body, status_code=200 if health.ok else 503)

    metrics.install(app, runtime)
    app.add_middleware(AccessLog)  # outermost: its request id is on every record, the metrics' included
    app.include_router(answers.router)
    app.include_router(feedback.router)
    app.include_router(topics.router)
    app.include_router(tickets.router)
    app.include_router(accounts.router)
    app.include_router(briefs.router)
    app.include_router(flags.router)
    app.include_router(jobs.router)
    app.include_router(questions.router)
    app.include_router(webhooks.router)
    app.include_router(login_router)
    app.include_router(chat_router)
    app.include_router(brief_pages)
    app.include_router(flag_pages)
    app.include_router(job_pages)
    app.include_router(admin_pages)
    app.include_router(web_router)
    app.include_router(tickets_pages)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def served_app() -> FastAPI:
    """The app as one of several server processes (`docgap serve --workers N`): a runtime from the environment."""
    from core import logs
    from core.settings import Settings

    settings = Settings()
    logs.configure(settings.log_level, settings.log_format)
    return create_app(Runtime(settings), run_jobs=True)
