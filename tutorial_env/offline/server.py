"""An offline, OpenAI-compatible Chat Completions server. Support code, not a lesson.

tutorial_env starts it when no real key is configured, so every lesson still runs the
real ChatOpenAI -> openai SDK -> HTTP -> SSE path. Replies are deterministic:

    "What is 1 + 2?"                 -> "1 + 2 = 3."
    "Tell me a joke about {animal}"  -> a joke about that animal
    anything else                    -> a short reply that quotes the question
    tools offered + a question that needs one -> a tool call; after the tool message, text

It honours max_tokens / max_completion_tokens (finish_reason "length"), echoes the model
and reports usage like OpenAI: always without streaming, in a last chunk only when
stream_options.include_usage is true. A model named "no-such-model" gets OpenAI's 404, or
with unknown_model_status=400 DeepSeek's 400 "Model Not Exist".

TUTORIAL_OFFLINE_FAULT injects a fault on every request: 401, 404, 429, 500, timeout
(never answers), disconnect (hangs up; mid-stream when streaming), stall (a stream goes
silent after two tokens; without streaming, like timeout), malformed (a broken JSON body or
SSE chunk), or 429-once (only the first request is rate-limited, so the SDK's retry
succeeds). TUTORIAL_TOKEN_DELAY sets the pause between streamed tokens (seconds).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_TOKEN_DELAY = 0.03
FAULTS = ("401", "404", "429", "429-once", "500", "timeout", "disconnect", "stall", "malformed")
UNKNOWN_MODEL = "no-such-model"

_TOKEN = re.compile(r"\s*(?:[A-Za-z0-9_'.]*[A-Za-z0-9_']|\S)")
_ARITHMETIC = re.compile(r"(-?\d+(?:\.\d+)?)\s*([-+*/×÷])\s*(-?\d+(?:\.\d+)?)")
_JOKE_SUBJECT = re.compile(r"joke about (?:an? |the )?([^?.!,\n]+)", re.IGNORECASE)
_TOOL_WORDS = {
    "+": ("add", "sum", "plus"),
    "-": ("subtract", "minus", "difference"),
    "*": ("multiply", "times", "product"),
    "×": ("multiply", "times", "product"),
    "/": ("divide", "quotient"),
    "÷": ("divide", "quotient"),
}


def tokenize(text: str) -> list[str]:
    """Split text into word-ish tokens that keep their leading space, so "".join() is lossless."""
    tokens = _TOKEN.findall(text)
    rest = len(text) - sum(map(len, tokens))
    return tokens + ([text[-rest:]] if rest else [])


def _text(content) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _calculate(a: str, op: str, b: str) -> str:
    x, y = float(a), float(b)
    if op in "/÷":
        return "undefined" if y == 0 else _number(x / y)
    return _number({"+": x + y, "-": x - y, "*": x * y, "×": x * y}[op])


def text_reply(question: str) -> str:
    """The deterministic answer to a user message."""
    if match := _ARITHMETIC.search(question):
        a, op, b = match.groups()
        return f"{a} {op} {b} = {_calculate(a, op, b)}."
    if "joke" in question.lower():
        subject = _JOKE_SUBJECT.search(question)
        if subject:
            return (
                f"Why did the {subject.group(1).strip()} sit on the computer? "
                "To keep an eye on the mouse!"
            )
        return "Why do programmers prefer dark mode? Because light attracts bugs!"
    quoted = question.strip().replace("\n", " ")
    if len(quoted) > 60:
        quoted = quoted[:57] + "..."
    return f'I am the offline tutorial model. You said: "{quoted}"'


def _choose_tool(question: str, tools: list[dict]) -> tuple[dict, dict] | None:
    """Pick the offered tool the question needs, with JSON arguments for it, or None."""
    functions = [t["function"] for t in tools if t.get("type") == "function"]
    match = _ARITHMETIC.search(question)
    words = _TOOL_WORDS.get(match.group(2), ()) if match else ()
    lowered = question.lower()
    for function in functions:
        name = function["name"].lower()
        if any(w in name for w in words) or any(
            len(part) > 3 and part in lowered for part in name.split("_")
        ):
            break
    else:
        return None
    numbers = iter(match.groups()[::2] if match else re.findall(r"-?\d+(?:\.\d+)?", question))
    properties = function.get("parameters", {}).get("properties", {})
    arguments = {}
    for key, schema in properties.items():
        kind = schema.get("type")
        if kind in ("integer", "number"):
            value = float(next(numbers, 0))
            arguments[key] = int(value) if kind == "integer" or value.is_integer() else value
        elif kind == "string":
            arguments[key] = question.strip().rstrip("?")
    return function, arguments


def _tool_answer(messages: list[dict]) -> str:
    calls = {
        call["id"]: call["function"]["name"]
        for m in messages
        if m.get("role") == "assistant"
        for call in m.get("tool_calls") or []
    }
    results = [m for m in messages if m.get("role") == "tool"]
    last = results[-1]
    name = calls.get(last.get("tool_call_id"), "tool")
    result = _text(last.get("content")).strip()
    return f"The {name} tool returned {result}, so the answer is {result}."


def prompt_tokens(messages: list[dict]) -> int:
    """3 tokens of framing per message plus its text, plus 3 to prime the reply, as OpenAI."""
    return 3 + sum(3 + len(tokenize(_text(m.get("content")))) for m in messages)


def plan_reply(request: dict) -> dict:
    """Decide the whole reply: text tokens or a tool call, finish_reason and usage."""
    messages = request.get("messages") or []
    last = messages[-1] if messages else {}
    question = next(
        (_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
    )
    tool = None
    if request.get("tools") and last.get("role") == "user":
        tool = _choose_tool(question, request["tools"])
    if tool:
        function, arguments = tool
        call = {
            "id": f"call_{len(messages)}_{function['name']}",
            "type": "function",
            "function": {"name": function["name"], "arguments": json.dumps(arguments)},
        }
        completion = len(tokenize(function["name"] + " " + call["function"]["arguments"]))
        return {
            "tokens": [],
            "tool_call": call,
            "finish_reason": "tool_calls",
            "usage": _usage(messages, completion),
        }

    text = _tool_answer(messages) if last.get("role") == "tool" else text_reply(question)
    tokens = tokenize(text)
    limit = request.get("max_completion_tokens") or request.get("max_tokens")
    finish = "stop"
    if limit and len(tokens) > limit:
        tokens, finish = tokens[:limit], "length"
    return {
        "tokens": tokens,
        "tool_call": None,
        "finish_reason": finish,
        "usage": _usage(messages, len(tokens)),
    }


def _usage(messages: list[dict], completion: int) -> dict:
    prompt = prompt_tokens(messages)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _error(status: int, message: str, kind: str, code: str | None = None) -> tuple[int, dict]:
    return status, {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _fault_error(
    fault: str, request: dict, key: str, unknown_model_status: int
) -> tuple[int, dict] | None:
    if fault == "401":  # OpenAI echoes the start and end of the key it rejected; so do we
        return _error(
            401,
            f"Incorrect API key provided: {key[:8]}{'*' * 20}{key[-4:]}. You can find your "
            "API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        )
    if request.get("model") == UNKNOWN_MODEL and unknown_model_status == 400:  # as DeepSeek
        return _error(400, "Model Not Exist", "invalid_request_error", "invalid_request_error")
    if fault == "404" or request.get("model") == UNKNOWN_MODEL:
        return _error(
            404,
            f"The model `{request.get('model')}` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        )
    if fault == "429":
        return _error(
            429,
            "Rate limit reached for requests (offline fault injection).",
            "requests",
            "rate_limit_exceeded",
        )
    if fault == "500":
        return _error(
            500,
            "The server had an error while processing your request (offline fault injection).",
            "server_error",
        )
    return None


class FakeOpenAIServer(ThreadingHTTPServer):
    """Chat Completions on 127.0.0.1. Use start() for a background thread, or serve_forever()."""

    daemon_threads = True

    def __init__(
        self,
        port: int = 0,
        *,
        token_delay: float | None = None,
        fault: str | None = None,
        unknown_model_status: int = 404,
        reply_delay: float = 0,
    ):
        super().__init__(("127.0.0.1", port), _Handler)
        if token_delay is None:
            setting = os.environ.get("TUTORIAL_TOKEN_DELAY", str(DEFAULT_TOKEN_DELAY))
            try:
                token_delay = float(setting)
            except ValueError:
                token_delay = -1.0
            if token_delay < 0:
                raise ValueError(f"TUTORIAL_TOKEN_DELAY={setting!r} must be a number of seconds")
        self.token_delay = token_delay
        self.fault = fault if fault is not None else os.environ.get("TUTORIAL_OFFLINE_FAULT", "")
        if self.fault and self.fault not in FAULTS:
            raise ValueError(f"TUTORIAL_OFFLINE_FAULT must be one of {', '.join(FAULTS)}")
        self.unknown_model_status = unknown_model_status
        self.reply_delay = reply_delay  # extra seconds before each reply, so calls overlap
        self.stopping = threading.Event()
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self.request_count = 0  # chat requests received, retries included
        self.in_flight = 0
        self.peak_in_flight = 0  # the most chat requests being answered at one time

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def start(self) -> FakeOpenAIServer:
        threading.Thread(target=self.serve_forever, name="fake-openai", daemon=True).start()
        return self

    def __enter__(self) -> FakeOpenAIServer:
        """`with FakeOpenAIServer(...) as server:` serves in the background until the block ends."""
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up (the lesson exits, a timeout) is normal here, not a traceback."""
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            print(f"[fake-openai] request failed: {error!r}", file=sys.stderr)

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: don't delay
    server: FakeOpenAIServer

    def log_message(self, format, *args):  # keep the lesson output clean
        pass

    def do_GET(self):
        if self.path.rstrip("/") == "/v1/models":
            model = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
            return self._json(
                200,
                {
                    "object": "list",
                    "data": [{"id": model, "object": "model", "created": 0, "owned_by": "offline"}],
                },
            )
        self._json(*_error(404, f"Invalid URL (GET {self.path})", "invalid_request_error"))

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._json(
                *_error(404, f"Invalid URL (POST {self.path})", "invalid_request_error")
            )
        try:
            request = json.loads(body)
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except ValueError:
            return self._json(
                *_error(
                    400,
                    "We could not parse the JSON body of your request.",
                    "invalid_request_error",
                )
            )
        with self.server.lock:
            self.server.request_count += 1
            attempt = self.server.request_count
            self.server.in_flight += 1
            self.server.peak_in_flight = max(self.server.peak_in_flight, self.server.in_flight)
        try:
            self._answer(request, attempt)
        finally:
            with self.server.lock:
                self.server.in_flight -= 1

    def _answer(self, request: dict, attempt: int) -> None:
        fault = self.server.fault
        if fault == "429-once":
            fault = "429" if attempt == 1 else ""
        if fault == "timeout" or (fault == "stall" and not request.get("stream")):
            return self._go_silent()
        if fault == "disconnect" and not request.get("stream"):
            self.close_connection = True
            return
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if failure := _fault_error(fault, request, key, self.server.unknown_model_status):
            return self._json(*failure)
        if fault == "malformed" and not request.get("stream"):
            return self._json(200, '{"id": "chatcmpl-broken", "choices": [')

        time.sleep(self.server.reply_delay)
        reply = plan_reply(request)
        completion_id = f"chatcmpl-offline{next(self.server.ids)}"
        if request.get("stream"):
            self._stream(request, reply, completion_id)
        else:
            self._json(200, _completion(request, reply, completion_id))

    def _go_silent(self) -> None:
        """Send nothing more until the server stops (or 120 s pass), then hang up."""
        self.server.stopping.wait(120)
        self.close_connection = True

    def _json(self, status: int, payload: dict | str) -> None:
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, request: dict, reply: dict, completion_id: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        base = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": request.get("model"),
            "system_fingerprint": "fp_offline",
        }

        def send(delta: dict, finish: str | None = None) -> None:
            self._chunk(
                dict(
                    base,
                    choices=[
                        {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                    ],
                )
            )

        send({"role": "assistant", "content": "" if not reply["tool_call"] else None})
        for n, token in enumerate(reply["tokens"]):
            if self.server.fault == "disconnect" and n == 2:
                self.close_connection = True
                return
            if self.server.fault == "stall" and n == 2:
                return self._go_silent()
            if self.server.fault == "malformed" and n == 2:
                self._write(b'data: {"id": "chatcmpl-broken", "choices": [\n\n')
            time.sleep(self.server.token_delay)
            send({"content": token})
        if call := reply["tool_call"]:
            send({"tool_calls": [dict(call, index=0)]})
        send({}, reply["finish_reason"])
        if (request.get("stream_options") or {}).get("include_usage"):
            self._chunk(dict(base, choices=[], usage=reply["usage"]))
        self._write(b"data: [DONE]\n\n")
        self._write(b"")

    def _chunk(self, payload: dict) -> None:
        self._write(f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode())

    def _write(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def _completion(request: dict, reply: dict, completion_id: str) -> dict:
    message = {"role": "assistant", "content": "".join(reply["tokens"]), "refusal": None}
    if reply["tool_call"]:
        message.update(content=None, tool_calls=[reply["tool_call"]])
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model"),
        "system_fingerprint": "fp_offline",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": reply["finish_reason"],
            }
        ],
        "usage": reply["usage"],
    }
