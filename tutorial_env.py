"""Environment and backend choice for the lessons. Support code, not a lesson.

Each lesson calls ``tutorial_env.load()`` once, where a script would call ``load_dotenv()``:

* it loads ``.env`` (variables already set in the shell win);
* with a real ``OPENAI_API_KEY``, ChatOpenAI talks to OpenAI, or to the OpenAI-compatible
  server that ``OPENAI_BASE_URL`` names (Ollama, vLLM, DashScope, DeepSeek, ...);
* with no key, the placeholder key from ``.env.example``, or ``TUTORIAL_OFFLINE=1``, it
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
import os
import subprocess
import sys
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent
DEFAULT_MODEL = "gpt-4o-mini"
PLACEHOLDER_KEY = "sk-your-key-here"
LESSONS = (
    "callbacks_runtime.py",
    "callbacks_attach.py",
    "callbacks_constructor.py",
    "custom_callbacks.py",
    "callbacks_async.py",
    "callbacks_custom_events.py",
    "file_logging.py",
    "token_counting.py",
)

_server = None


def load() -> str:
    """Load .env and choose the backend. Returns "offline" or "online"."""
    load_dotenv(ROOT / ".env", override=False)
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_MODEL"):
        if not os.environ.get(name, "").strip():  # an empty line in .env means "not set"
            os.environ.pop(name, None)
    os.environ.setdefault("OPENAI_MODEL", DEFAULT_MODEL)
    key = os.environ.get("OPENAI_API_KEY", "").strip()
    if os.environ.get("TUTORIAL_OFFLINE") == "1":
        reason = "TUTORIAL_OFFLINE=1"
    elif not key:
        reason = "no OPENAI_API_KEY is set"
    elif key == PLACEHOLDER_KEY:
        reason = "OPENAI_API_KEY is still the .env.example placeholder, so it was ignored"
    else:
        return "online"
    _start_offline()
    print(
        f"[offline] {reason}: answering with the built-in fake chat model at "
        f"{_server.base_url}. Put a real key in .env to use OpenAI or a compatible provider.",
        file=sys.stderr,
    )
    return "offline"


def _start_offline() -> None:
    global _server
    from fake_openai import FakeOpenAIServer

    if _server is None:
        _server = FakeOpenAIServer().start()
    os.environ["OPENAI_BASE_URL"] = _server.base_url
    os.environ["OPENAI_API_KEY"] = "sk-offline-tutorial"
    # LangChain prefers OPENAI_API_BASE over OPENAI_BASE_URL; a proxy would bypass 127.0.0.1.
    for name in ("OPENAI_API_BASE", "OPENAI_PROXY"):
        os.environ.pop(name, None)


def lesson_title(lesson: str) -> str:
    """The first line of a lesson's docstring, e.g. "Attach callbacks with with_config"."""
    doc = ast.get_docstring(ast.parse((ROOT / lesson).read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0].rstrip(".") if doc.strip() else lesson


def tour() -> int:
    """Run every lesson that exists, in order, each under a numbered header."""
    failed = []
    for number, lesson in enumerate(LESSONS, 1):
        if not (ROOT / lesson).exists():
            continue
        header = f"[{number}/{len(LESSONS)}] {lesson}: {lesson_title(lesson)}"
        print(f"\n{'=' * len(header)}\n{header}\n{'=' * len(header)}", flush=True)
        if subprocess.run([sys.executable, lesson], cwd=ROOT).returncode != 0:
            failed.append(lesson)
    if failed:
        print(f"\nThese lessons failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("\nTour complete.")
    return 0


def serve(port: int) -> int:
    from fake_openai import FakeOpenAIServer

    server = FakeOpenAIServer(port)
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
