import re

from failures import online_env
from lessons import CALLBACK_ERROR, run_lesson, section

LESSON = "custom_callbacks.py"


def returned(part):
    return re.search(r"^invoke returned: (.*)$", part, re.MULTILINE).group(1)


def streamed_tokens(part):
    """The tokens on the line the handler prints, each followed by a |."""
    token_line = next(line for line in part.splitlines() if line.endswith("|"))
    return token_line.split("|")[:-1]


def test_streaming_tokens_arrive_one_by_one_and_add_up_to_the_message(output):
    part = section(output, 1)
    tokens = streamed_tokens(part)
    assert len([t for t in tokens if t]) > 1
    assert "".join(tokens) == returned(part)
    assert f"on_llm_new_token was called {len(tokens)} times" in part


def test_without_streaming_no_token_events_but_the_whole_message(output):
    part = section(output, 2)
    assert "on_llm_new_token was called 0 times" in part
    assert not any(line.endswith("|") for line in part.splitlines())
    assert returned(part) == returned(section(output, 1))


def test_a_streaming_consumer_makes_the_model_stream_without_streaming_true(output):
    part = section(output, 3)
    tokens = streamed_tokens(part)
    assert "".join(tokens) == returned(section(output, 2))
    assert f"on_llm_new_token was called {len(tokens)} times" in part
    assert f"stream() yielded {len(tokens)} chunks" in part


def test_error_hooks_fire_once_for_the_provoked_failure(output):
    part = section(output, 4)
    assert part.count("[on_llm_error]") == 1
    assert "[on_llm_error] OpenAIModelNotFoundError (HTTP 404)" in part
    assert part.count("[on_chain_error]") == 1
    assert part.index("[on_llm_error]") < part.index("Caught OpenAIModelNotFoundError")


def test_error_demo_still_shows_the_hooks_where_an_unknown_model_is_a_400(deepseek_like_server):
    result = run_lesson(LESSON, env=online_env(deepseek_like_server.base_url))
    assert result.returncode == 0, result.stdout
    assert not CALLBACK_ERROR.findall(result.stdout)
    part = section(result.stdout, 4)
    assert "[on_llm_error] OpenAIInvalidRequestError (HTTP 400)" in part
    assert part.count("[on_chain_error]") == 1
    assert "Caught OpenAIInvalidRequestError; the handler saw it first." in part
