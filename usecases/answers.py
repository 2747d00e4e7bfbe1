"""Asking the docs: the answers API and the chat's doc questions, for whoever may ask (`Permission.ASK`)."""

from __future__ import annotations

from core.runtime import Runtime
from retrieval.answer import Answer, answer_question, record_feedback
from usecases.permissions import Actor, Permission, require


def ask(runtime: Runtime, actor: Actor, question: str, account: str | None = None, top_k: int = 5) -> Answer:
    require(actor, Permission.ASK)
    return answer_question(runtime, question, account=account, top_k=top_k)


def rate_answer(runtime: Runtime, actor: Actor, turn_id: int, helpful: bool) -> bool:
    """A thumbs-up or down on an answer; False when there is no such answer."""
    require(actor, Permission.ASK)
    return record_feedback(runtime, turn_id, helpful)

