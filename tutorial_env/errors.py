"""The one-line messages for failures a reader can cause or meet: explain() turns an error
from the provider, the network or the SDK into an exit status and one short line, and mask()
keeps the API key out of every line printed. load() installs explain_and_exit as the lesson's
excepthook.
"""

from __future__ import annotations

import json
import os
import re
import sys
import traceback
from urllib.parse import urlsplit

# What a lesson prints when a real model answers without the tool it offered.
SKIPPED_TOOL = (
    "[note] the model answered without calling the tool, so no tool events fired; lessons 1, 2, "
    '9, 12 and 13 need a model that calls tools (see "Use a real key or another provider")'
)
_KEY_SHAPE = re.compile(r"\bsk-[A-Za-z0-9_*\-]{8,}")


def mask(text: str) -> str:
    """Hide the API key, and anything shaped like one, as sk-...WXYZ."""
    key = os.environ.get("OPENAI_API_KEY", "")
    if len(key) >= 8:
        text = text.replace(key, f"{key[:3]}...{key[-4:]}")
    return _KEY_SHAPE.sub(lambda m: f"{m[0][:3]}...{m[0][-4:]}", text)


def explain(error: BaseException) -> tuple[int, str] | None:
    """(exit status, one short message) for errors a reader can hit, else None."""
    import openai

    if isinstance(error, KeyboardInterrupt):
        return 130, "Interrupted."
    request = getattr(error, "request", None)
    url = str(request.url) if request is not None else _base_url()
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        if status == 401:
            key = os.environ.get("OPENAI_API_KEY", "")
            return 1, (
                f"HTTP 401 from {url}: the provider rejected OPENAI_API_KEY ({mask(key)}). "
                "Check the key in .env, or remove it to run offline."
            )
        if status == 404 and _no_responses_api(url, error):
            return 1, (
                f"HTTP 404 from {url}: this server has no Responses API (/v1/responses). "
                f"ChatOpenAI uses it for {_model(request)!r} {_why_responses(request)}. Set "
                "OPENAI_MODEL to the provider's own model name, or pass use_responses_api=False "
                "to ChatOpenAI."
            )
        if status == 404 or (status == 400 and _says_no_such_model(error.message)):
            return 1, (
                f"HTTP {status} from {url}: no model named {_model(request)!r} there. Check "
                "OPENAI_MODEL, and that OPENAI_BASE_URL is the provider's OpenAI-compatible "
                "address (for a local server it usually ends in /v1)."
            )
        if status in (400, 413) and _says_too_long(error):
            return 1, (
                f"HTTP {status} from {url}: the conversation is longer than the model's context "
                "window. Shorten it (fewer or shorter messages), or use a model with a longer "
                "context."
            )
        if status == 429:
            return 1, (
                f"HTTP 429 from {url}: rate limit or quota exceeded, still after the SDK's "
                "retries. Wait a minute, or check the plan behind OPENAI_API_KEY."
            )
        if status >= 500:
            return 1, (
                f"HTTP {status} from {url}: the provider failed, still after the SDK's retries. "
                "Try again later, or check OPENAI_BASE_URL."
            )
        return 1, (
            f"HTTP {status} from {url}: {mask(str(error.message))[:200]} "
            "Check OPENAI_MODEL and OPENAI_BASE_URL."
        )
    if isinstance(error, openai.APITimeoutError):
        return 1, (
            f"No answer from {url} in time (timeout), still after the SDK's retries. Is the "
            "server overloaded or asleep? Check OPENAI_BASE_URL, or allow longer with "
            "TUTORIAL_TIMEOUT (seconds per attempt)."
        )
    if type(error).__name__ == "StreamChunkTimeoutError":  # langchain-openai, async streams
        return 1, (
            f"The server at {url} went silent in the middle of a streamed answer: no chunk "
            f"for {error.timeout_s:g} s (ChatOpenAI's stream_chunk_timeout). Try again; if it "
            "keeps happening, check the server behind OPENAI_BASE_URL."
        )
    if isinstance(error, openai.APIConnectionError):
        cause = _causes(error)
        if "incomplete" in cause or "without sending complete" in cause:
            return 1, (
                f"The connection to {url} dropped in the middle of the answer. Try again; "
                "if it keeps happening, check the server behind OPENAI_BASE_URL."
            )
        if "disconnected without sending a response" in cause:
            return 1, (
                f"The connection to {url} dropped before any answer came back (the server "
                "hung up), still after the SDK's retries. Try again; if it keeps happening, "
                "check the server behind OPENAI_BASE_URL."
            )
        return 1, (
            f"Could not connect to {url} ({_reason(cause)}). Is the server running? "
            "Check OPENAI_BASE_URL."
        )
    if isinstance(error, ValueError) and _raised_in_openai_sdk(error):
        return 1, (
            f"The server at {_base_url()} sent a reply that is not valid JSON (a malformed "
            "response or stream chunk). Check that OPENAI_BASE_URL is an OpenAI-compatible API."
        )
    return None


