"""Lesson 12 over plain HTTP: the demo, many readers at once, readers who leave, bad input
and provider failures."""

import asyncio
import re
import signal
import time

import httpx
import pytest
from lessons import (
    callback_errors,
    offline_env,
    run_lesson,
    section,
)
from web import KEY, PAGE, CraftedServer, ask_all, web_server, within

from tutorial_env import web_demo
from tutorial_env.offline import FakeOpenAIServer, text_reply, tokenize
from tutorial_env.sse_reader import read_answer

LESSON = "web_streaming.py"
MAX_QUESTION = 500
# The headers every stream carries: no cache stores it, and nginx passes each token on.
STREAM_HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no"}


@pytest.fixture(scope="module")
def server():
    # 50 ms a token: a long answer takes over a second, so a reader who leaves after two
    # tokens is noticed before the answer could end, even on a busy machine
    with web_server(token_delay=0.05) as server:
        yield server


def test_the_demo_gives_each_reader_its_own_answer_then_shows_the_traps(output):
    first = section(output, 1)
    for who, question in (("A", web_demo.JOKE), ("B", web_demo.SUM)):
        reply = text_reply(question)  # one token event per token of the answer: no empty ones
        assert f"{who} read {reply!r} in {len(tokenize(reply))} tokens" in first
    assert first.count("the tokens add up to the answer in `done`: True") == 2
    assert (
        first.count("callback events: on_chat_model_start ChatOpenAI, on_llm_end ChatOpenAI") == 2
    )
    assert "content-type: text/event-stream" in first
    for header, value in STREAM_HEADERS.items():
        assert f"  {header}: {value}\n" in first
    assert section(output, 2).count("shows tokens of the other reader's answer: True") == 2
    assert "client left after N tokens; model call cancelled" in section(output, 3)
    assert section(output, 4).count("HTTP 400") == 2


def test_twenty_readers_at_once_each_receive_exactly_their_own_answer(server):
    questions = [f"What is {n} * 7?" for n in range(20)]
    server.fake.peak_in_flight = 0
    answers = ask_all(server, questions)
    assert server.fake.peak_in_flight >= 5  # they really streamed at the same time
    for question, got in zip(questions, answers, strict=True):
        assert got["status"] == 200 and got["error"] is None
        assert "".join(got["tokens"]) == got["done"]["answer"] == text_reply(question)
        assert "" not in got["tokens"]  # the handler drops the chunks without text
        assert got["events"][-1] == "done" and got["events"].count("done") == 1
        assert got["hooks"] == ["on_chat_model_start ChatOpenAI", "on_llm_end ChatOpenAI"]
        assert got["headers"]["content-type"].startswith("text/event-stream")
        assert {name: got["headers"].get(name) for name in STREAM_HEADERS} == STREAM_HEADERS


def test_readers_who_leave_cancel_their_model_calls_and_the_server_serves_on(server):
    long_question = "Tell me everything about callbacks " + "and tracers " * 8
    ask_all(server, [long_question] * 10, leave_after=2)
    printed = server.output(lambda text: text.count("model call cancelled") >= 10, timeout=10)
    left = re.findall(r"client left after (\d+) tokens; model call cancelled", printed)
    assert len(left) >= 10 and all(int(n) >= 2 for n in left)
    (after,) = ask_all(server, ["What is 2 * 3?"])
    assert after["done"] == {"answer": text_reply("What is 2 * 3?")}
    assert not callback_errors(server.output(), LESSON)


def test_a_reader_who_leaves_stops_the_provider_long_before_the_answer_would_end():
    """The cancel reaches the provider: the offline model stops streaming at once (the printed
    line alone would not show it; a shielded or uncancelled call prints it too)."""
    question = "Tell me everything about callbacks " + "and tracers " * 8
    delay = 0.1  # the answer takes len(tokens) * delay to stream
    answer_takes = len(tokenize(text_reply(question))) * delay
    assert answer_takes > 2
    with web_server(token_delay=delay) as slow:
        started = time.monotonic()
        ask_all(slow, [question] * 3, leave_after=2)
        left = time.monotonic()
        while slow.fake.in_flight and time.monotonic() - left < answer_takes:
            time.sleep(0.01)
        stopped = time.monotonic()
        assert slow.fake.in_flight == 0, "the provider was still streaming to nobody"
        assert stopped - left < 0.5  # the provider stopped as the readers left
        # ...and they left well before the answer would have ended, even counted from before
        # they connected: a server that buffered the answer would have let them go only after
        # all of it (a busy machine takes up to about 1.4 s to get them two tokens).
        assert stopped - started < answer_takes
        assert slow.fake.request_count == 3  # and nothing asked again
        printed = slow.output(lambda text: text.count("model call cancelled") == 3, timeout=5)
        assert printed.count("client left after 2 tokens; model call cancelled") == 3


@pytest.mark.parametrize("question", ["", "   ", "?" * (MAX_QUESTION + 1)])
def test_bad_questions_get_a_400_with_a_json_message_and_no_model_call(server, question):
    calls = server.fake.request_count
    response = httpx.get(f"{server.url}/stream", params={"question": question}, timeout=10)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]
    assert server.fake.request_count == calls


