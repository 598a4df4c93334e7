"""Runs lessons for the tests from one warm interpreter, as the tour does: each run is a
fork that has already paid for importing LangChain, so a lesson run costs a fraction
of `python <lesson>`. The expected outputs come from real `python <lesson>` runs
(`make expected`), so every test also checks that a forked run prints the same.

Protocol, one JSON object per line: the test process writes
{"lesson": path, "args": [...] or null, "env": {...}, "cwd": dir, "output": file,
"timeout": seconds}
and reads back {"returncode": int or null}; null means the run was killed at its timeout.
The server is single-threaded, so forking it is safe. It ends when its stdin closes.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tutorial_env  # noqa: E402

tutorial_env.preload()  # paid once here, shared by every forked run


def run(request: dict) -> int | None:
    pid = os.fork()
    if pid == 0:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        output = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(output, 1)
        os.dup2(output, 2)  # stdout and stderr merged, in the order printed
        tutorial_env.run_as_main(Path(request["lesson"]), request.get("args"))
    deadline = time.monotonic() + request["timeout"]
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.005)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return None


def main() -> None:
    for line in sys.stdin:
        print(json.dumps({"returncode": run(json.loads(line))}), flush=True)


if __name__ == "__main__":
    main()
