"""A real HTTP server that speaks the OpenAI chat-completions protocol (plain JSON and SSE streaming).

It stands at the network edge where OpenAI, vLLM or Ollama would be. Its "model" is simple and deterministic:
it answers from the first numbered passage in the prompt, cites it as [1], and also cites a passage number that
does not exist, so tests can check that invented citations are dropped; asked for a topic title, it makes a
question from the first keyword; offered tools, it calls one chosen by the question's wording and then writes
from the tool's result. Requests are recorded for inspection.

To play a model that obeys instructions planted in its input (the injection tests), set `obey` to a function
of the request's messages that returns the reply, and `force_tool` to the tool it should call first.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeOpenAI:
    def __init__(self, reply: str | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.reply = reply
        self.tool_reply: str | None = None
        self.tool_calls = 0
        self.obey: Callable[[list[dict[str, Any]]], str] | None = None
        """When set, the reply to every plain (non-tool) request: a scripted model doing what its input says."""
        self.force_tool: str | None = None
        """When set, the tool the model calls first whatever the question says (arguments: the question)."""
        self.force_args: dict[str, Any] = {}
        """Arguments for `force_tool` that replace the question-derived ones."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                if not self.path.endswith("/chat/completions"):
                    self.send_error(404)
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append(
                    {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                )
                if body.get("tools"):
                    content, calls = owner.use_tools(body["messages"])
                    self._json(body["model"], content, calls)
                    return
                text = owner.answer(body["messages"])
                if body.get("stream"):
                    self._stream(body["model"], text)
                else:
                    self._json(body["model"], text)

            def _json(self, model: str, text: str | None, calls: list[dict[str, Any]] | None = None) -> None:
                message: dict[str, Any] = {"role": "assistant", "content": text}
                if calls:
                    message["tool_calls"] = calls
                payload = json.dumps(
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [
                            {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, model: str, text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for piece in re.findall(r"\S+\s*", text):
                    chunk = {
                        "id": "chatcmpl-test",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def answer(self, messages: list[dict[str, str]]) -> str:
        if self.obey is not None:
            return self.obey(messages)
        if self.reply is not None:
            return self.reply
        user = messages[-1]["content"]
        if "name recurring customer-question topics" in messages[0]["content"]:
            keywords = re.search(r"^Keywords: ([^,\n]+)", user, re.M)
            return f"How do I sort out {keywords.group(1) if keywords else 'this'}?"
        m = re.search(r"^\[1\] (.+?)(?: —| \()", user, re.M)
        subject = m.group(1) if m else "the documentation"
        return f"The page “{subject}” explains this [1]. It also says something else [9]."

    def use_tools(self, messages: list[dict[str, Any]]) -> tuple[str | None, list[dict[str, Any]]]:
        """A turn with tools: pick one from the question's wording; after a tool result, write from the data.

        `tool_reply`, when set, replaces what is written after a tool result (to script a disobedient model).
        """
        last = messages[-1]
        if last["role"] == "tool":
            if self.tool_reply is not None:
                return self.tool_reply, []
            data = re.sub(r"</?data>", "", last["content"]).strip()
            return f"Here is what the account data shows.\n\n{data}", []
        question = re.sub(r"</?question>", "", last["content"]).strip()
        about = re.search(r"\babout (.+?)\??$", question, re.I)
        if self.force_tool is not None:
            self.tool_calls += 1
            args = {"question": question, "account": question, "subject": question, **self.force_args}
            return None, [{"id": f"call_{self.tool_calls}", "type": "function",
                           "function": {"name": self.force_tool, "arguments": json.dumps(args)}}]  # fmt: skip
        named = re.search(r"(?:with|has|is|from|did) ((?:[A-Z][\w&'-]+ ?)+)", question)
        if re.search(r"\b(which|what) accounts\b|\bwho (else )?asked\b", question, re.I) and about:
            name, args = "accounts_asking_about", {"subject": about.group(1)}
        elif re.search(r"\b(prepare|call with)\b", question, re.I) and named:
            name, args = "call_brief", {"account": named.group(1).strip()}
        elif re.search(r"\bask(ed|ing)?\b", question, re.I) and named:
            name, args = "account_activity", {"account": named.group(1).strip()}
        else:
            name, args = "answer_from_docs", {"question": question}
        self.tool_calls += 1
        call = {"id": f"call_{self.tool_calls}", "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)}}  # fmt: skip
        return None, [call]

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
