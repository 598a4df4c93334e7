"""Run lessons the way a reader does, offline, and compare with tests/expected/.

Regenerate the expected outputs after changing a lesson (reviewing the diff):
    make expected
Compare without writing (the Docker check does this inside the image):
    python tests/lessons.py --check
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "expected"
sys.path.insert(0, str(ROOT))

from tutorial_env import DEFAULT_MODEL, LESSONS, lesson_argv  # noqa: E402

# The three paths a reader can be on, and every lesson is tested on each: the default model,
# whose calls with tools go to the Responses API and the rest to Chat Completions; a model
# that only ever uses Chat Completions (any compatible provider's); one that only uses the
# Responses API. The README shows the default path's output.
MODELS = (DEFAULT_MODEL, "gpt-4o-mini", "gpt-5.6-sol")

CALLBACK_ERROR = re.compile(r"Error in \w+\.\w+ callback")
# Lesson 10 breaks a tracer on purpose and prints what LangChain logged, marked so. Only
# that lesson, only those handlers and only marked lines may show a callback error.
DELIBERATE_ERRORS = {
    "custom_tracer.py": re.compile(
        r"\[logged on purpose\] Error in (Strict)?BrokenExporter\.on_chain_end callback: .*"
    )
}
_NORMALISE = [
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"\x1b\[[0-9;]*m"), ""),  # terminal colours
    (re.compile(r"\basyncio_\d+\b"), "asyncio_N"),  # which pool thread runs a sync handler
    (re.compile(r"\btook \d+\.\d+ s\b"), "took #.# s"),  # wall-clock time
    (re.compile(r"\bclient left after \d+ tokens\b"), "client left after N tokens"),  # lesson 12
]
# The clock in lesson 10: its waterfall bars and times, and set_debug's timings. The
# README shows one real run of it (tests/expected/<lesson>.sample.txt); the tests compare
# the structure only.
_CLOCK = [
    (re.compile(r"\|[# ]+\| *\d+\.\d ms *\d+\.\d ms"), "|BAR| START TOOK"),
    (re.compile(r"\[(\d+ms|\d+\.\d+s)\]"), "[TIME]"),
]
CLOCKED = {"custom_tracer.py"}
# Settings a lesson's offline run needs. Lesson 12's demo shows two answers streaming at
# once, so its fake model must take a little time over each token.
LESSON_ENV = {"web_streaming.py": {"TUTORIAL_TOKEN_DELAY": "0.02"}}
# Lessons whose lines interleave differently on each run (concurrent tasks). Their output is
# compared line for line as a multiset; their tests assert the ordering facts that matter.
UNORDERED = {"callbacks_async.py"}


def uses_responses_api(model: str, tools: bool) -> bool:
    """Whether ChatOpenAI sends this model's call, with or without tools, to the Responses
    API: langchain-openai's own rule, asked directly."""
    from langchain_openai import ChatOpenAI

    payload = {"tools": [{"type": "function", "name": "t"}]} if tools else {}
    return ChatOpenAI(model=model, api_key="sk-unused")._use_responses_api(payload)


def offline_env(**overrides: str) -> dict[str, str]:
    """A reader with no key. Empty values also keep a developer's .env from being loaded."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "TUTORIAL_", "LANGSMITH_", "LANGCHAIN_"))
    }
    env.update(
        OPENAI_API_KEY="",
        OPENAI_BASE_URL="",
        OPENAI_MODEL=DEFAULT_MODEL,
        TUTORIAL_TOKEN_DELAY="0",
        LANGSMITH_TRACING="false",
        LANGCHAIN_TRACING_V2="false",
        PYTHONUNBUFFERED="1",
        PYTHONIOENCODING="utf-8",
    )
    env.update(overrides)
    return env


def run_lesson(
    lesson: str,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    cwd: Path = ROOT,
    fresh: bool = False,
    model: str = DEFAULT_MODEL,
    args: list[str] | None = None,
) -> subprocess.CompletedProcess:
    """`python <lesson>`, stdout and stderr merged in the order printed. The tests fork it
    from a warm interpreter (tests/forkserver.py), as the tour does; fresh=True starts a new
    interpreter, exactly as a reader does, for `make expected` and the Docker check. Without
    `env`, it runs offline with OPENAI_MODEL=model. `args` replace the tour's arguments."""
    env = env or offline_env(OPENAI_MODEL=model, **LESSON_ENV.get(lesson, {}))
    if not fresh and hasattr(os, "fork"):
        return _forked(lesson, env, timeout, cwd, args)
    argv = lesson_argv(ROOT / lesson) if args is None else [str(ROOT / lesson), *args]
    return subprocess.run(
        [sys.executable, *argv],
        cwd=cwd,
        env=env,
        timeout=timeout,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
    )


FORKSERVER = ROOT / "tests" / "forkserver.py"
_private: tuple[subprocess.Popen, str] | None = None  # this process's own, if none is shared


