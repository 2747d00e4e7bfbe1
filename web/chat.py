"""The chat page: ask the docs or about the accounts; the answer streams in when the browser runs JavaScript.

`POST /chat` renders the whole page with the answer (no JavaScript needed). `POST /chat/stream` takes the same
form and answers as server-sent events: `delta` events carry the text as it is written, then one `done` event
carries the answer section rendered by the same template as the plain page, which replaces the streamed text
(citations, links and badges exactly as without JavaScript), and the user's history, the question just asked in
it. `web/static/chat.js` reads the stream with `fetch` (an `EventSource` cannot POST a form with its CSRF token).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse

from api.deps import RuntimeDep
from core.llm import LLMError
from core.runtime import Runtime
from retrieval.answer import Answer
from usecases import chat as chatting
from usecases.accounts import account_names
from usecases.answers import history, rate_answer
from usecases.docs import docs_indexed
from usecases.users import SignedIn
from web.auth import FormUser, UserDep, current_user
from web.routes import render, templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_user)])

Question = Annotated[str, Form(min_length=1, max_length=4000)]


def _page(request: Request, runtime: Runtime, user: SignedIn, answer: Answer | None, question: str,
          account: str) -> HTMLResponse:  # fmt: skip
    return render(request, "chat.html", runtime, answer=answer, question=question, account=account,
                  accounts=account_names(runtime), history=history(runtime, user.actor),
                  docs_indexed=docs_indexed(runtime))  # fmt: skip


@router.get("/chat", response_class=HTMLResponse)
def chat(request: Request, runtime: RuntimeDep, user: UserDep, question: str = ""):
    """The chat; `?question=` fills the box (the history's "ask again") without asking."""
    return _page(request, runtime, user, None, question[:4000], "")


@router.post("/chat", response_class=HTMLResponse)
def chat_ask(
    request: Request,
    runtime: RuntimeDep,
    user: FormUser,
    question: Question,
    account: Annotated[str | None, Form()] = None,
):
    result = chatting.chat(runtime, user.actor, question, account=account or None)
    return _page(request, runtime, user, result, question, account or "")


@router.post("/chat/turns/{turn_id}/feedback")
def chat_feedback(
    turn_id: int, runtime: RuntimeDep, user: FormUser, helpful: Annotated[str, Form(pattern="^(yes|no)$")]
) -> RedirectResponse:
    """Thumbs up or down on one of your answers; it counts in the gap score of the answer's topic."""
    if not rate_answer(runtime, user.actor, turn_id, helpful == "yes"):
        raise HTTPException(404, "no such answer")
    return RedirectResponse(f"/chat#turn-{turn_id}", status_code=303)


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
        html = templates.get_template("chat_answer.html").render(answer=answer, request=request,
                                                                 csrf_token=user.csrf_token)  # fmt: skip
        # The history as it is now the answer is recorded (a plain POST /chat re-renders it with the page).
        recent = templates.get_template("chat_history.html").render(history=history(runtime, user.actor))
        yield _event("done", {"html": html, "history": recent})

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})
