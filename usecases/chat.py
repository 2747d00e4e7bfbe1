"""The chat: a question about the accounts is answered from the account data, any other from the docs.

Offline, `usecases.account_questions.recognise` tells the two apart by the account it names and its cue words.
With an LLM configured, the model is offered the same use cases as tools (OpenAI function calling) and picks one;
it then writes the answer from what the tool returned. What it writes is checked: a link that is not in the tool's
result (the model's own, or one planted in customer text) makes the answer fall back to the tool's own text, so
every account figure and link on screen comes from the data. A model that fails, or answers without calling a
tool, falls back to the offline path, never to an unchecked reply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import prompts
from core.llm import LLMError, ToolCall
from core.runtime import Runtime
from ingest.redact import redact
from retrieval.answer import Answer, keep_links, link_targets, stream_answer, strip_markup
from usecases import account_questions as accounts
from usecases.accounts import account_names
from usecases.answers import ask, no_docs_answer
from usecases.permissions import Actor, Permission, require

ACCOUNT_DATA = "account data"
"""`Answer.mode` of an answer written from the account data by the offline templates."""
ACCOUNT_DATA_LLM = "account data, llm"
"""`Answer.mode` of an answer the LLM wrote from what an account tool returned."""

_DAYS = {"type": "integer", "minimum": 1, "maximum": 3650, "description": "The period in days (default 90)."}
_ACCOUNT = {"type": "string", "description": "The account's name, as the user wrote it."}
TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {
        "name": "account_activity",
        "description": "What one account asked in a period: how many questions, the trend, its top topics, the "
                       "doc gaps it hit and its latest questions, with links.",
        "parameters": {"type": "object", "properties": {"account": _ACCOUNT, "days": _DAYS},
                       "required": ["account"]}}},
    {"type": "function", "function": {
        "name": "call_brief",
        "description": "A brief to prepare a call with one account: owner, ARR, renewal, what it asked, rising "
                       "subjects and suggested actions, with links.",
        "parameters": {"type": "object", "properties": {"account": _ACCOUNT, "days": _DAYS},
                       "required": ["account"]}}},
    {"type": "function", "function": {
        "name": "accounts_asking_about",
        "description": "Which accounts asked about a subject in a period, with their number of questions.",
        "parameters": {"type": "object", "properties": {
            "subject": {"type": "string", "description": "What they asked about, in a few words."}, "days": _DAYS},
            "required": ["subject"]}}},
    {"type": "function", "function": {
        "name": "answer_from_docs",
        "description": "Answer a question about the product from its documentation, with citations.",
        "parameters": {"type": "object", "properties": {"question": {"type": "string"}},
                       "required": ["question"]}}},
]  # fmt: skip


DOCS = "docs"
"""What routing says when the question is for the docs."""


def chat(runtime: Runtime, actor: Actor, question: str, account: str | None = None) -> Answer:
    """The chat's answer: from the account data when the question is about accounts, else from the docs."""
    routed = _route(runtime, actor, question, account)
    return ask(runtime, actor, question, account=account) if routed == DOCS else routed


def stream_chat(
    runtime: Runtime, actor: Actor, question: str, account: str | None = None
) -> tuple[Answer, Iterator[str]]:
    """The chat's answer as it is written: (the `Answer`, complete once the text iterator is drained).

    Only an LLM writes piece by piece (a doc answer streams as the model writes it); an offline answer, one
    written from the account data, or the "no docs indexed yet" answer comes as one piece.
    """
    routed = _route(runtime, actor, question, account)
    if routed == DOCS and runtime.llm is not None and no_docs_answer(runtime, question) is None:
        return stream_answer(runtime, question, account=account, asked_by=actor.user_id)
    answer = ask(runtime, actor, question, account=account) if routed == DOCS else routed
    return answer, iter([answer.answer])


def _route(runtime: Runtime, actor: Actor, question: str, account: str | None) -> Answer | str:
    """An answer from the account data, or `DOCS` when the question is for the docs."""
    require(actor, Permission.ASK)
    if runtime.llm is not None:
        try:
            done = _with_tools(runtime, actor, question, account)
            if done is not None:
                return done
        except LLMError:
            pass
    query = accounts.recognise(runtime, question, account)
    if query is None:
        return DOCS
    require(actor, Permission.READ)
    return _account_answer(question, accounts.answer(runtime, query).text, ACCOUNT_DATA)


