"""What pytest-xdist starts as the "python" of each worker (tests/conftest.py): instead of a
new interpreter, which would import LangChain again for the tests it collects, a fork of the
warm fork server (tests/forkserver.py) that takes over this process's standard streams.

execnet runs it as `python -S tests/xdist_worker.py -u -c BOOTSTRAP`; it exits with the
worker's exit status."""

import json
import os
import socket
import sys
import time

code = sys.argv[sys.argv.index("-c") + 1]
path = os.environ["TUTORIAL_FORKSERVER"]
deadline = time.monotonic() + 60
while not os.path.exists(path):  # the server is still importing LangChain
    if time.monotonic() > deadline:
        sys.exit(f"the fork server did not start: no socket at {path}")
    time.sleep(0.01)
with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
    client.connect(path)
    request = {"code": code, "argv": [], "env": dict(os.environ), "cwd": os.getcwd()}
    request |= {"timeout": 24 * 3600}
    socket.send_fds(client, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
    reply = client.makefile("rb").readline()
sys.exit(json.loads(reply)["returncode"] if reply else 1)
