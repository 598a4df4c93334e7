"""Lesson 12's server, started the way a reader starts it, and readers for it: for the HTTP and
browser tests, and for bench/web_budgets.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from lessons import ROOT, ForkedProcess, free_port, offline_env, read_until

from tutorial_env.offline import FakeOpenAIServer
from tutorial_env.sse_reader import read_answer

KEY = "sk-test-web-0123456789"  # the server's provider key: no output may show it
PAGE = ROOT / "pages" / "web_streaming.html"
ANSWERS_WAIT = 30  # seconds for every reader of read_all to finish
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
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
    process: ForkedProcess | subprocess.Popen
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
        # `python web_streaming.py --port N`, forked warm from the tests' fork server
        process = ForkedProcess("web_streaming.py", ["--port", str(port)], settings | env)
        server = WebServer(f"http://127.0.0.1:{port}", process, fake)
        try:
            banner = server.output(lambda text: "Ctrl-C stops the server" in text, timeout=30)
            address = f"http://{env.get('HOST', '127.0.0.1')}:{port}/"
            assert address in banner, f"no {address} banner within 30 s; printed {banner!r}"
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


async def within(seconds: float, awaitable, what: str):
    """`await awaitable`, or fail the test with one line once `seconds` have passed."""
    try:
        async with asyncio.timeout(seconds):  # no task of its own: SystemExit passes as it is
            return await awaitable
    except TimeoutError:
        pytest.fail(f"{what}: not within {seconds} s", pytrace=False)


async def read_all(client: httpx.AsyncClient, questions: list[str], leave_after=None) -> list:
    """Every question read at once. leave_after: one number of tokens after which every
    reader hangs up, or one per question (None reads to the end)."""
    leave = leave_after if isinstance(leave_after, list) else [leave_after] * len(questions)
    readers = (read_answer(client, q, leave_after=n) for q, n in zip(questions, leave, strict=True))
    return await within(ANSWERS_WAIT, asyncio.gather(*readers), f"{len(questions)} readers")


def ask_all(server: WebServer, questions: list[str], leave_after=None) -> list:
    async def all_at_once():
        async with client_for(server, len(questions)) as client:
            return await read_all(client, questions, leave_after)

    return asyncio.run(all_at_once())


@contextlib.contextmanager
def chromium() -> Iterator:
    """Headless Chromium (Debian's package) driven by Playwright. Without it the test skips
    with one line, unless TUTORIAL_REQUIRE_BROWSER=1 (CI sets it): then it fails."""
    if not CHROMIUM:
        if os.environ.get("TUTORIAL_REQUIRE_BROWSER") == "1":
            pytest.fail("TUTORIAL_REQUIRE_BROWSER=1 but no chromium on PATH", pytrace=False)
        pytest.skip("no Chromium: apt-get install chromium (as root) to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            browser.close()


def wait_in_page(page, expression: str, what: str, seconds: float = 10) -> None:
    """Wait until the JavaScript `expression` holds in the page, or fail with one line."""
    from playwright.sync_api import TimeoutError as PageTimeout

    try:
        page.wait_for_function(expression, timeout=seconds * 1000)
    except PageTimeout:
        pytest.fail(f"{what}: not within {seconds} s", pytrace=False)


@dataclass
class Request:
    """One request the crafted server answered."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    hung_up_after: float | None = None  # seconds from the stream's last event to the hang-up


Events = list[tuple[str, object]]  # (event name, data), the lesson's stream contract


class CraftedServer(ThreadingHTTPServer):
    """The lesson's real page at `/`, and at /stream... a stream of crafted events:
    `events(path, question)`, sent as the lesson's server sends its own. With hold_open, a
    stream stays open after its last event until the client hangs up (at most HOLD s), and
    the request records when it did. `/cached?cc=...` is a small text with a validator
    (ETag) and the Cache-Control given, for the cache test. Every request is in `requests`."""

    daemon_threads = True
    HOLD = 10

    def __init__(self, events: Callable[[str, str], Events], hold_open: bool = False):
        super().__init__(("127.0.0.1", 0), _CraftedHandler)
        self.events, self.hold_open = events, hold_open
        self.requests: list[Request] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def streams(self) -> list[Request]:
        return [r for r in self.requests if r.path.startswith("/stream")]

    def __enter__(self) -> CraftedServer:
        threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.shutdown()
        self.server_close()


class _CraftedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CraftedServer

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        request = Request(url.path, query, {k.lower(): v for k, v in self.headers.items()})
        self.server.requests.append(request)
        if url.path == "/":
            self._send(200, {"Content-Type": "text/html; charset=utf-8"}, PAGE.read_bytes())
        elif url.path == "/cached":
            self._send(200, {"Cache-Control": query["cc"], "ETag": '"v1"'}, b"a stored copy?")
        elif url.path.startswith("/stream"):
            self._stream(request, self.server.events(url.path, query.get("question", "")))
        else:
            self._send(404, {}, b"")

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in (headers | {"Content-Length": str(len(body))}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, request: Request, events: Events) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for event, data in events:
            self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()
        self.close_connection = True
        if self.server.hold_open:
            sent = time.monotonic()
            readable, _, _ = select.select([self.connection], [], [], self.server.HOLD)
            if readable and not self.connection.recv(1):  # the client hung up
                request.hung_up_after = time.monotonic() - sent
