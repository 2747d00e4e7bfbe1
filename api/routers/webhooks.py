"""`POST /webhooks/slack/events`: the Slack Events API endpoint (verification and transport only).

The signature is checked on the raw body before anything is parsed; what an event means lives in
`ingest.slack_events`. Slack wants an answer within three seconds, so embedding a new or edited question runs
after the response (a background task), and a retry of an event already handled returns 200 straight away.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep
from core.runtime import Runtime
from ingest.embed import embed_pending_questions, pending_count
from ingest.records import ShapeError, loads_json
from ingest.slack_events import handle_payload, verify_signature

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


def _embed_pending(runtime: Runtime) -> None:
    if pending_count(runtime):
        embed_pending_questions(runtime)


@router.post("/slack/events")
async def slack_events(request: Request, runtime: RuntimeDep, background: BackgroundTasks) -> dict[str, Any]:
    """Receive Slack events: answers `url_verification`, turns customer messages into questions.

    401 when the signature or its timestamp (5-minute window) is wrong; 503 until `DOCGAP_SLACK_SIGNING_SECRET`
    is set.
    """
    secret = runtime.settings.slack_signing_secret
    if not secret:
        raise HTTPException(503, "Slack events are not configured: set DOCGAP_SLACK_SIGNING_SECRET")
    body = await request.body()
    headers = request.headers
    ok = verify_signature(
        secret, headers.get("X-Slack-Request-Timestamp"), body, headers.get("X-Slack-Signature"), runtime.clock()
    )
    if not ok:
        raise HTTPException(401, "bad or stale Slack signature")
    try:
        payload = loads_json(body.decode("utf-8"), max_depth=None)  # depth is checked per event, with its reason
    except ShapeError as exc:
        raise HTTPException(400, f"body refused: {exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPException(400, f"body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise HTTPException(400, "body is not a JSON object")
    if payload.get("type") == "url_verification":
        return {"challenge": payload.get("challenge", "")}
    outcome = await run_in_threadpool(handle_payload, runtime, payload)
    if outcome.action in ("question", "edit"):
        background.add_task(_embed_pending, runtime)
    return {"ok": True, "action": outcome.action, "detail": outcome.detail, "question_id": outcome.question_id}
