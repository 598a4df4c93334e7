"""The tour (`make demo`): every lesson in order, each forked from one process that has
already imported LangChain, as the tests' fork server does too (tests/forkserver.py).
"""

from __future__ import annotations

import ast
import gc
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

from .settings import DEFAULT_MODEL, ROOT

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
    "otel_export.py",
    "web_streaming.py",
    "callbacks_stream_events.py",
    "agent_interrupts.py",
)
# A lesson that serves until Ctrl-C runs its non-blocking demo in the tour and the tests.
LESSON_ARGS = {"web_streaming.py": ("--demo",)}
# What the tour (and the tests' fork server) import once, so each forked lesson needn't.
PRELOAD = (
    "langchain.agents",
    "langchain_openai",
    "langchain_core.prompts.chat",
    "langchain_core.output_parsers.string",
    "langchain_core.messages.block_translators.langchain_v0",
    "langchain_core.tracers.stdout",
    "langchain_core.tracers.run_collector",
    "langchain_core.tracers.context",
    "langchain_core.callbacks.usage",
    "langchain_core.callbacks.file",
    "langchain_classic.chains.base",
    "anyio._backends._asyncio",
    "anyio.streams.stapled",
    "httpcore",
    "langgraph.checkpoint.memory",
    "fastapi",
    "uvicorn",
    "genai_prices.data",
    "loguru",
    "ansi2html",
    "opentelemetry.sdk.trace",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.instrumentation.genai.langchain",
    "tutorial_env.offline",
    "tutorial_env.waterfall",
    "tutorial_env.span_table",
    "tutorial_env.web_demo",
)


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
    warm_responses_parsers()
    # Leave what was loaded out of every fork's garbage collections: a collection visits
    # each object, and in a fork each visit copies the page it is on.
    gc.collect()
    gc.freeze()


def warm_responses_parsers() -> None:
    """Make the openai SDK build its Responses API parsers, as it does the first time a
    process parses a response or a stream event (0.1 to 0.3 s of pydantic schema building,
    most of it for the union of tool types): one answer with a function tool, a message and
    a function call, and one stream, from an in-process transport. Nothing leaves the process."""
    import httpx
    import openai

    tool = {"type": "function", "name": "f", "parameters": {}, "strict": False}
    text = {"type": "output_text", "text": "hi", "annotations": []}
    message = {"type": "message", "id": "m", "role": "assistant", "status": "completed"}
    call = {"type": "function_call", "id": "c", "call_id": "c", "name": "f", "arguments": "{}"}
    response = {"id": "r", "object": "response", "created_at": 0, "model": "m", "tools": [tool]}
    response |= {"output": [message | {"content": [text]}, call], "status": "completed"}
    response |= {"parallel_tool_calls": True, "tool_choice": "auto"}
    events = [
        {"type": kind, "sequence_number": n, "response": response}
        for n, kind in enumerate(("response.created", "response.completed"))
    ]

    def answer(request):
        if json.loads(request.content).get("stream"):
            sse = "".join(f"data: {json.dumps(event)}\n\n" for event in events)
            return httpx.Response(200, text=sse, headers={"content-type": "text/event-stream"})
        return httpx.Response(200, json=response)

    transport = httpx.Client(transport=httpx.MockTransport(answer))
    client = openai.OpenAI(api_key="x", base_url="http://warm.invalid/v1", http_client=transport)
    client.responses.with_raw_response.create(model="m", input="x").parse()
    list(client.responses.create(model="m", input="x", stream=True))


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


def run_as_main(path: Path, args: list[str] | None = None) -> NoReturn:
    """Run a lesson as __main__ in this process, exactly as `python <lesson> [args]` would
    (without args, as the tour runs it), including the lesson's own excepthook, then leave
    with its exit status. For a forked child: the tour's, and the tests'
    (tests/forkserver.py)."""
    status = 0
    try:
        argv = lesson_argv(path) if args is None else [str(path), *args]
        sys.argv, sys.path[0] = argv, str(ROOT)
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
        if exit_.code is not None and not isinstance(exit_.code, int):
            print(exit_.code, file=sys.stderr)  # as the interpreter prints SystemExit("...")
    except BaseException:  # noqa: BLE001 - what the interpreter does with an uncaught error
        sys.excepthook(*sys.exc_info())
        status = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
