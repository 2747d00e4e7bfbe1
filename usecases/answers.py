"""Asking: the chat and the answers API, for whoever may ask (`Permission.ASK`).

The chat takes two kinds of question. One about the accounts ("what has Brightline asked this month") is answered
from the account data (`usecases.account_questions`); any other is answered from the docs, with citations.
"""

from __future__ import annotations

from core.runtime import Runtime
from retrieval.answer import Answer, answer_question, record_feedback
from usecases.account_questions import answer as answer_about_accounts
from usecases.account_questions import recognise
from usecases.permissions import Actor, Permission, require


def ask(runtime: Runtime, actor: Actor, question: str, account: str | None = None, top_k: int = 5) -> Answer:
    require(actor, Permission.ASK)
    return answer_question(runtime, question, account=account, top_k=top_k)


def rate_answer(runtime: Runtime, actor: Actor, turn_id: int, helpful: bool) -> bool:
    """A thumbs-up or down on an answer; False when there is no such answer."""
    require(actor, Permission.ASK)
    return record_feedback(runtime, turn_id, helpful)


ACCOUNT_DATA = "account data"
"""`Answer.mode` of an answer written from the account data (offline, by template)."""


def chat(runtime: Runtime, actor: Actor, question: str, account: str | None = None) -> Answer:
    """The chat's answer: from the account data when the question is about accounts, else from the docs."""
    require(actor, Permission.ASK)
    query = recognise(runtime, question, account)
    if query is None:
        return ask(runtime, actor, question, account=account)
    require(actor, Permission.READ)
    found = answer_about_accounts(runtime, query)
    return Answer(question, found.text, [], 1.0, True, None, None, ACCOUNT_DATA)
