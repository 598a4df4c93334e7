"""The Responses dialect, `POST /v1/responses`: OpenAI's newer API, which ChatOpenAI uses for
some models and settings (a gpt-6 model with tools, gpt-5.6-sol, use_responses_api=True).

It reads `input` (a string, or a list of message, function_call and function_call_output
items), `instructions`, function `tools` and `max_output_tokens`, and answers with a
`response` object, or a stream of `response.*` events, each with its `sequence_number`.
A reasoning model's output starts with a `reasoning` item. An answer cut at
max_output_tokens ends with status "incomplete". Shapes follow the openai SDK's types
(openai.types.responses), which tests/test_offline_responses.py validates against.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from .replies import Conversation, Message, Plan, Tool, ToolCall, text_of, tokenize
from .streaming import Event

PATH = "/v1/responses"
ID_PREFIX = "resp_offline"


def conversation(request: dict) -> Conversation:
    items = request.get("input") or []
    if isinstance(items, str):
        items = [{"type": "message", "role": "user", "content": items}]
    messages = []
    if request.get("instructions"):
        messages.append(Message("system", request["instructions"]))
    for item in items:
        kind = item.get("type", "message")
        if kind == "message":
            role = {"developer": "system"}.get(item.get("role"), item.get("role", "user"))
            messages.append(Message(role, text_of(item.get("content"))))
        elif kind == "function_call":
            call = ToolCall(item["call_id"], item["name"], item.get("arguments", ""))
            last = messages[-1] if messages else None
            if last is not None and last.role == "assistant":  # one turn, as in Chat Completions
                messages[-1] = Message("assistant", last.text, (*last.tool_calls, call))
            else:
                messages.append(Message("assistant", tool_calls=(call,)))
        elif kind == "function_call_output":
            messages.append(
                Message("tool", text_of(item.get("output")), tool_call_id=item["call_id"])
            )
        # reasoning items a client sends back cost nothing here
    tools = [
        Tool(t["name"], t.get("parameters") or {})
        for t in request.get("tools") or []
        if t.get("type") == "function"
    ]
    return Conversation(
        messages, tools, request.get("max_output_tokens"), request.get("model") or ""
    )


def _usage(plan: Plan) -> dict:
    return {
        "input_tokens": plan.input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": plan.output_tokens,
        "output_tokens_details": {"reasoning_tokens": plan.reasoning_tokens},
        "total_tokens": plan.input_tokens + plan.output_tokens,
    }


def _ids(response_id: str) -> dict:
    number = response_id.removeprefix(ID_PREFIX)
    return {kind: f"{kind}_offline{number}" for kind in ("rs", "msg", "fc")}


def _reasoning(ids: dict) -> dict:
    return {"id": ids["rs"], "type": "reasoning", "summary": []}


def _message(ids: dict, text: str, status: str) -> dict:
    content = [] if status == "in_progress" else [_outputtext_of(text)]
    return {
        "id": ids["msg"],
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": content,
    }


def _outputtext_of(text: str) -> dict:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _function_call(ids: dict, call: ToolCall, arguments: str, status: str) -> dict:
    return {
        "id": ids["fc"],
        "type": "function_call",
        "status": status,
        "call_id": call.id,
        "name": call.name,
        "arguments": arguments,
    }


def _status(plan: Plan) -> str:
    return "incomplete" if plan.finish == "length" else "completed"


def _output(plan: Plan, ids: dict) -> list[dict]:
    """The finished output items: reasoning first for a reasoning model, then the answer."""
    items = [_reasoning(ids)] if plan.reasoning_tokens else []
    if plan.tool_call:
        items.append(_function_call(ids, plan.tool_call, plan.tool_call.arguments, "completed"))
    else:
        items.append(_message(ids, plan.text, _status(plan)))
    return items


def _response(request: dict, response_id: str, created: int, **fields) -> dict:
    response = {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "completed_at": None,  # only a completed response has it
        "status": "in_progress",
        "model": request.get("model"),
        "output": [],
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": request.get("tools") or [],
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "reasoning": request.get("reasoning") or {"effort": None, "summary": None},
        "text": {"format": {"type": "text"}},
        "truncation": "disabled",
        "metadata": {},
        "usage": None,
        "error": None,
        "incomplete_details": None,
    }
    return response | fields


def _finished(request: dict, plan: Plan, response_id: str, created: int) -> dict:
    status = _status(plan)
    return _response(
        request,
        response_id,
        created,
        status=status,
        completed_at=int(time.time()) if status == "completed" else None,
        output=_output(plan, _ids(response_id)),
        usage=_usage(plan),
        incomplete_details={"reason": "max_output_tokens"} if status == "incomplete" else None,
    )


def body(request: dict, plan: Plan, response_id: str) -> dict:
    """The non-streamed answer."""
    return _finished(request, plan, response_id, int(time.time()))


def stream(request: dict, plan: Plan, response_id: str) -> Iterator[Event]:
    """The streamed answer, event by event, in the order OpenAI sends them."""
    created = int(time.time())
    ids = _ids(response_id)
    numbers = iter(range(1_000_000))

    def event(kind: str, token: int | None = None, **fields) -> Event:
        return Event({"type": kind, "sequence_number": next(numbers), **fields}, kind, token)

    started = _response(request, response_id, created)
    yield event("response.created", response=started)
    yield event("response.in_progress", response=started)
    index = 0
    if plan.reasoning_tokens:
        yield event("response.output_item.added", output_index=index, item=_reasoning(ids))
        yield event("response.output_item.done", output_index=index, item=_reasoning(ids))
        index += 1
    at = {"item_id": None, "output_index": index}
    if call := plan.tool_call:
        at["item_id"] = ids["fc"]
        item = _function_call(ids, call, "", "in_progress")
        yield event("response.output_item.added", output_index=index, item=item)
        for piece in tokenize(call.arguments):  # in small pieces, as OpenAI streams them
            yield event("response.function_call_arguments.delta", **at, delta=piece)
        yield event("response.function_call_arguments.done", **at, arguments=call.arguments)
        done = _function_call(ids, call, call.arguments, "completed")
        yield event("response.output_item.done", output_index=index, item=done)
    else:
        at = {"item_id": ids["msg"], "output_index": index, "content_index": 0}
        item = _message(ids, "", "in_progress")
        yield event("response.output_item.added", output_index=index, item=item)
        yield event("response.content_part.added", **at, part=_outputtext_of(""))
        for n, token in enumerate(plan.tokens):
            yield event("response.output_text.delta", n, **at, delta=token, logprobs=[])
        yield event("response.output_text.done", **at, text=plan.text, logprobs=[])
        yield event("response.content_part.done", **at, part=_outputtext_of(plan.text))
        done = _message(ids, plan.text, _status(plan))
        yield event("response.output_item.done", output_index=index, item=done)
    finished = _finished(request, plan, response_id, created)
    yield event(f"response.{finished['status']}", response=finished)
