"""HTTP errors from the provider end in one short message naming the variable to check,
exit status 1, no traceback and no API key. Rows of the README's troubleshooting table."""

import httpx
import openai
import pytest
from failures import PLANTED_KEY, assert_one_message, on_both_apis, online_env
from langchain_openai import ChatOpenAI
from lessons import offline_env, run_lesson

from tutorial_env.errors import explain


@on_both_apis
@pytest.mark.parametrize("faulty_server", ["401"], indirect=True)
def test_invalid_key_names_the_variable_and_masks_the_key(faulty_server, model):
    env = online_env(faulty_server.base_url, OPENAI_MODEL=model)
    result = run_lesson("callbacks_constructor.py", env=env)
    message = assert_one_message(result, 1, "HTTP 401", "OPENAI_API_KEY", "sk-...abcd")
    assert faulty_server.base_url in message


@pytest.mark.parametrize("faulty_server", ["401"], indirect=True)
def test_debug_shows_the_traceback_but_still_masks_the_key(faulty_server):
    env = online_env(faulty_server.base_url, TUTORIAL_DEBUG="1")
    result = run_lesson("callbacks_constructor.py", env=env)
    assert result.returncode == 1
    assert "Traceback" in result.stdout and "[error] HTTP 401" in result.stdout
    assert PLANTED_KEY[:6] not in result.stdout and "plantedSECRET" not in result.stdout


@pytest.mark.parametrize("faulty_server", ["404"], indirect=True)
def test_unknown_model_names_openai_model(faulty_server):
    env = online_env(faulty_server.base_url, OPENAI_MODEL="gpt-nonexistent")
    result = run_lesson("callbacks_constructor.py", env=env)
    assert_one_message(result, 1, "HTTP 404", "'gpt-nonexistent'", "OPENAI_MODEL")


def test_unknown_model_answered_with_400_model_not_exist_names_openai_model(
    deepseek_like_server,
):
    """DeepSeek answers an unknown model with HTTP 400 "Model Not Exist", not 404."""
    env = online_env(deepseek_like_server.base_url, OPENAI_MODEL="no-such-model")
    result = run_lesson("callbacks_constructor.py", env=env)
    assert_one_message(result, 1, "HTTP 400", "no model named 'no-such-model'", "OPENAI_MODEL")


def test_offline_fault_injection_reaches_the_built_in_model():
    env = offline_env(TUTORIAL_OFFLINE_FAULT="404")
    result = run_lesson("callbacks_constructor.py", env=env)
    assert_one_message(result, 1, "HTTP 404", f"'{env['OPENAI_MODEL']}'", "OPENAI_MODEL")


NO_RESPONSES_API = "this server has no Responses API (/v1/responses)"


def test_a_gpt_6_call_with_tools_on_a_server_without_responses_api_says_why(
    chat_completions_only_server,
):
    """Lesson 1 binds a tool in section 2: for a gpt-6 model ChatOpenAI then calls
    /v1/responses, which a Chat Completions-only server answers with 404 "Invalid URL"."""
    env = online_env(chat_completions_only_server.base_url, OPENAI_MODEL="gpt-6-luna")
    result = run_lesson("callbacks_runtime.py", env=env)
    assert "== 1." in result.stdout  # section 1, without tools, used Chat Completions
    message = assert_one_message(
        result,
        1,
        f"HTTP 404 from {chat_completions_only_server.base_url}/responses: {NO_RESPONSES_API}",
        "for 'gpt-6-luna' because the call carries tools",
        "OPENAI_MODEL",
        "use_responses_api=False",
    )
    assert "no model named" not in message


def test_a_model_always_sent_to_responses_api_says_it_is_the_name(chat_completions_only_server):
    """ChatOpenAI sends gpt-5.6-sol to /v1/responses even without tools."""
    env = online_env(chat_completions_only_server.base_url, OPENAI_MODEL="gpt-5.6-sol")
    result = run_lesson("callbacks_constructor.py", env=env)
    message = assert_one_message(
        result, 1, "HTTP 404", NO_RESPONSES_API, "for 'gpt-5.6-sol' because of the model name"
    )
    assert "no model named" not in message and "tools" not in message


