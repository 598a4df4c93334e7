"""Runs lessons and Python snippets for the tests from one warm interpreter, as the tour
does: each run is a fork that has already paid for importing LangChain, so a run costs a
fraction of a new `python`. One server serves the whole test session, every xdist worker
and every run at once (tests/conftest.py starts it; tests/lessons.py talks to it). The
expected outputs come from real `python <lesson>` runs (`make expected`), so every test also
checks that a forked run prints the same.

Usage: python tests/forkserver.py SOCKET. It preloads, then listens on the Unix socket
SOCKET, and ends when its stdin closes (its starter has gone). Protocol: a client connects,
writes one JSON object and a newline, and reads one back:

    {"lesson": path, "args": [...] or null,       a lesson, run as `python <lesson> [args]`
     or "code": source, "argv": [...],              or a snippet, run as `python -c source argv`
     "env": {...}, "cwd": dir, "timeout": seconds,
     "output": file, "stderr": file or null,        stdout there; stderr too, unless given
     "detach": true or absent}
    -> {"pid": int}                                 at once, with "detach": the run has its
                                                    output open and goes on; then, as always,
    -> {"returncode": int or null}                  when it ends; null: killed at its timeout

A forked snippet is as fresh as `python -c` for what the tests look at: its own environment,
Python's default warning filters, no warning shown yet and no LangChain run made yet; only
the imports are warm. The server itself never runs LangChain code, so it is safe to fork.
"""

import atexit
import contextlib
import json
import os
import selectors
import signal
import socket
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tutorial_env  # noqa: E402

POLL = 0.005  # seconds between checks on running children


def child(request: dict, inherited: list[int], client: int) -> None:
    """In the forked child: become the run the request asks for, then exit with its status."""
    for fd in inherited:
        os.close(fd)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    output = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    errors = output
    if request.get("stderr"):
        errors = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(output, 1)
    os.dup2(errors, 2)  # by default stdout and stderr merged, in the order printed
    if request.get("detach"):  # the client goes on while this runs: tell it who we are
        os.write(client, json.dumps({"pid": os.getpid()}).encode() + b"\n")
    os.close(client)
    if "lesson" in request:
        tutorial_env.run_as_main(Path(request["lesson"]), request.get("args"))
    run_code(request["code"], request.get("argv", []))


def run_code(code: str, argv: list[str]) -> None:
    """What `python -c code argv...` does: run it as __main__, print an uncaught error's
    traceback, run the atexit handlers, and exit with the status."""
    sys.argv, sys.path[0] = ["-c", *argv], ""
    status = 0
    try:
        exec(
            compile(code, "<string>", "exec"),
            {"__name__": "__main__", "__builtins__": __builtins__},
        )  # noqa: S102
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
        if exit_.code is not None and not isinstance(exit_.code, int):
            print(exit_.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - what the interpreter does with an uncaught error
        traceback.print_exc()
        status = 1
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def serve(path: str) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + ".tmp")
    listener.listen(128)
    os.rename(path + ".tmp", path)  # clients wait for the path: it appears once we listen
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)
    pending: dict[socket.socket, bytes] = {}  # connections whose request is still arriving
    running: dict[int, tuple[socket.socket, float]] = {}  # pid -> (client, deadline)
    while True:
        for key, _ in selector.select(POLL if running else 1.0):
            if key.fileobj is sys.stdin:
                if not os.read(sys.stdin.fileno(), 4096):
                    return  # the starter has gone
            elif key.fileobj is listener:
                client, _ = listener.accept()
                pending[client] = b""
                selector.register(client, selectors.EVENT_READ)
            else:
                client = key.fileobj
                chunk = client.recv(65536)
                pending[client] += chunk
                if not chunk or pending[client].endswith(b"\n"):
                    selector.unregister(client)
                    data = pending.pop(client)
                    if not chunk and not data.endswith(b"\n"):
                        client.close()  # gone before it asked
                        continue
                    request = json.loads(data)
                    inherited = [listener.fileno()]  # stdin is replaced
                    inherited += [c.fileno() for c in pending] + [
                        c.fileno() for c, _ in running.values()
                    ]
                    pid = os.fork()
                    if pid == 0:
                        try:
                            child(request, inherited, client.fileno())
                        finally:
                            os._exit(70)
                    running[pid] = (client, time.monotonic() + request["timeout"])
        for pid in list(running):
            client, deadline = running[pid]
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                returncode = os.waitstatus_to_exitcode(status)
            elif time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                returncode = None
            else:
                continue
            del running[pid]
            try:
                client.sendall(json.dumps({"returncode": returncode}).encode() + b"\n")
            except OSError:
                pass  # the client gave up waiting
            client.close()


if __name__ == "__main__":
    tutorial_env.preload()  # paid once here, shared by every forked run
    try:
        serve(sys.argv[1])
    finally:
        Path(sys.argv[1]).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            Path(sys.argv[1]).parent.rmdir()  # the folder lessons.start_forkserver made
