"""The Chat Completions dialect, `POST /v1/chat/completions`: what every OpenAI-compatible
server speaks. It reads `messages`, `tools` and `max_tokens` / `max_completion_tokens`,
and answers with a `chat.completion` body or a stream of `chat.completion.chunk` events.

Usage comes like OpenAI's: always without streaming; in a stream, only in a last chunk, and
only when `stream_options.include_usage` is true. The reply echoes the request's model.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from .replies import Conversation, Message, Plan, Tool, ToolCall, text_of
from .streaming import DONE, Event

PATH = "/v1/chat/completions"
ID_PREFIX = "chatcmpl-offline"


def conversation(request: dict) -> Conversation:
    messages = [
        Message(
            role=m.get("role", "user"),
            text=text_of(m.get("content")),
            tool_calls=tuple(
                ToolCall(c["id"], c["function"]["name"], c["function"].get("arguments", ""))
                for c in m.get("tool_calls") or []
            ),
            tool_call_id=m.get("tool_call_id"),
        )
        for m in request.get("messages") or []
    ]
    tools = [
        Tool(t["function"]["name"], t["function"].get("parameters") or {})
        for t in request.get("tools") or []
        if t.get("type") == "function"
    ]
    limit = request.get("max_completion_tokens") or request.get("max_tokens")
    return Conversation(messages, tools, limit, request.get("model") or "")


def _usage(plan: Plan) -> dict:
    return {
        "prompt_tokens": plan.input_tokens,
        "completion_tokens": plan.output_tokens,
        "total_tokens": plan.input_tokens + plan.output_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": plan.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _tool_call(call: ToolCall) -> dict:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


def _header(request: dict, completion_id: str, kind: str) -> dict:
    return {
        "id": completion_id,
        "object": kind,
        "created": int(time.time()),
        "model": request.get("model"),
        "system_fingerprint": "fp_offline",
    }


def body(request: dict, plan: Plan, completion_id: str) -> dict:
    """The non-streamed answer."""
    message = {"role": "assistant", "content": plan.text, "refusal": None}
    if plan.tool_call:
        message.update(content=None, tool_calls=[_tool_call(plan.tool_call)])
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": plan.finish}
    return dict(
        _header(request, completion_id, "chat.completion"), choices=[choice], usage=_usage(plan)
    )


def stream(request: dict, plan: Plan, completion_id: str) -> Iterator[Event]:
    """The streamed answer, chunk by chunk, as OpenAI sends it."""
    base = _header(request, completion_id, "chat.completion.chunk")

    def chunk(delta: dict, finish: str | None = None, token: int | None = None) -> Event:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return Event(dict(base, choices=[choice]), token=token)

    yield chunk({"role": "assistant", "content": "" if not plan.tool_call else None})
    for n, token in enumerate(plan.tokens):
        yield chunk({"content": token}, token=n)
    if plan.tool_call:
        yield chunk({"tool_calls": [dict(_tool_call(plan.tool_call), index=0)]})
    yield chunk({}, plan.finish)
    if (request.get("stream_options") or {}).get("include_usage"):
        yield Event(dict(base, choices=[], usage=_usage(plan)))
    yield DONE
