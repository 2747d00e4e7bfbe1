"""The LLM client: any OpenAI-compatible endpoint through the `openai` SDK (OpenAI, Azure, vLLM, Ollama).

Only this module imports `openai`. Callers hand over rendered messages from `prompts/` and get text back,
whole or streamed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


class LLMError(RuntimeError):
    """The endpoint failed or answered with nothing usable; callers fall back to the offline writer."""


@dataclass
class Message:
    role: str
    content: str


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ToolReply:
    """What the model did with the tools it was offered: called some, or answered in text."""

    text: str
    calls: list[ToolCall]


class LLMClient:
    def __init__(self, base_url: str, api_key: str, model: str, timeout: float = 60.0) -> None:
        from openai import OpenAI

        self.model = model
        # Local servers (vLLM, Ollama) ignore the key, but the SDK refuses to start without one.
        self._client = OpenAI(base_url=base_url, api_key=api_key or "unused", timeout=timeout, max_retries=2)

    def chat(self, messages: list[Message], temperature: float = 0.1) -> str:
        try:
            res = self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": m.role, "content": m.content} for m in messages],  # type: ignore[misc]
                temperature=temperature,
            )
        except Exception as exc:
            raise LLMError(f"LLM call failed: {exc}") from exc
        text = (res.choices[0].message.content or "").strip() if res.choices else ""
        if not text:
            raise LLMError("LLM returned an empty answer")
        return text

    def use_tools(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> ToolReply:
        """One turn with `tools` offered (OpenAI function calling).

        `messages` are protocol dicts, so a caller can hand back the model's tool calls and their results
        (`role: tool`) for the next turn.
        """
        try:
            res = self._client.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                tools=tools,  # type: ignore[arg-type]
                temperature=0.0,
            )
        except Exception as exc:
            raise LLMError(f"LLM call failed: {exc}") from exc
        if not res.choices:
            raise LLMError("LLM returned no choice")
        message = res.choices[0].message
        calls = []
        for call in message.tool_calls or []:
            function = getattr(call, "function", None)
            if function is None:
                continue
            try:
                arguments = json.loads(function.arguments or "{}")
            except json.JSONDecodeError as exc:
                raise LLMError(f"LLM called {function.name} with arguments that are not JSON") from exc
            calls.append(ToolCall(call.id, function.name, arguments if isinstance(arguments, dict) else {}))
        return ToolReply((message.content or "").strip(), calls)

    def stream(self, messages: list[Message], temperature: float = 0.1) -> Iterator[str]:
        try:
            events = self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": m.role, "content": m.content} for m in messages],  # type: ignore[misc]
                temperature=temperature,
                stream=True,
            )
            for event in events:
                if event.choices and event.choices[0].delta.content:
                    yield event.choices[0].delta.content
        except Exception as exc:
            raise LLMError(f"LLM stream failed: {exc}") from exc
