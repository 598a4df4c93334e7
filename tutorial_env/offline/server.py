"""The offline model's HTTP server, on 127.0.0.1: the standard library's threading server,
which starts in milliseconds in every lesson run. It routes each POST to the dialect whose
PATH it names, asks the brain for the reply, injects the configured fault, and paces the
streamed tokens (TUTORIAL_TOKEN_DELAY seconds apart). TUTORIAL_OFFLINE_IGNORE_TOOLS=1 and
TUTORIAL_OFFLINE_VARY=1 make it act like a weak real model: it answers without calling the
tools offered, and its answers vary from call to call (replies.py).
TUTORIAL_OFFLINE_NO_RESPONSES=1 serves Chat Completions only, as many OpenAI-compatible
servers do: /v1/responses answers 404.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import chat_completions, faults, responses
from .replies import plan_reply
from .streaming import Event

DEFAULT_TOKEN_DELAY = 0.03
POLL_INTERVAL = 0.02  # how often serve_forever looks for stop(): a test server stops at once
DIALECTS = {dialect.PATH: dialect for dialect in (chat_completions, responses)}


class FakeOpenAIServer(ThreadingHTTPServer):
    """OpenAI's API on 127.0.0.1. Use start() for a background thread, or serve_forever()."""

    daemon_threads = True
    # socketserver's default backlog is 5: a sixth simultaneous connect waits a second for
    # its SYN to be retried. A provider takes a hundred readers' calls at once.
    request_queue_size = 128

    def __init__(
        self,
        port: int = 0,
        *,
        token_delay: float | None = None,
        fault: str | None = None,
        unknown_model_status: int = 404,
        reply_delay: float = 0,
        hold_until: int = 0,
        responses_api: bool | None = None,
    ):
        super().__init__(("127.0.0.1", port), _Handler)
        if token_delay is None:
            setting = os.environ.get("TUTORIAL_TOKEN_DELAY", str(DEFAULT_TOKEN_DELAY))
            try:
                token_delay = float(setting)
            except ValueError:
                token_delay = -1.0
            if token_delay < 0:
                raise ValueError(f"TUTORIAL_TOKEN_DELAY={setting!r} must be a number of seconds")
        self.token_delay = token_delay
        if fault is None:
            fault = os.environ.get("TUTORIAL_OFFLINE_FAULT", "")
        self.fault = faults.check_fault(fault)
        self.unknown_model_status = unknown_model_status
        self.reply_delay = reply_delay  # extra seconds before each reply, so calls overlap
        # With hold_until=N, a reply is held only until N requests are in flight at once (at
        # most reply_delay), and no longer held once that has happened.
        self.hold_until = hold_until
        self.ignore_tools = os.environ.get("TUTORIAL_OFFLINE_IGNORE_TOOLS") == "1"
        self.vary = os.environ.get("TUTORIAL_OFFLINE_VARY") == "1"
        if responses_api is None:
            responses_api = os.environ.get("TUTORIAL_OFFLINE_NO_RESPONSES") != "1"
        self.dialects = {
            path: dialect
            for path, dialect in DIALECTS.items()
            if responses_api or dialect is not responses
        }
        self.stopping = threading.Event()
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self.request_count = 0  # model requests received, retries included
        self.routes = collections.Counter()  # the same, per API path
        self.in_flight = 0
        self.peak_in_flight = 0  # the most model requests being answered at one time
        self.arrived = threading.Condition(self.lock)  # notified as each request arrives

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def start(self) -> FakeOpenAIServer:
        threading.Thread(
            target=self.serve_forever, args=(POLL_INTERVAL,), name="fake-openai", daemon=True
        ).start()
        return self

    def __enter__(self) -> FakeOpenAIServer:
        """`with FakeOpenAIServer(...) as server:` serves in the background until the block ends."""
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up (the lesson exits, a timeout) is normal here, not a traceback."""
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            print(f"[fake-openai] request failed: {error!r}", file=sys.stderr)

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: don't delay
    server: FakeOpenAIServer

    def log_message(self, format, *args):  # keep the lesson output clean
        pass

    def do_GET(self):
        if self.path.rstrip("/") == "/v1/models":
            model = os.environ.get("OPENAI_MODEL", "gpt-6-luna")
            return self._json(
                200,
                {
                    "object": "list",
                    "data": [{"id": model, "object": "model", "created": 0, "owned_by": "offline"}],
                },
            )
        self._json(
            *faults.error_body(404, f"Invalid URL (GET {self.path})", "invalid_request_error")
        )

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        dialect = self.server.dialects.get(self.path.rstrip("/"))
        if dialect is None:
            return self._json(
                *faults.error_body(404, f"Invalid URL (POST {self.path})", "invalid_request_error")
            )
        try:
            request = json.loads(body)
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except ValueError:
            return self._json(
                *faults.error_body(
                    400,
                    "We could not parse the JSON body of your request.",
                    "invalid_request_error",
                )
            )
        with self.server.lock:
            self.server.request_count += 1
            self.server.routes[dialect.PATH] += 1
            attempt = self.server.request_count
            self.server.in_flight += 1
            self.server.peak_in_flight = max(self.server.peak_in_flight, self.server.in_flight)
            self.server.arrived.notify_all()
        try:
            self._answer(dialect, request, attempt)
        finally:
            with self.server.lock:
                self.server.in_flight -= 1

    def _hold(self) -> None:
        server = self.server
        if not server.hold_until:
            return time.sleep(server.reply_delay)
        with server.arrived:
            server.arrived.wait_for(
                lambda: server.peak_in_flight >= server.hold_until, server.reply_delay
            )

    def _answer(self, dialect, request: dict, attempt: int) -> None:
        fault = faults.fault_for_attempt(self.server.fault, attempt)
        streaming = bool(request.get("stream"))
        action = faults.before_answer(fault, streaming)
        if action == "silent":
            return self._go_silent()
        if action == "hang up":
            self.close_connection = True
            return
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        model = request.get("model")
        if failure := faults.http_error(fault, model, key, self.server.unknown_model_status):
            return self._json(*failure)
        if action == "malformed":
            return self._json(200, faults.MALFORMED_JSON)

        try:
            conversation = dialect.conversation(request)
        except (KeyError, TypeError, AttributeError) as error:  # a field missing or misshapen
            message = f"Invalid request body: {type(error).__name__} {error}"
            return self._json(*faults.error_body(400, message, "invalid_request_error"))
        self._hold()
        plan = plan_reply(
            conversation,
            ignore_tools=self.server.ignore_tools,
            variation=attempt if self.server.vary else 0,
        )
        reply_id = f"{dialect.ID_PREFIX}{next(self.server.ids)}"
        if streaming:
            self._stream(dialect.stream(request, plan, reply_id), fault)
        else:
            self._json(200, dialect.body(request, plan, reply_id))

    def _go_silent(self) -> None:
        """Send nothing more until the server stops (or 120 s pass), then hang up."""
        self.server.stopping.wait(120)
        self.close_connection = True

    def _json(self, status: int, payload: dict | str) -> None:
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in faults.retry_headers(status).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, events, fault: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in events:
            if event.token is not None:
                action = faults.during_stream(fault, event.token)
                if action == "hang up":
                    self.close_connection = True
                    return
                if action == "silent":
                    return self._go_silent()
                if action == "malformed":
                    self._write(Event(faults.MALFORMED_JSON).encode())
                time.sleep(self.server.token_delay)
            self._write(event.encode())
        self._write(b"")

    def _write(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()