def _account_answer(question: str, text: str, mode: str) -> Answer:
    return Answer(question, text, [], 1.0, True, None, None, mode)


def _run(runtime: Runtime, actor: Actor, call: ToolCall, account: str | None) -> str | None:
    """An account tool's result, the account data as Markdown; None for a tool we do not have.

    `answer_from_docs` never gets here: the caller sends it down the cited answer path instead.
    """
    args = call.arguments
    days = args.get("days") if isinstance(args.get("days"), int) else accounts.DEFAULT_DAYS
    days = max(1, min(int(days), 3650))
    require(actor, Permission.READ)
    if call.name == "accounts_asking_about":
        subject = str(args.get("subject") or "").strip()[:200]
        if not subject:
            return "No subject given."
        return accounts.answer(runtime, accounts.AccountQuery("who", days, f"the last {days} days",
                                                              subject=subject)).text  # fmt: skip
    if call.name in ("account_activity", "call_brief"):
        found = accounts.account_named(runtime, str(args.get("account") or account or ""))
        if found is None:
            return "No account by that name. Known accounts: " + ", ".join(account_names(runtime)[:50])
        kind = "prep" if call.name == "call_brief" else "activity"
        return accounts.answer(runtime, accounts.AccountQuery(kind, days, f"the last {days} days", found.id,
                                                              found.name)).text  # fmt: skip
    return None


def _with_tools(runtime: Runtime, actor: Actor, question: str, account: str | None) -> Answer | str | None:
    assert runtime.llm is not None
    asked = redact(question).text
    messages: list[dict[str, Any]] = [
        {"role": m.role, "content": m.content} for m in prompts.messages("chat_tools", question=asked)
    ]
    reply = runtime.llm.use_tools(messages, TOOLS)
    if not reply.calls:
        return None
    call = reply.calls[0]
    if call.name == "answer_from_docs":
        return DOCS
    result = _run(runtime, actor, call, account)
    if result is None:
        return None
    messages.append({"role": "assistant", "content": reply.text or None, "tool_calls": [
        {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": json.dumps(call.arguments)}}
    ]})  # fmt: skip
    messages.append({"role": "tool", "tool_call_id": call.id, "content": f"<data>\n{_as_data(result)}\n</data>"})
    final = runtime.llm.use_tools(messages, TOOLS)
    if final.calls or not final.text or not _grounded(runtime, final.text, result):
        # Another tool call, nothing written, or a link, quote or account the data does not hold: the data as it is.
        return _account_answer(question, result, ACCOUNT_DATA)
    return _account_answer(question, final.text, ACCOUNT_DATA_LLM)


_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def _as_data(text: str) -> str:
    """A tool result as prompt data, as `prompts/_data.j2` does for templates.

    Customer text in it (questions, labels) loses its invisible characters and cannot close the `<data>` fence.
    """
    return _INVISIBLE.sub("", text).replace("</", "<\\/").replace("< /", "<\\/")


_QUOTED = re.compile(r"[“\"«]([^”\"»\n]{4,})[”\"»]")


def _grounded(runtime: Runtime, text: str, data: str) -> bool:
    """Whether what the model wrote stays inside the tool's data.

    Every link (Markdown, autolink or bare URL, once invisible characters are gone) must be one of the data's,
    every quoted question a quote from the data, and every account it names one the data names: another
    account's questions (asked for in the question, or planted in customer text) cannot ride along.
    """
    if keep_links(strip_markup(text), link_targets(data))[1]:
        return False
    flat = " ".join(data.split()).casefold()
    if any(" ".join(q.split()).casefold() not in flat for q in _QUOTED.findall(text)):
        return False
    named = text.casefold()
    mentioned = [n for n in account_names(runtime) if re.search(rf"\b{re.escape(n.casefold())}\b", named)]
    return all(n.casefold() in flat for n in mentioned)
