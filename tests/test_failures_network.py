"""Network, stream, configuration and Ctrl-C failures: one short message, the right exit
status, no traceback. Rows of the README's troubleshooting table."""

import signal
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
from failures import API_PATHS, assert_one_message, on_both_apis, online_env
from lessons import (
    ForkedProcess,
    check_clean_run,
    free_port,
    offline_env,
    read_until,
    run_lesson,
)

from tutorial_env.offline import FakeOpenAIServer

# The runs that mostly wait, on the SDK's retry backoff (about 1.5 s) or a timeout: name ->
# (lesson, the offline model's fault or None for a closed port, extra settings). The `runs`
# fixture starts every one of them at once, each against its own server, on both APIs.
SLOW_RUNS = {
    "refused": ("callbacks_constructor.py", None, {}),
    "timeout": ("callbacks_constructor.py", "timeout", {"TUTORIAL_TIMEOUT": "0.1"}),
    "hang-up": ("callbacks_constructor.py", "disconnect", {}),
    "stall": ("callbacks_async.py", "stall", {"LANGCHAIN_OPENAI_STREAM_CHUNK_TIMEOUT_S": "0.5"}),
    "agent-hang-up": ("agent_callbacks.py", "disconnect", {}),
}


@dataclass
class Run:
    started: Future
    url: str
    server: FakeOpenAIServer | None

    @property
    def result(self) -> subprocess.CompletedProcess:
        return self.started.result()


@pytest.fixture(scope="module")
def runs():
    """(name, model) -> its Run, for every SLOW_RUNS entry on both APIs."""
    with ExitStack() as servers, ThreadPoolExecutor(2 * len(SLOW_RUNS)) as pool:
        started = {}
        for name, (lesson, fault, settings) in SLOW_RUNS.items():
            for model in API_PATHS:
                server = fault and servers.enter_context(
                    FakeOpenAIServer(token_delay=0, fault=fault)
                )
                url = server.base_url if server else f"http://127.0.0.1:{free_port()}/v1"
                env = online_env(url, OPENAI_MODEL=model, **settings)
                started[name, model] = Run(pool.submit(run_lesson, lesson, env=env), url, server)
        yield started


@on_both_apis
def test_connection_refused_names_the_url(runs, model):
    run = runs["refused", model]
    assert_one_message(
        run.result,
        1,
        f"Could not connect to {run.url}{API_PATHS[model]}",
        "connection refused",
        "OPENAI_BASE_URL",
    )


@pytest.mark.parametrize(
    "url", ["localhost:11434/v1", "http//127.0.0.1:8000/v1", "http://localhost:port/v1"]
)
def test_malformed_base_url_is_a_config_error(url):
    result = run_lesson("callbacks_constructor.py", env=online_env(url))
    assert_one_message(result, 2, "OPENAI_BASE_URL", repr(url))


def test_bad_tutorial_setting_is_a_config_error():
    result = run_lesson("callbacks_constructor.py", env=offline_env(TUTORIAL_TIMEOUT="soon"))
    assert_one_message(result, 2, "TUTORIAL_TIMEOUT")


@on_both_apis
def test_timeout(runs, model):
    run = runs["timeout", model]
    assert_one_message(run.result, 1, "timeout", "OPENAI_BASE_URL", "TUTORIAL_TIMEOUT")
    assert run.server.request_count == 3  # TUTORIAL_TIMEOUT is per attempt


@on_both_apis
def test_a_hang_up_before_a_non_streamed_answer_says_the_connection_dropped(runs, model):
    message = assert_one_message(
        runs["hang-up", model].result, 1, "dropped before any answer came back"
    )
    assert "Could not connect" not in message and "Is the server running" not in message


@on_both_apis
def test_a_stalled_async_stream_ends_after_stream_chunk_timeout(runs, model):
    result = runs["stall", model].result
    assert_one_message(result, 1, "went silent", "no chunk for 0.5 s", "stream_chunk_timeout")


@on_both_apis
@pytest.mark.parametrize(
    ("faulty_server", "needle"),
    [
        ("disconnect", "dropped in the middle of the answer"),
        ("malformed", "not valid JSON"),
    ],
    indirect=["faulty_server"],
)
def test_broken_stream_is_explained_and_the_error_hook_fires(faulty_server, needle, model):
    env = online_env(faulty_server.base_url, OPENAI_MODEL=model)
    result = run_lesson("custom_callbacks.py", env=env)
    assert_one_message(result, 1, needle, "OPENAI_BASE_URL")
    assert result.stdout.count("[on_llm_error]") == 1


def test_ctrl_c_while_streaming_exits_130_cleanly():
    lesson = ForkedProcess("custom_callbacks.py", [], offline_env(TUTORIAL_TOKEN_DELAY="0.2"))
    try:
        seen = read_until(lesson, lambda text: text.count("|") >= 2)
        assert seen.count("|") >= 2, f"no two streamed tokens arrived:\n{seen}"
        lesson.send_signal(signal.SIGINT)
        output = seen + read_until(lesson, lambda text: False, timeout=10)
        assert lesson.wait(timeout=10) == 130
    finally:
        lesson.kill()
    assert output.endswith("\nInterrupted.\n")
    assert "Traceback" not in output and "[on_llm_error] KeyboardInterrupt" in output


def test_offline_run_still_clean_with_the_mechanism_installed():
    check_clean_run(run_lesson("callbacks_constructor.py"), "callbacks_constructor.py")


@on_both_apis
def test_a_dropped_connection_inside_the_agent_loop_ends_in_one_message(runs, model):
    result = runs["agent-hang-up", model].result
    assert_one_message(result, 1, "dropped before any answer came back", "OPENAI_BASE_URL")
