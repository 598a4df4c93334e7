"""Lesson 11's server, started the way a reader starts it, for the HTTP and browser tests."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

from lessons import ROOT, ctrl_c_reaches_python, free_port, offline_env, read_until

from fake_openai import FakeOpenAIServer


@dataclass
class WebServer:
    url: str
    process: subprocess.Popen
    fake: FakeOpenAIServer
    printed: list[str] = field(default_factory=list)  # what the server printed, so far

    def output(self, until=lambda text: False, timeout: float = 0.5) -> str:
        """Everything the server has printed, reading on until `until` holds or the timeout."""
        text = "".join(self.printed)
        if not until(text):
            self.printed.append(read_until(self.process, lambda new: until(text + new), timeout))
        return "".join(self.printed)


@contextlib.contextmanager
def web_server(token_delay: float = 0.01, fault: str = "", **env: str) -> Iterator[WebServer]:
    """`python web_streaming.py --port N` against a fake provider the test can inspect."""
    port = free_port()
    with FakeOpenAIServer(token_delay=token_delay, fault=fault) as fake:
        settings = offline_env(
            OPENAI_API_KEY="sk-test-web-0123456789", OPENAI_BASE_URL=fake.base_url
        )
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "web_streaming.py"), "--port", str(port)],
            cwd=ROOT,
            env=settings | env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=ctrl_c_reaches_python,
        )
        server = WebServer(f"http://127.0.0.1:{port}", process, fake)
        try:
            banner = server.output(lambda text: "Ctrl-C stops the server" in text, timeout=30)
            assert f"http://{env.get('HOST', '127.0.0.1')}:{port}/" in banner, banner
            yield server
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
