"""Asking the docs: the answers API and the chat's doc questions, for whoever may ask (`Permission.ASK`).

What a person asks in the chat is kept as theirs (`ChatTurn.user_id`): their history on the chat page, and their
thumbs up or down, which count in the gap score of the answer's topic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from core.models import ChatTurn
from core.runtime import Runtime
from retrieval.answer import Answer, answer_question, record_feedback
from usecases.permissions import Actor, Permission, PermissionDenied, require

HISTORY = 10


def ask(runtime: Runtime, actor: Actor, question: str, account: str | None = None, top_k: int = 5) -> Answer:
    require(actor, Permission.ASK)
    return answer_question(runtime, question, account=account, top_k=top_k, asked_by=actor.user_id)


def rate_answer(runtime: Runtime, actor: Actor, turn_id: int, helpful: bool) -> bool:
    """A thumbs-up or down on an answer; False when there is no such answer.

    A person rates their own chat answers only (API keys rate the answers the API gave, which have no person).
    """
    require(actor, Permission.ASK)
    with Session(runtime.engine) as session:
        turn = session.get(ChatTurn, turn_id)
        if turn is None:
            return False
        if actor.kind == "user" and turn.user_id != actor.user_id:
            raise PermissionDenied(f"{actor.name} may only rate their own answers")
    return record_feedback(runtime, turn_id, helpful)


@dataclass(frozen=True)
class PastTurn:
    id: int
    asked_at: datetime
    question: str
    covered: bool
    feedback: int | None


def history(runtime: Runtime, actor: Actor, limit: int = HISTORY) -> list[PastTurn]:
    """The person's latest doc questions in the chat, newest first (nobody else's)."""
    require(actor, Permission.ASK)
    if actor.user_id is None:
        return []
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(ChatTurn)
            .where(ChatTurn.user_id == actor.user_id)
            .order_by(col(ChatTurn.asked_at).desc(), col(ChatTurn.id).desc())
            .limit(limit)
        ).all()
    return [PastTurn(t.id or 0, t.asked_at, t.question, t.covered, t.feedback) for t in rows]