def start_forkserver() -> tuple[subprocess.Popen, str]:
    """Start tests/forkserver.py on a new socket; it ends when the returned process's stdin
    is closed, or when this process ends. tests/conftest.py starts one for the session and
    shares it through TUTORIAL_FORKSERVER."""
    path = str(Path(tempfile.mkdtemp(prefix="forkserver-")) / "socket")
    process = subprocess.Popen(
        [sys.executable, str(FORKSERVER), path], env=offline_env(), stdin=subprocess.PIPE
    )
    return process, path


def _forkserver_path() -> str:
    global _private
    if path := os.environ.get("TUTORIAL_FORKSERVER"):
        return path
    if _private is None or _private[0].poll() is not None:
        _private = start_forkserver()
    return _private[1]


def _ready_forkserver() -> str:
    """The fork server's socket, once it listens (it starts by importing LangChain)."""
    path, deadline = _forkserver_path(), time.monotonic() + 60
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the fork server did not start: no socket at {path}")
        time.sleep(0.01)
    return path


def fork_run(request: dict, timeout: float) -> int | None:
    """Send one request to the fork server (see its docstring) and wait for the exit status;
    None if the run was killed at its timeout."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.connect(_ready_forkserver())
        client.sendall(json.dumps(request | {"timeout": timeout}).encode() + b"\n")
        reply = client.makefile("rb").readline()
    if not reply:
        raise RuntimeError("the fork server closed the connection without an answer")
    return json.loads(reply)["returncode"]


class ForkedProcess:
    """A lesson started in a fork of the warm fork server, that runs on while the test talks
    to it: what subprocess.Popen gives for `python <lesson> [args]` with stdout and stderr
    merged into a pipe (stdout, pid, poll, wait, send_signal, kill)."""

    def __init__(self, lesson: str, args: list[str], env: dict, cwd: Path = ROOT):
        self._folder = tempfile.mkdtemp(prefix="forked-")
        fifo = os.path.join(self._folder, "output")
        os.mkfifo(fifo)
        # Open for reading first, without waiting for the writer: the child opens it to write.
        self.stdout = os.fdopen(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK), "rb", buffering=0)
        request = {"lesson": str(ROOT / lesson), "args": args, "env": env, "cwd": str(cwd)}
        request |= {"output": fifo, "detach": True, "timeout": 600}
        self._client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._client.connect(_ready_forkserver())
        self._client.sendall(json.dumps(request).encode() + b"\n")
        self._replies = self._client.makefile("rb")
        self.pid = json.loads(self._replies.readline())["pid"]  # its output is open by now
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._client], [], [], 0)[0]:
            self._finish()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._client], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"forked {self.pid}", timeout)
            self._finish()
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def _finish(self) -> None:
        reply = self._replies.readline()
        self.returncode = json.loads(reply)["returncode"] if reply else -signal.SIGKILL
        self._replies.close()
        self._client.close()

    def __del__(self):
        self.stdout.close()
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(self._folder, "output"))
            os.rmdir(self._folder)


def _forked(
    lesson: str, env: dict, timeout: float, cwd: Path, args: list[str] | None
) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "output.txt"
        request = {"lesson": str(ROOT / lesson), "args": args, "env": env, "cwd": str(cwd)}
        returncode = fork_run(request | {"output": str(output)}, timeout)
        printed = output.read_text(encoding="utf-8") if output.exists() else ""
    command = [sys.executable, lesson]
    if returncode is None:
        raise subprocess.TimeoutExpired(command, timeout, output=printed)
    return subprocess.CompletedProcess(command, returncode, stdout=printed)


def run_python(
    code: str,
    *argv: str,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    timeout: float = 60,
    merge_stderr: bool = False,
) -> subprocess.CompletedProcess:
    """`python -c code argv...`, forked from the warm fork server: as fresh as a new
    interpreter for what the tests check (see tests/forkserver.py), without its imports.
    stdout and stderr come back apart, or merged in the order printed."""
    with tempfile.TemporaryDirectory() as scratch:
        output, errors = Path(scratch) / "stdout.txt", Path(scratch) / "stderr.txt"
        request = {"code": code, "argv": list(argv), "env": env or offline_env(), "cwd": str(cwd)}
        request |= {"output": str(output), "stderr": None if merge_stderr else str(errors)}
        returncode = fork_run(request, timeout)
        read = lambda file: file.read_text(encoding="utf-8") if file.exists() else ""  # noqa: E731
        stdout, stderr = read(output), None if merge_stderr else read(errors)
    command = [sys.executable, "-c", code, *argv]
    if returncode is None:
        raise subprocess.TimeoutExpired(command, timeout, output=stdout, stderr=stderr)
    return subprocess.CompletedProcess(command, returncode, stdout=stdout, stderr=stderr)


def ctrl_c_reaches_python() -> None:
    """preexec_fn for a child that must get Ctrl-C: a shell's background job starts with
    SIGINT ignored, the child would inherit that, and Python then ignores Ctrl-C too."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def read_until(process: subprocess.Popen, done, timeout: float = 30) -> str:
    """What a running process prints, until done(text so far) holds, it exits, or the
    deadline passes: a read that can never hang a test. The caller asserts done(text)."""
    deadline = time.monotonic() + timeout
    text, fd = b"", process.stdout.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while not done(text.decode("utf-8", "replace")):
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                break
            chunk = os.read(fd, 4096)
            if not chunk:  # end of output
                break
            text += chunk
    return text.decode("utf-8", "replace")


