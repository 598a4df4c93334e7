"""The offline model: an OpenAI-compatible server on 127.0.0.1 with a deterministic brain.

tutorial_env starts it when no real key is configured, so every lesson still runs the real
ChatOpenAI -> openai SDK -> HTTP -> SSE path. One module per job:

    replies.py           the brain: answers, tool choice, the token rule (no wire format)
    chat_completions.py  POST /v1/chat/completions: its requests, bodies and stream chunks
    faults.py            TUTORIAL_OFFLINE_FAULT: HTTP errors, timeouts, broken streams
    streaming.py         one Server-Sent Event
    server.py            the HTTP server that routes each request to its dialect

A new API dialect is one new module beside chat_completions.py, listed in server.DIALECTS.
"""

from .faults import FAULTS, UNKNOWN_MODEL
from .replies import prompt_tokens, reasoning_tokens, text_reply, tokenize
from .server import DEFAULT_TOKEN_DELAY, FakeOpenAIServer

__all__ = [
    "DEFAULT_TOKEN_DELAY",
    "FAULTS",
    "UNKNOWN_MODEL",
    "FakeOpenAIServer",
    "prompt_tokens",
    "reasoning_tokens",
    "text_reply",
    "tokenize",
]
