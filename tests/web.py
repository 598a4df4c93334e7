"""Lesson 11's server, started the way a reader starts it, and readers for it: for the HTTP and
browser tests, and for bench/web_budgets.py."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
from lessons import ROOT, ctrl_c_reaches_python, free_port, offline_env, read_until

from tutorial_env.offline import FakeOpenAIServer
from tutorial_env.sse_reader import read_answer

KEY = "sk-test-web-0123456789"  # the server's provider key: no output may show it
# In the page: records the answer's length at every change, when the first text was
# painted (window.firstPaint) and when the question was sent (window.sentAt).
WATCH_ANSWER = """() => {
  const answer = document.getElementById("answer");
  window.lengths = [];
  new MutationObserver(() => {
    if (!window.firstPaint && answer.textContent) window.firstPaint = performance.now();
    window.lengths.push(answer.textContent.length);
  }).observe(answer, {childList: true, characterData: true, subtree: true});
  document.getElementById("ask").addEventListener("submit", () => {
    window.sentAt = performance.now();
  }, {capture: true});
}"""


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
        settings = offline_env(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=fake.base_url)
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


def client_for(server: WebServer, readers: int) -> httpx.AsyncClient:
    """A client that can hold `readers` streams open at once."""
    limits = httpx.Limits(max_connections=readers)
    return httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits)


async def read_all(client: httpx.AsyncClient, questions: list[str], leave_after=None) -> list:
    """Every question read at once. leave_after: one number of tokens after which every
    reader hangs up, or one per question (None reads to the end)."""
    leave = leave_after if isinstance(leave_after, list) else [leave_after] * len(questions)
    readers = (read_answer(client, q, leave_after=n) for q, n in zip(questions, leave, strict=True))
    return await asyncio.gather(*readers)


def ask_all(server: WebServer, questions: list[str], leave_after=None) -> list:
    async def all_at_once():
        async with client_for(server, len(questions)) as client:
            return await read_all(client, questions, leave_after)

    return asyncio.run(all_at_once())
