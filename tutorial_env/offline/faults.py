"""The faults the offline model can inject, for the failure tests and for readers who want to
see a lesson fail the way a real provider makes it fail. The same on every API route.

TUTORIAL_OFFLINE_FAULT injects one on every request:

    401, 404, 429, 500   that HTTP error, with OpenAI's error body
    429-once             only the first request is rate-limited, so the SDK's retry succeeds
    context-length       OpenAI's 400 for a conversation longer than the context window
    timeout              never answers
    disconnect           hangs up; mid-stream when streaming
    stall                a stream goes silent after two tokens; without streaming, like timeout
    malformed            a broken JSON body, or a broken event after two tokens

A model named "no-such-model" gets OpenAI's 404, or with unknown_model_status=400
DeepSeek's 400 "Model Not Exist".

A 429 or a 5xx carries `retry-after-ms`, a header Azure OpenAI sends and the openai SDK
honours: its two retries then come after RETRY_AFTER_MS each, not after its own backoff of
a second or more, so a failure still takes three requests but no long wait.
"""

from __future__ import annotations

FAULTS = (
    "401",
    "404",
    "429",
    "429-once",
    "500",
    "context-length",
    "timeout",
    "disconnect",
    "stall",
    "malformed",
)
UNKNOWN_MODEL = "no-such-model"
MALFORMED_JSON = '{"id": "offline-broken", "choices": ['  # cut off mid-object
FAULT_AT_TOKEN = 2  # a stream breaks after this many tokens
RETRY_AFTER_MS = 20


def retry_headers(status: int) -> dict[str, str]:
    """The headers that tell a client when to retry this status."""
    return {"retry-after-ms": str(RETRY_AFTER_MS)} if status == 429 or status >= 500 else {}


def check_fault(fault: str) -> str:
    if fault and fault not in FAULTS:
        raise ValueError(f"TUTORIAL_OFFLINE_FAULT must be one of {', '.join(FAULTS)}")
    return fault


def fault_for_attempt(fault: str, attempt: int) -> str:
    """The fault this request gets; `attempt` counts the server's requests from 1."""
    if fault == "429-once":
        return "429" if attempt == 1 else ""
    return fault


def error_body(status: int, message: str, kind: str, code: str | None = None) -> tuple[int, dict]:
    """(status, OpenAI's error body)."""
    return status, {"error": {"message": message, "type": kind, "param": None, "code": code}}


def http_error(
    fault: str, model: str | None, key: str, unknown_model_status: int
) -> tuple[int, dict] | None:
    """The HTTP error this request gets instead of an answer, or None."""
    if fault == "401":  # OpenAI echoes the start and end of the key it rejected; so do we
        return error_body(
            401,
            f"Incorrect API key provided: {key[:8]}{'*' * 20}{key[-4:]}. You can find your "
            "API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        )
    if model == UNKNOWN_MODEL and unknown_model_status == 400:  # as DeepSeek
        return error_body(400, "Model Not Exist", "invalid_request_error", "invalid_request_error")
    if fault == "404" or model == UNKNOWN_MODEL:
        return error_body(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        )
    if fault == "context-length":
        return error_body(
            400,
            "This model's maximum context length is 128000 tokens. However, your messages "
            "resulted in 131072 tokens. Please reduce the length of the messages.",
            "invalid_request_error",
            "context_length_exceeded",
        )
    if fault == "429":
        return error_body(
            429,
            "Rate limit reached for requests (offline fault injection).",
            "requests",
            "rate_limit_exceeded",
        )
    if fault == "500":
        return error_body(
            500,
            "The server had an error while processing your request (offline fault injection).",
            "server_error",
        )
    return None


def before_answer(fault: str, streaming: bool) -> str | None:
    """What happens before any answer: "silent", "hang up", "malformed", or None."""
    if fault == "timeout" or (fault == "stall" and not streaming):
        return "silent"
    if fault == "disconnect" and not streaming:
        return "hang up"
    if fault == "malformed" and not streaming:
        return "malformed"
    return None


def during_stream(fault: str, token_index: int) -> str | None:
    """What happens before a stream's token number token_index (from 0): "hang up",
    "silent", "malformed" (one broken event, then the stream goes on), or None."""
    if token_index != FAULT_AT_TOKEN:
        return None
    return {"disconnect": "hang up", "stall": "silent", "malformed": "malformed"}.get(fault)