def test_offline_model_without_responses_api_shows_the_same_message():
    env = offline_env(TUTORIAL_OFFLINE_NO_RESPONSES="1", OPENAI_MODEL="gpt-6-luna")
    result = run_lesson("callbacks_runtime.py", env=env)
    assert_one_message(result, 1, "HTTP 404", NO_RESPONSES_API, "because the call carries tools")


def test_an_unknown_model_on_responses_api_still_names_openai_model(fake_server):
    """OpenAI answers an unknown model on /v1/responses with 404 model_not_found: that is
    "no model named", not a missing Responses API."""
    llm = ChatOpenAI(
        model="no-such-model",
        use_responses_api=True,
        base_url=fake_server.base_url,
        api_key=PLANTED_KEY,
        max_retries=0,
    )
    with pytest.raises(openai.NotFoundError) as caught:
        llm.invoke("Hi")
    assert str(caught.value.request.url).endswith("/v1/responses")
    status, message = explain(caught.value)
    assert status == 1
    assert "HTTP 404" in message and "no model named 'no-such-model'" in message, message
    assert NO_RESPONSES_API not in message and PLANTED_KEY not in message


@on_both_apis
@pytest.mark.parametrize(
    ("faulty_server", "status"),
    [("429", "HTTP 429"), ("500", "HTTP 500")],
    indirect=["faulty_server"],
)
def test_rate_limit_and_server_error_are_retried_then_explained(faulty_server, status, model):
    env = online_env(faulty_server.base_url, OPENAI_MODEL=model)
    result = run_lesson("callbacks_constructor.py", env=env)
    assert_one_message(result, 1, status, "after the SDK's retries")
    assert faulty_server.request_count == 3  # the first try and the SDK's two retries


@on_both_apis
@pytest.mark.parametrize("faulty_server", ["429-once"], indirect=True)
def test_a_429_that_clears_on_retry_completes_normally(faulty_server, model):
    env = online_env(faulty_server.base_url, OPENAI_MODEL=model)
    result = run_lesson("callbacks_constructor.py", env=env)
    assert result.returncode == 0, result.stdout
    assert "[error]" not in result.stdout and "Answer: 2 + 2 = 4." in result.stdout
    assert faulty_server.request_count == 3  # two model calls, the first one retried once


@on_both_apis
@pytest.mark.parametrize("faulty_server", ["401"], indirect=True)
def test_a_401_inside_the_agent_loop_ends_in_one_message(faulty_server, model):
    env = online_env(faulty_server.base_url, OPENAI_MODEL=model)
    result = run_lesson("agent_callbacks.py", env=env)
    assert_one_message(result, 1, "HTTP 401", "OPENAI_API_KEY", "sk-...abcd")


CONTEXT_TOO_LONG = "the conversation is longer than the model's context window"


@on_both_apis
@pytest.mark.parametrize("faulty_server", ["context-length"], indirect=True)
def test_a_conversation_too_long_for_the_context_gets_its_own_hint(faulty_server, model):
    env = online_env(faulty_server.base_url, OPENAI_MODEL=model)
    result = run_lesson("callbacks_constructor.py", env=env)
    message = assert_one_message(result, 1, "HTTP 400", CONTEXT_TOO_LONG, "Shorten it")
    assert "Check OPENAI_MODEL" not in message


@pytest.mark.parametrize(
    "wording",
    [
        "This model's maximum context length is 8192 tokens. However, you requested 9000 "
        "tokens. Please reduce the length of the messages.",  # OpenAI, vLLM
        "the request exceeds the available context size, try increasing it",  # llama.cpp
        "input length exceeds the context length",  # Ollama
    ],
)
def test_each_servers_wording_of_a_too_long_request_gets_the_hint(wording):
    request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    response = httpx.Response(400, request=request)
    error = openai.BadRequestError(wording, response=response, body={"message": wording})
    status, message = explain(error)
    assert status == 1 and CONTEXT_TOO_LONG in message
