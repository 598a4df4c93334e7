"""Environment and backend choice for the lessons. Support code, not a lesson.

Each lesson calls ``tutorial_env.load()`` once, where a script would call ``load_dotenv()``:

* it loads ``.env`` (variables already set in the shell win);
* with a real ``OPENAI_API_KEY``, ChatOpenAI talks to OpenAI, or to the OpenAI-compatible
  server that ``OPENAI_BASE_URL`` names (Ollama, vLLM, DashScope, DeepSeek, ...);
* with no key, a placeholder key from ``.env.example``, or ``TUTORIAL_OFFLINE=1``, it
  starts the built-in fake chat model (fake_openai.py) on 127.0.0.1 and points ChatOpenAI
  at it through the environment, so the lesson code stays the real ChatOpenAI code;
* ``OPENAI_MODEL`` defaults to gpt-4o-mini.

Command line:
    python -m tutorial_env --port 8000   serve the fake model standalone, like a local Ollama
    python -m tutorial_env tour          run every lesson in order (what `make demo` does)
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import runpy
import subprocess
import sys
import traceback
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent
DEFAULT_MODEL = "gpt-4o-mini"
PLACEHOLDER_PREFIX = "sk-your-"  # every key in .env.example, e.g. sk-your-key-here
LESSONS = (
    "callbacks_runtime.py",
    "callbacks_attach.py",
    "callbacks_constructor.py",
    "custom_callbacks.py",
    "callbacks_async.py",
    "callbacks_custom_events.py",
    "file_logging.py",
    "token_counting.py",
    "agent_callbacks.py",
    "custom_tracer.py",
    "web_streaming.py",
)
# A lesson that serves until Ctrl-C runs its non-blocking demo in the tour and the tests.
LESSON_ARGS = {"web_streaming.py": ("--demo",)}
# What the tour (and the tests' fork server) import once, so each forked lesson needn't.
PRELOAD = (
    "langchain.agents",
    "langchain_openai",
    "langchain_core.prompts",
    "langchain_core.output_parsers",
    "langchain_core.tracers.stdout",
    "fastapi",
    "uvicorn",
    "fake_openai",
)

_server = None


class ConfigError(Exception):
    """A setting the reader must fix before anything can run (exit status 2)."""


def load() -> str:
    """Load .env, choose the backend, and explain failures briefly. Returns "offline"/"online".

    From here on, an error from the provider or the network ends the lesson with one short
    message on stderr (exit status 1) instead of a traceback; TUTORIAL_DEBUG=1 shows the
    traceback too. Ctrl-C exits with 130. A bad setting exits with 2.
    """
    sys.excepthook = _explain_and_exit
    try:
        return _choose_backend()
    except ConfigError as error:
        _exit(2, f"[config] {error}")


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


def _check_url(name: str) -> None:
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
            f"{name}={url!r} is not a usable URL. Write the whole address, with http:// or "
            "https:// and the /v1 path, e.g. http://localhost:11434/v1 for Ollama."
        )


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
    from fake_openai import FakeOpenAIServer

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


def mask(text: str) -> str:
    """Hide the API key, and anything shaped like one, as sk-...WXYZ."""
    key = os.environ.get("OPENAI_API_KEY", "")
    if len(key) >= 8:
        text = text.replace(key, f"{key[:3]}...{key[-4:]}")
    return _KEY_SHAPE.sub(lambda m: f"{m[0][:3]}...{m[0][-4:]}", text)


_KEY_SHAPE = re.compile(r"\bsk-[A-Za-z0-9_*\-]{8,}")


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
        if status == 404 or (status == 400 and _says_no_such_model(error.message)):
            return 1, (
                f"HTTP {status} from {url}: no model named {_model(request)!r} there. Check "
                "OPENAI_MODEL, and that OPENAI_BASE_URL is the provider's OpenAI-compatible "
                "address (for a local server it usually ends in /v1)."
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


def _says_no_such_model(message: str) -> bool:
    """DeepSeek, for one, answers an unknown model with HTTP 400 "Model Not Exist"."""
    message = message.lower()
    return "model" in message and ("not exist" in message or "not found" in message)


def _base_url() -> str:
    url = os.environ.get("OPENAI_API_BASE") or os.environ.get("OPENAI_BASE_URL")
    return url or "https://api.openai.com/v1"


def _model(request) -> str:
    try:
        return json.loads(request.content)["model"]
    except Exception:  # noqa: BLE001 - any request we cannot read falls back to the setting
        return os.environ.get("OPENAI_MODEL", DEFAULT_MODEL)


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


def _explain_and_exit(kind, error, tb) -> None:
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
    _exit(status, f"\n{message}")


def _exit(status: int, message: str) -> None:
    """Print the message and leave at once with this exit status."""
    sys.stdout.flush()
    print(message, file=sys.stderr)
    sys.stderr.flush()
    os._exit(status)  # no interpreter shutdown: pool threads and open streams can't hang it


def lesson_title(lesson: str) -> str:
    """The first line of a lesson's docstring, e.g. "Attach callbacks with with_config"."""
    doc = ast.get_docstring(ast.parse((ROOT / lesson).read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0].rstrip(".") if doc.strip() else lesson


def tour() -> int:
    """Run every lesson that exists, in order, each under a numbered header."""
    run = _run_forked if hasattr(os, "fork") else _run_subprocess
    if run is _run_forked:
        preload()
    failed = []
    for number, lesson in enumerate(LESSONS, 1):
        if not (ROOT / lesson).exists():
            continue
        header = f"[{number}/{len(LESSONS)}] {lesson}: {lesson_title(lesson)}"
        print(f"\n{'=' * len(header)}\n{header}\n{'=' * len(header)}", flush=True)
        if run(ROOT / lesson) != 0:
            failed.append(lesson)
    if failed:
        print(f"\nThese lessons failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("\nTour complete.")
    return 0


def preload() -> None:
    """Import what every lesson imports, before forking: each fork then starts warm."""
    import importlib

    for module in PRELOAD:
        importlib.import_module(module)
    from langchain_openai import ChatOpenAI

    # The openai SDK imports its HTTP stack when a client is made; this one sends nothing.
    ChatOpenAI(model=DEFAULT_MODEL, api_key="sk-preload", base_url="http://127.0.0.1:9/v1")


def lesson_argv(path: Path) -> list[str]:
    """`python <lesson>`'s arguments as the tour runs it."""
    return [str(path), *LESSON_ARGS.get(path.name, ())]


def _run_subprocess(path: Path) -> int:
    return subprocess.run([sys.executable, *lesson_argv(path)]).returncode


def _run_forked(path: Path) -> int:
    """`python <lesson>` in a fork of this process, which has already paid for the imports.

    The child is a fresh copy: no server, no event loop, no handlers yet.
    """
    pid = os.fork()
    if pid == 0:
        run_as_main(path)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def run_as_main(path: Path) -> NoReturn:
    """Run a lesson as __main__ in this process, exactly as `python <lesson>` would,
    including the lesson's own excepthook, then leave with its exit status. For a forked
    child: the tour's, and the tests' (tests/forkserver.py)."""
    status = 0
    try:
        sys.argv, sys.path[0] = lesson_argv(path), str(ROOT)
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    except BaseException:  # noqa: BLE001 - what the interpreter does with an uncaught error
        sys.excepthook(*sys.exc_info())
        status = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def serve(port: int) -> int:
    from fake_openai import FakeOpenAIServer

    try:
        server = FakeOpenAIServer(port)
    except ValueError as error:  # a bad TUTORIAL_* setting
        print(f"[config] {error}", file=sys.stderr)
        return 2
    print(
        f"Fake OpenAI-compatible server on {server.base_url} (Ctrl-C to stop).\n"
        f"In another shell:  OPENAI_BASE_URL={server.base_url} OPENAI_API_KEY=anything "
        "python callbacks_constructor.py",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopped.")
        return 130
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tutorial_env", description=__doc__.split("\n")[0]
    )
    parser.add_argument("command", nargs="?", choices=["serve", "tour"], default="serve")
    parser.add_argument("--port", type=int, default=8000, help="port for serve (default 8000)")
    args = parser.parse_args(argv)
    return tour() if args.command == "tour" else serve(args.port)


if __name__ == "__main__":
    sys.exit(main())
