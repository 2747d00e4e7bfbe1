"""The chat page: ask the docs or about the accounts; the answer streams in when the browser runs JavaScript.

`POST /chat` renders the whole page with the answer (no JavaScript needed). `POST /chat/stream` takes the same
form and answers as server-sent events: `delta` events carry the text as it is written, then one `done` event
carries the answer section rendered by the same template as the plain page, which replaces the streamed text
(citations, links and badges exactly as without JavaScript). `web/static/chat.js` reads the stream with `fetch`
(an `EventSource` cannot POST a form with its CSRF token).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from api.deps import RuntimeDep
from core.llm import LLMError
from usecases import chat as chatting
from usecases.accounts import account_names
from web.auth import FormUser, current_user
from web.routes import render, templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])

Question = Annotated[str, Form(min_length=1, max_length=4000)]


@router.get("/chat", response_class=HTMLResponse)
def chat(request: Request, runtime: RuntimeDep):
    return render(request, "chat.html", runtime, answer=None, question="", account="", accounts=account_names(runtime))


@router.post("/chat", response_class=HTMLResponse)
def chat_ask(
    request: Request,
    runtime: RuntimeDep,
    user: FormUser,
    question: Question,
    account: Annotated[str | None, Form()] = None,
):
    result = chatting.chat(runtime, user.actor, question, account=account or None)
    return render(request, "chat.html", runtime, answer=result, question=question, account=account or "",
                  accounts=account_names(runtime))  # fmt: skip


def _event(name: str, data: dict[str, str]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


@router.post("/chat/stream")
def chat_stream(
    request: Request,
    runtime: RuntimeDep,
    user: FormUser,
    question: Question,
    account: Annotated[str | None, Form()] = None,
) -> StreamingResponse:
    answer, pieces = chatting.stream_chat(runtime, user.actor, question, account=account or None)

    def events() -> Iterator[str]:
        try:
            for piece in pieces:
                yield _event("delta", {"text": piece})
        except LLMError as exc:
            yield _event("error", {"message": f"the LLM stopped mid-answer: {exc}"})
            return
        html = templates.get_template("chat_answer.html").render(answer=answer, request=request)
        yield _event("done", {"html": html})

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})