# How OpenAI, vLLM, llama.cpp and Ollama word a request longer than the context window.
_TOO_LONG = re.compile(
    r"context_length_exceeded|maximum context length|context window|context length|"
    r"exceeds the available context size|prompt is too long|input is too long",
    re.IGNORECASE,
)


def _says_too_long(error) -> bool:
    body = error.body if isinstance(error.body, dict) else {}
    return bool(_TOO_LONG.search(f"{error.message} {body.get('code', '')}"))


def _says_no_such_model(message: str) -> bool:
    """DeepSeek, for one, answers an unknown model with HTTP 400 "Model Not Exist"."""
    message = message.lower()
    return "model" in message and ("not exist" in message or "not found" in message)


def _no_responses_api(url: str, error) -> bool:
    """A 404 for the Responses API's address that is not OpenAI's "no such model": many
    OpenAI-compatible servers serve Chat Completions only."""
    if not urlsplit(url).path.rstrip("/").endswith("/responses"):
        return False
    return error.code != "model_not_found" and not _says_no_such_model(str(error.message))


def _why_responses(request) -> str:
    """Why ChatOpenAI chose the Responses API for this request (langchain-openai's rule)."""
    body = _body(request)
    model = str(body.get("model", ""))
    tools = body.get("tools") or []
    if _always_responses(model):
        return "because of the model name"
    builtin = any(isinstance(tool, dict) and tool.get("type") != "function" for tool in tools)
    if tools and (model.lower().startswith("gpt-6") or builtin):
        return "because the call carries tools"
    return "because of its settings (use_responses_api, reasoning, include, output_version)"


def _always_responses(model: str) -> bool:
    try:  # a private helper of langchain-openai: fall back to its rule as of 1.7.4
        from langchain_openai.chat_models.base import _model_prefers_responses_api
    except ImportError:
        prefixes = ("gpt-5-pro", "gpt-5.2-pro", "gpt-5.4-pro", "gpt-5.5-pro", "gpt-5.6-sol")
        return model.startswith(prefixes) or "codex" in model
    return _model_prefers_responses_api(model)


def _base_url() -> str:
    url = os.environ.get("OPENAI_API_BASE") or os.environ.get("OPENAI_BASE_URL")
    return url or "https://api.openai.com/v1"


def _model(request) -> str:
    if model := _body(request).get("model"):
        return model
    from .settings import DEFAULT_MODEL

    return os.environ.get("OPENAI_MODEL", DEFAULT_MODEL)  # a request we cannot read


def _body(request) -> dict:
    try:
        body = json.loads(request.content)
    except Exception:  # noqa: BLE001 - no request, or one we cannot read
        return {}
    return body if isinstance(body, dict) else {}


def _causes(error: BaseException | None) -> str:
    """The reprs of an error and everything it was raised from, as one string to search."""
    chain = []
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return " ".join(map(repr, chain))


def _reason(cause: str) -> str:
    for needle, reason in (
        ("refused", "connection refused"),
        ("Name or service not known", "unknown host name"),
        ("nodename nor servname", "unknown host name"),
        ("getaddrinfo", "unknown host name"),
        ("SSL", "TLS/SSL failed"),
    ):
        if needle in cause:
            return reason
    return "network error"


def _raised_in_openai_sdk(error: BaseException) -> bool:
    frames = traceback.extract_tb(error.__traceback__)
    return any(f"{os.sep}openai{os.sep}" in frame.filename for frame in frames)


def explain_and_exit(kind, error, tb) -> None:
    """The lesson's excepthook: one short line for an error explain() knows, else the
    traceback as usual."""
    explained = explain(error)
    if explained is None or os.environ.get("TUTORIAL_DEBUG") == "1":
        sys.stderr.write(mask("".join(traceback.format_exception(kind, error, tb))))
    if explained is None:
        return  # not an error the reader caused: the traceback above is for the author
    status, message = explained
    if status != 130:
        message = f"[error] {message}"
        if os.environ.get("TUTORIAL_DEBUG") != "1":
            message += " (TUTORIAL_DEBUG=1 shows the traceback.)"
    # Start on a fresh line: the error may have cut a line of streamed tokens short.
    exit_now(status, f"\n{message}")


def exit_now(status: int, message: str) -> None:
    """Print the message and leave at once with this exit status."""
    sys.stdout.flush()
    print(message, file=sys.stderr)
    sys.stderr.flush()
    os._exit(status)  # no interpreter shutdown: pool threads and open streams can't hang it