def section(output: str, number: int) -> str:
    """The part of a lesson's output under its "== <number>. ..." heading."""
    return output.split(f"== {number}.")[1].split("\n== ")[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def normalise(output: str, clock: bool = True) -> str:
    """What may differ between two runs, made equal; clock=False keeps lesson 10's times."""
    for pattern, replacement in _NORMALISE + (_CLOCK if clock else []):
        output = pattern.sub(replacement, output)
    return "\n".join(line.rstrip() for line in output.strip().splitlines()) + "\n"


def expected_path(lesson: str, model: str = DEFAULT_MODEL) -> Path:
    """tests/expected/<lesson>.txt for the default model, <lesson>.<model>.txt for another."""
    suffix = ".txt" if model == DEFAULT_MODEL else f".{model}.txt"
    return EXPECTED / lesson.replace(".py", suffix)


def expected_output(lesson: str, model: str = DEFAULT_MODEL) -> str:
    return expected_path(lesson, model).read_text(encoding="utf-8")


def sample_path(lesson: str) -> Path:
    return EXPECTED / lesson.replace(".py", ".sample.txt")


def shown_output(lesson: str) -> str:
    """The output the README shows: one real run for a CLOCKED lesson, else the expected."""
    if lesson in CLOCKED:
        return sample_path(lesson).read_text(encoding="utf-8")
    return expected_output(lesson)


def callback_errors(output: str, lesson: str) -> list[str]:
    """Lines where LangChain logged a handler's exception, but for a lesson's deliberate ones."""
    deliberate = DELIBERATE_ERRORS.get(lesson)
    return [
        line
        for line in output.splitlines()
        if CALLBACK_ERROR.search(line) and not (deliberate and deliberate.fullmatch(line))
    ]


def matches_expected(output: str, lesson: str, model: str = DEFAULT_MODEL) -> bool:
    """Normalised output equals its tests/expected/ file (as a multiset if UNORDERED)."""
    same = sorted if lesson in UNORDERED else list
    return same(output.splitlines()) == same(expected_output(lesson, model).splitlines())


def same_structure(sample: Path, lesson: str) -> bool:
    """The README's real run of a CLOCKED lesson differs from the expected only in the clock."""
    return normalise(sample.read_text(encoding="utf-8")) == expected_output(lesson)


def check_clean_run(
    result: subprocess.CompletedProcess, lesson: str, model: str = DEFAULT_MODEL
) -> str:
    """The three checks every lesson run gets. Returns the normalised output."""
    assert result.returncode == 0, f"{lesson} exited {result.returncode}:\n{result.stdout}"
    errors = callback_errors(result.stdout, lesson)
    assert not errors, f"{lesson}: a handler raised, and LangChain only logged it: {errors}"
    output = normalise(result.stdout)
    shown = " (every README edition shows it)" if model == DEFAULT_MODEL else ""
    assert matches_expected(output, lesson, model), (
        f"{lesson} on {model}: output differs from "
        f"{expected_path(lesson, model).relative_to(ROOT)}{shown}. If the change is intended, "
        "run `make expected` and review the diff."
    )
    return output


def update(lessons: list[str]) -> int:
    for lesson in lessons:
        for model in MODELS:
            if _update(lesson, model) != 0:
                return 1
    return 0


def _update(lesson: str, model: str) -> int:
    result = run_lesson(lesson, fresh=True, model=model)
    if result.returncode != 0:
        print(
            f"{lesson} on {model} exited {result.returncode}; expected output not written:\n"
            f"{result.stdout}",
            file=sys.stderr,
        )
        return 1
    target = expected_path(lesson, model)
    output = normalise(result.stdout)
    if target.exists() and matches_expected(output, lesson, model):
        print(f"unchanged {target.relative_to(ROOT)}")  # keeps the stored line order
    else:
        target.write_text(output, encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}")
    if model == DEFAULT_MODEL:
        sample = sample_path(lesson)
        if lesson in CLOCKED and not (sample.exists() and same_structure(sample, lesson)):
            sample.write_text(normalise(result.stdout, clock=False), encoding="utf-8")
            print(f"wrote {sample.relative_to(ROOT)}")
    return 0


def check(lessons: list[str]) -> int:
    """Run each lesson and compare, without writing: the Docker check runs this in the image."""
    failed = []
    for lesson in lessons:
        result = run_lesson(lesson, fresh=True)
        same = result.returncode == 0 and matches_expected(normalise(result.stdout), lesson)
        print(f"{'same' if same else 'DIFFERS'}  {lesson}")
        if not same:
            failed.append(lesson)
            print(result.stdout)
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--check"]:
        sys.exit(check(sys.argv[2:] or list(LESSONS)))
    sys.exit(update(sys.argv[1:] or list(LESSONS)))
