"""The offline model's Chat Completions dialect (POST /v1/chat/completions), driven through the
real openai client as ChatOpenAI drives it. Its Responses dialect is tested in
tests/test_offline_responses.py."""

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

from tutorial_env.offline import FakeOpenAIServer, prompt_tokens, tokenize

ADD_TOOL = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two integers.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
}
QUESTION = [{"role": "user", "content": "What is 1 + 2?"}]


@pytest.fixture(scope="module")
def server():
    with FakeOpenAIServer(token_delay=0, fault="") as server:
        yield server


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)


def chat(client, content, **kwargs):
    messages = [{"role": "user", "content": content}]
    return client.chat.completions.create(model="gpt-4o-mini", messages=messages, **kwargs)


def test_arithmetic_joke_and_default_replies(client):
    assert chat(client, "What is 1 + 2?").choices[0].message.content == "1 + 2 = 3."
    assert chat(client, "What is 6 * 7?").choices[0].message.content == "6 * 7 = 42."
    joke = chat(client, "Tell me a joke about cats").choices[0].message.content
    assert "cats" in joke and joke.endswith("!")
    other = chat(client, "How are you?").choices[0].message.content
    assert '"How are you?"' in other


def test_reply_echoes_model_and_reports_usage(client):
    reply = client.chat.completions.create(model="qwen-plus", messages=QUESTION)
    assert reply.model == "qwen-plus"
    assert reply.choices[0].finish_reason == "stop"
    content = reply.choices[0].message.content
    assert (
        reply.usage.prompt_tokens == prompt_tokens([QUESTION[0]["content"]]) == 3 + (3 + 6)
    )  # 6 tokens of text
    assert reply.usage.completion_tokens == len(tokenize(content))
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_streaming_sends_one_token_per_chunk_and_no_usage_unless_asked(client):
    whole = chat(client, "Tell me a joke").choices[0].message.content
    chunks = list(chat(client, "Tell me a joke", stream=True))
    tokens = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert len(tokens) == len(tokenize(whole)) > 5
    assert "".join(tokens) == whole
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)


def test_streaming_usage_only_with_include_usage(client):
    whole = chat(client, "Tell me a joke")
    chunks = list(
        chat(client, "Tell me a joke", stream=True, stream_options={"include_usage": True})
    )
    assert chunks[-1].choices == []
    assert chunks[-1].usage.total_tokens == whole.usage.total_tokens
    assert all(c.usage is None for c in chunks[:-1])


@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens"])
def test_token_limit_cuts_the_reply(client, param):
    reply = chat(client, "Tell me a joke", **{param: 3})
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == 3
    assert reply.choices[0].message.content == "Why do programmers"


def test_tool_call_round_trip(client):
    messages = [{"role": "user", "content": "What is 2 + 3? Use the add tool."}]
    first = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[ADD_TOOL])
    assert first.choices[0].finish_reason == "tool_calls"
    call = first.choices[0].message.tool_calls[0]
    assert call.function.name == "add"
    assert json.loads(call.function.arguments) == {"a": 2, "b": 3}
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "5"},
    ]
    second = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=[ADD_TOOL]
    )
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "The add tool returned 5, so the answer is 5."


def test_streamed_tool_call(client):
    chunks = list(chat(client, "What is 2 + 3?", tools=[ADD_TOOL], stream=True))
    calls = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or []]
    assert [json.loads(tc.function.arguments) for tc in calls] == [{"a": 2, "b": 3}]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_tools_offered_but_not_needed_gives_text(client):
    reply = chat(client, "Hello there", tools=[ADD_TOOL])
    assert reply.choices[0].message.tool_calls is None
    assert "Hello there" in reply.choices[0].message.content


def test_malformed_json_gets_openai_shaped_400(server):
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400
    error = json.loads(caught.value.read())["error"]
    assert error["type"] == "invalid_request_error" and "parse the JSON" in error["message"]


@pytest.mark.parametrize("path", ["/chat/completions", "/responses"])
def test_a_body_with_a_misshapen_field_gets_a_400_not_a_dropped_connection(server, path):
    body = {"model": "gpt-4o-mini", "messages": [], "input": "hi", "tools": [{"type": "function"}]}
    request = urllib.request.Request(
        f"{server.base_url}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400
    error = json.loads(caught.value.read())["error"]
    assert error["type"] == "invalid_request_error" and "Invalid request body" in error["message"]


def test_unknown_model_gets_404(client):
    with pytest.raises(openai.NotFoundError, match="no-such-model"):
        client.chat.completions.create(model="no-such-model", messages=QUESTION)


@pytest.mark.parametrize(
    "fault, error",
    [
        ("401", openai.AuthenticationError),
        ("404", openai.NotFoundError),
        ("429", openai.RateLimitError),
        ("500", openai.InternalServerError),
        ("timeout", openai.APITimeoutError),
        ("disconnect", openai.APIConnectionError),
    ],
)
def test_injected_faults(fault, error):
    with FakeOpenAIServer(token_delay=0, fault=fault) as server:
        client = openai.OpenAI(
            base_url=server.base_url, api_key="sk-test", max_retries=0, timeout=0.5
        )
        with pytest.raises(error):
            client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)


def test_disconnect_mid_stream_breaks_the_stream():
    with FakeOpenAIServer(token_delay=0, fault="disconnect") as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
        received = []
        with pytest.raises(openai.APIConnectionError):
            for chunk in chat(client, "Tell me a joke", stream=True):
                received.append(chunk)
        assert 0 < len(received) < len(tokenize("Why do programmers prefer dark mode?"))


def test_unknown_fault_is_refused():
    with pytest.raises(ValueError, match="TUTORIAL_OFFLINE_FAULT must be one of"):
        FakeOpenAIServer(fault="418")


@pytest.mark.parametrize(
    "text", ["What is 1 + 2?", "  spaced  out ", "事件の容疑者は誰?", "", "a-b"]
)
def test_tokenize_is_lossless(text):
    assert "".join(tokenize(text)) == text


def test_hold_until_holds_a_lone_reply_and_frees_replies_once_enough_are_in_flight():
    """Lesson 8's gather check relies on it: a lone call waits the whole reply_delay, two
    calls in flight at once are answered as soon as the second arrives, and after that no
    reply is held."""

    def seconds_to_answer(client):
        started = time.monotonic()
        assert chat(client, "What is 1 + 2?").choices[0].message.content == "1 + 2 = 3."
        return time.monotonic() - started

    with FakeOpenAIServer(token_delay=0, fault="", reply_delay=1.5, hold_until=2) as held:
        client = openai.OpenAI(base_url=held.base_url, api_key="sk-test", max_retries=0)
        assert seconds_to_answer(client) >= 1.5
        with ThreadPoolExecutor(2) as pool:
            both = list(pool.map(seconds_to_answer, [client, client]))
        assert held.peak_in_flight == 2 and max(both) < 1.0
        assert seconds_to_answer(client) < 1.0