def test_the_page_is_served_at_the_root(server):
    response = httpx.get(server.url + "/", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.content == PAGE.read_bytes()  # the page the browser tests drive


@pytest.mark.parametrize("fault", ["401", "500", "disconnect"])
def test_a_provider_failure_is_one_error_event_and_the_server_serves_on(server, fault):
    server.fake.fault = fault
    try:
        (got,) = ask_all(server, ["What is 6 * 7?"])
    finally:
        server.fake.fault = ""
    assert got["done"] is None and got["hooks"][-1] == "on_llm_error ChatOpenAI"
    assert got["events"].count("error") == 1 and got["events"][-1] == "error"
    message = got["error"]["message"]
    assert "\n" not in message and KEY not in message and KEY not in server.output()
    (after,) = ask_all(server, ["What is 6 * 7?"])  # the next request is served as usual
    assert after["done"] == {"answer": text_reply("What is 6 * 7?")}
    # The same words lesson 4 prints on the command line for this failure.
    with FakeOpenAIServer(token_delay=0, fault=fault) as failing:
        env = offline_env(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=failing.base_url)
        printed = run_lesson("custom_callbacks.py", env=env).stdout
    assert f"[error] {message.replace(server.fake.base_url, failing.base_url)} (" in printed


def test_a_port_in_use_gets_one_clear_line_and_a_non_zero_exit(server):
    port = int(server.url.rsplit(":", 1)[1])
    result = run_lesson(LESSON, args=["--port", str(port)])
    assert result.returncode != 0
    lines = [line for line in result.stdout.splitlines() if not line.startswith("[offline]")]
    assert lines == [
        f"[config] cannot listen on 127.0.0.1:{port} (Address already in use). "
        f"Try another port: python web_streaming.py --port {port + 1}"
    ]


def test_host_chooses_the_address_and_ctrl_c_stops_the_server_without_a_traceback():
    with web_server(HOST="0.0.0.0") as other:
        assert "http://0.0.0.0:" in other.output()
        assert httpx.get(other.url + "/", timeout=10).status_code == 200
        other.process.send_signal(signal.SIGINT)
        assert other.process.wait(timeout=10) == 130
        printed = other.output()
    assert "Traceback" not in printed and "Interrupted." in printed


def test_ctrl_c_ends_an_open_stream_with_one_error_event_and_no_traceback():
    with web_server(token_delay=0.3) as slow:

        async def read_then_stop():
            first = asyncio.Event()
            async with httpx.AsyncClient(base_url=slow.url, timeout=30) as client:
                reader = asyncio.create_task(
                    read_answer(client, "Tell me a long story about servers", first_token=first)
                )
                await within(10, first.wait(), "the first token")
                slow.process.send_signal(signal.SIGINT)
                return await within(10, reader, "the stream's end after Ctrl-C")

        got = asyncio.run(read_then_stop())
        assert slow.process.wait(timeout=10) == 130
        printed = slow.output()
    assert got["events"][-1] == "error" and got["events"].count("error") == 1
    assert got["error"] == {"message": "The server stopped before the answer was complete."}
    assert "Traceback" not in printed
    assert re.search(r"the server stopped after \d+ tokens; model call cancelled", printed)


# The demo's own checks, fed crafted streams: each can print False, and True.


def crafted_answers(path, question):
    """A's tokens add up to its `done` answer; B's do not."""
    if question == web_demo.SUM:
        return [("token", "6 * 7 = "), ("token", "41."), ("done", {"answer": "6 * 7 = 42."})]
    return [("token", "A whole"), ("token", " answer."), ("done", {"answer": "A whole answer."})]


@pytest.mark.parametrize("section_of_demo", ["two_readers", "shared_model_trap"])
def test_the_demos_comparisons_can_print_false(section_of_demo, capsys):
    with CraftedServer(crafted_answers) as server:

        async def run():
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
                await getattr(web_demo, section_of_demo)(client)

        asyncio.run(run())
    printed = capsys.readouterr().out
    if section_of_demo == "two_readers":
        assert [line for line in printed.splitlines() if "add up" in line] == [
            "  the tokens add up to the answer in `done`: True",  # A's
            "  the tokens add up to the answer in `done`: False",  # B's
        ]
        assert "  cache-control: (not sent)" in printed
    else:
        assert "A's page shows tokens of the other reader's answer: False" in printed
        assert "B's page shows tokens of the other reader's answer: True" in printed


@pytest.mark.parametrize(
    ("events", "line"),
    [
        ([("error", {"message": "The model call failed."})], "[error] The model call failed."),
        ([], "[error] The demo waited 0.5 s for the first token of A's answer; stopping."),
    ],
    ids=["error-before-any-token", "silence"],
)
def test_the_demo_ends_in_one_line_when_an_answer_never_starts(monkeypatch, events, line):
    """Section 2 waits for A's first token before B asks: an error or silence ends it."""
    monkeypatch.setattr(web_demo, "ANSWER_WAIT", 0.5)
    with CraftedServer(lambda path, question: events, hold_open=not events) as server:

        async def run():
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
                await within(5, web_demo.shared_model_trap(client), "the demo's section 2")

        with pytest.raises(SystemExit) as ended:
            asyncio.run(run())
    assert str(ended.value) == line


def test_the_demo_ends_in_one_line_when_the_server_never_notices_a_reader_leave(monkeypatch):
    monkeypatch.setattr(web_demo, "LEFT_WAIT", 0.3)
    tokens = [("token", f" {n}") for n in range(5)] + [("done", {"answer": " 0 1 2 3 4"})]
    with CraftedServer(lambda path, question: tokens) as server:

        async def run():
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
                leaves = web_demo.reader_leaves(client, endings=[])  # nobody records the end
                await within(5, leaves, "the demo's section 3")

        with pytest.raises(SystemExit) as ended:
            asyncio.run(run())
    assert str(ended.value) == (
        "[error] The demo waited 0.3 s for the server to notice that the reader left; stopping."
    )
