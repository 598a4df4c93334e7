"""The settings, and the backend they choose: load(), which each lesson calls once where a
script would call load_dotenv().

* It loads ``.env`` (variables already set in the shell win).
* With a real ``OPENAI_API_KEY``, ChatOpenAI talks to OpenAI, or to the OpenAI-compatible
  server that ``OPENAI_BASE_URL`` names (Ollama, vLLM, DashScope, DeepSeek, ...).
* With no key, a placeholder key from ``.env.example``, or ``TUTORIAL_OFFLINE=1``, it starts
  the offline model (tutorial_env/offline) on 127.0.0.1 and points ChatOpenAI at it through
  the environment, so the lesson code stays the real ChatOpenAI code.
* ``OPENAI_MODEL`` defaults to gpt-6-luna.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv

from .errors import exit_now, explain_and_exit

ROOT = Path(__file__).resolve().parents[1]  # the repository: the lessons and .env
DEFAULT_MODEL = "gpt-6-luna"  # gpt-4o-mini, the default before it, shuts down 2027-01-14
PLACEHOLDER_PREFIX = "sk-your-"  # every key in .env.example, e.g. sk-your-key-here

_server = None


class ConfigError(Exception):
    """A setting the reader must fix before anything can run (exit status 2)."""


def load() -> str:
    """Load .env, choose the backend, and explain failures briefly. Returns "offline"/"online".

    From here on, an error from the provider or the network ends the lesson with one short
    message on stderr (exit status 1) instead of a traceback; TUTORIAL_DEBUG=1 shows the
    traceback too. Ctrl-C exits with 130. A bad setting exits with 2.
    """
    sys.excepthook = explain_and_exit
    try:
        return _choose_backend()
    except ConfigError as error:
        exit_now(2, f"[config] {error}")


def _choose_backend() -> str:
    load_dotenv(ROOT / ".env", override=False)
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_MODEL"):
        if not os.environ.get(name, "").strip():  # an empty line in .env means "not set"
            os.environ.pop(name, None)
    os.environ.setdefault("OPENAI_MODEL", DEFAULT_MODEL)
    if timeout := os.environ.get("TUTORIAL_TIMEOUT"):
        _set_default_timeout(_seconds("TUTORIAL_TIMEOUT", timeout))
    key = os.environ.get("OPENAI_API_KEY", "").strip()
    go_online = "Put a real key in .env to use OpenAI or a compatible provider."
    if os.environ.get("TUTORIAL_OFFLINE") == "1":
        reason = "TUTORIAL_OFFLINE=1"
        if key and not _is_placeholder(key):
            go_online = "Unset TUTORIAL_OFFLINE to use your OPENAI_API_KEY."
        else:
            go_online = "Unset TUTORIAL_OFFLINE and put a real key in .env to go online."
    elif not key:
        reason = "no OPENAI_API_KEY is set"
    elif _is_placeholder(key):
        reason = "OPENAI_API_KEY is still a .env.example placeholder, so it was ignored"
    else:
        for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE"):
            _check_url(name)
        return "online"
    _start_offline()
    print(
        f"[offline] {reason}: answering with the built-in fake chat model at "
        f"{_server.base_url}. {go_online}",
        file=sys.stderr,
    )
    return "offline"


def _is_placeholder(key: str) -> bool:
    return key.startswith(PLACEHOLDER_PREFIX)


def _check_url(name: str, example: str = "") -> None:
    url = os.environ.get(name)
    if url is None:
        return
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(
            f"{name}={url!r} is not a usable URL. "
            + (
                example
                or "Write the whole address, with http:// or https:// and the /v1 "
                "path, e.g. http://localhost:11434/v1 for Ollama."
            )
        )


def url_setting(name: str, example: str) -> str:
    """The URL in the environment variable `name`, or "" if it is unset or empty. A value
    that is not an http(s) URL ends the lesson with one [config] line, as load() does."""
    if not os.environ.get(name, "").strip():
        return ""
    try:
        _check_url(name, example)
    except ConfigError as error:
        exit_now(2, f"[config] {error}")
    return os.environ[name].strip()


def _seconds(name: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise ConfigError(f"{name}={value!r} must be a number of seconds, e.g. {name}=30.")
    return seconds


def _set_default_timeout(seconds: float) -> None:
    """ChatOpenAI waits forever by default; TUTORIAL_TIMEOUT gives it a default timeout."""
    from langchain_openai import ChatOpenAI

    ChatOpenAI.model_fields["request_timeout"].default = seconds
    ChatOpenAI.model_rebuild(force=True)


def _start_offline() -> None:
    global _server
    from .offline import FakeOpenAIServer

    if _server is None:
        try:
            _server = FakeOpenAIServer().start()
        except ValueError as error:
            raise ConfigError(str(error)) from None
    os.environ["OPENAI_BASE_URL"] = _server.base_url
    os.environ["OPENAI_API_KEY"] = "sk-offline-tutorial"
    # LangChain prefers OPENAI_API_BASE over OPENAI_BASE_URL; a proxy would bypass 127.0.0.1.
    for name in ("OPENAI_API_BASE", "OPENAI_PROXY"):
        os.environ.pop(name, None)
