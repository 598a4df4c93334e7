"""Lesson 11 over plain HTTP: the demo, many readers at once, readers who leave, bad input
and provider failures."""

import asyncio
import re
import signal

import httpx
import pytest
from lessons import (
    callback_errors,
    check_clean_run,
    offline_env,
    run_lesson,
    section,
)
from web import KEY, ask_all, web_server

from tutorial_env.offline import FakeOpenAIServer, text_reply
from tutorial_env.sse_reader import read_answer

LESSON = "web_streaming.py"
MAX_QUESTION = 500


@pytest.fixture(scope="module")
def output(model):
    return check_clean_run(run_lesson(LESSON, model=model), LESSON, model)


@pytest.fixture(scope="module")
def server():
    with web_server() as server:
        yield server


def test_the_demo_gives_each_reader_its_own_answer_then_shows_the_traps(output):
    first = section(output, 1)
    joke = text_reply("Tell me a joke about owls")
    assert f"A read {joke!r}" in first and f"B read {text_reply('What is 6 * 7?')!r}" in first
    assert first.count("the tokens add up to the answer in `done`: True") == 2
    assert (
        first.count("callback events: on_chat_model_start ChatOpenAI, on_llm_end ChatOpenAI") == 2
    )
    for header in ("cache-control: no-cache", "x-accel-buffering: no", "text/event-stream"):
        assert header in first
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
        assert got["events"][-1] == "done" and got["events"].count("done") == 1
        assert got["hooks"] == ["on_chat_model_start ChatOpenAI", "on_llm_end ChatOpenAI"]
        assert got["headers"]["content-type"].startswith("text/event-stream")


def test_readers_who_leave_cancel_their_model_calls_and_the_server_serves_on(server):
    long_question = "Tell me everything about callbacks " + "and tracers " * 8
    ask_all(server, [long_question] * 10, leave_after=2)
    printed = server.output(lambda text: text.count("model call cancelled") >= 10, timeout=10)
    left = re.findall(r"client left after (\d+) tokens; model call cancelled", printed)
    assert len(left) >= 10 and all(int(n) >= 2 for n in left)
    (after,) = ask_all(server, ["What is 2 * 3?"])
    assert after["done"] == {"answer": text_reply("What is 2 * 3?")}
    assert not callback_errors(server.output(), LESSON)


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
    assert response.status_code == 200 and "new EventSource(" in response.text


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
                await first.wait()
                slow.process.send_signal(signal.SIGINT)
                return await reader

        got = asyncio.run(read_then_stop())
        assert slow.process.wait(timeout=10) == 130
        printed = slow.output()
    assert got["events"][-1] == "error" and got["events"].count("error") == 1
    assert got["error"] == {"message": "The server stopped before the answer was complete."}
    assert "Traceback" not in printed
    assert re.search(r"the server stopped after \d+ tokens; model call cancelled", printed)
