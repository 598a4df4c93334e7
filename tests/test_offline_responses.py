"""The offline model's Responses dialect (POST /v1/responses): its bodies and stream events
checked against the openai SDK's own types, the SDK and ChatOpenAI reading them, the same
answers and token counts as the Chat Completions dialect (tests/test_offline_chat_completions.py),
the same faults, and a server that serves Chat Completions only."""

import json
import re

import httpx
import openai
import pytest
from langchain_openai import ChatOpenAI
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter, ValidationError

from tutorial_env.errors import explain
from tutorial_env.offline import FAULTS, FakeOpenAIServer, tokenize
from tutorial_env.offline.replies import REASONING_TOKENS

# Validated with strict=True: no coercion, and every field the SDK's types require.
RESPONSE = TypeAdapter(Response)
STREAM_EVENT = TypeAdapter(ResponseStreamEvent)
WAIT = 10  # seconds any one request may take, so no test can hang on the server
FAULT_TIMEOUT = 0.3  # ChatOpenAI's timeout when a fault makes the server go silent
PLAIN_MODEL = "gpt-4.1"  # no reasoning
REASONING_MODELS = ["gpt-6-luna", "gpt-5.6-sol"]
CHAT_COMPLETIONS_MODEL = "gpt-4o-mini"  # ChatOpenAI sends it to /v1/chat/completions
RESPONSES_MODEL = "gpt-5.6-sol"  # ChatOpenAI always sends it to /v1/responses
QUESTION = "What is 1 + 2?"
TOOL_QUESTION = "What is 2 + 3?"
ADD_TOOL = {  # the Responses API's flat function tool
    "type": "function",
    "name": "add",
    "description": "Add two integers.",
    "parameters": {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
}
CHAT_ADD_TOOL = {  # the same tool as Chat Completions nests it
    "type": "function",
    "function": {key: ADD_TOOL[key] for key in ("name", "description", "parameters")},
}
OFFLINE_URL = re.compile(r"http://127\.0\.0\.1:\d+/v1/(chat/completions|responses)")
REASONING_ITEM_EVENTS = ["response.output_item.added", "response.output_item.done"]


@pytest.fixture(scope="module")
def server():
    with FakeOpenAIServer(token_delay=0, fault="", responses_api=True) as server:
        yield server


@pytest.fixture(params=[False, True], ids=["lenient_sdk", "strict_sdk"])
def client(server, request):
    return openai.OpenAI(
        base_url=server.base_url,
        api_key="sk-test",
        max_retries=0,
        timeout=WAIT,
        _strict_response_validation=request.param,
    )


def ask(model: str = PLAIN_MODEL, question: str = QUESTION, **fields) -> dict:
    """A Responses request body: one user message, plus any other fields."""
    return {"model": model, "input": [{"role": "user", "content": question}], **fields}


def post(server, path: str, request: dict) -> dict:
    """The raw JSON answer to a non-streamed request."""
    reply = httpx.post(f"{server.base_url}{path}", json=request, timeout=WAIT)
    assert reply.status_code == 200, reply.text
    return reply.json()


def respond(server, request: dict) -> dict:
    """A non-streamed /v1/responses body, checked against the SDK's Response type."""
    body = post(server, "/responses", request)
    RESPONSE.validate_python(body, strict=True)
    return body


def raw_stream(server, request: dict) -> list[tuple[str | None, dict]]:
    """A streamed /v1/responses answer as (the `event:` line, the data) per SSE event."""
    url = f"{server.base_url}/responses"
    with httpx.stream("POST", url, json={**request, "stream": True}, timeout=WAIT) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        text = reply.read().decode()
    events = []
    for block in filter(str.strip, text.split("\n\n")):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields.get("event"), json.loads(fields["data"])))
    return events


def stream(server, request: dict) -> list[dict]:
    """A streamed answer's events, each checked against the SDK's ResponseStreamEvent type."""
    events = [data for _, data in raw_stream(server, request)]
    for event in events:
        STREAM_EVENT.validate_python(event, strict=True)
    return events


def types(events: list[dict]) -> list[str]:
    return [event["type"] for event in events]


def answer(body: dict) -> str:
    """The text of a Response body's messages, as the SDK's output_text joins it."""
    return "".join(
        part["text"]
        for item in body["output"]
        if item["type"] == "message"
        for part in item["content"]
        if part["type"] == "output_text"
    )


def deltas(events: list[dict]) -> str:
    return "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")


def without_ids(output: list[dict]) -> list[dict]:
    """Output items with their per-response ids dropped, to compare two responses."""
    return [{k: v for k, v in item.items() if k != "id"} for item in output]


def chat(server, request: dict) -> dict:
    """The answer to the same question (and tool) on Chat Completions, as raw JSON."""
    messages = [{"role": "user", "content": request["input"][0]["content"]}]
    fields = {"model": request["model"], "messages": messages}
    if "tools" in request:
        fields["tools"] = [CHAT_ADD_TOOL]
    return post(server, "/chat/completions", fields)


def responses_tokens(body: dict) -> tuple[int, int, int, int]:
    """(input, output, reasoning, total) tokens of a Responses body."""
    usage = body["usage"]
    reasoning = usage["output_tokens_details"]["reasoning_tokens"]
    return usage["input_tokens"], usage["output_tokens"], reasoning, usage["total_tokens"]


def chat_tokens(body: dict) -> tuple[int, int, int, int]:
    """(input, output, reasoning, total) tokens of a Chat Completions body."""
    usage = body["usage"]
    reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
    return usage["prompt_tokens"], usage["completion_tokens"], reasoning, usage["total_tokens"]


def langchain_tokens(message) -> tuple[int, int, int, int]:
    """(input, output, reasoning, total) tokens of a ChatOpenAI message's usage_metadata."""
    usage = message.usage_metadata
    reasoning = usage["output_token_details"]["reasoning"]
    return usage["input_tokens"], usage["output_tokens"], reasoning, usage["total_tokens"]


def function_call(body: dict) -> dict:
    [call] = [item for item in body["output"] if item["type"] == "function_call"]
    return call


def fault_outcome(fault: str, model: str, streaming: bool) -> BaseException:
    """The error ChatOpenAI raises for `model` on a server with this fault, on its own server."""
    with FakeOpenAIServer(token_delay=0, fault=fault) as faulty:
        llm = ChatOpenAI(
            model=model,
            base_url=faulty.base_url,
            api_key="sk-test",
            max_retries=0,
            timeout=FAULT_TIMEOUT,
            streaming=streaming,
        )
        with pytest.raises(Exception) as caught:
            llm.invoke("Tell me a joke")
    return caught.value


def one_line(error: BaseException, model: str) -> tuple[int, str] | None:
    """explain()'s (exit status, message) for a lesson that hit this error, with the server's
    URL (which names the API) and the model left out."""
    explained = explain(error)
    if explained is None:
        return None
    status, message = explained
    return status, OFFLINE_URL.sub("URL", message).replace(repr(model), "MODEL")


# --- non-streamed bodies -------------------------------------------------------------------


def test_strict_validation_catches_a_missing_required_field(server):
    body = respond(server, ask())
    del body["usage"]["input_tokens_details"]["cache_write_tokens"]
    with pytest.raises(ValidationError, match="cache_write_tokens"):
        RESPONSE.validate_python(body, strict=True)


def test_a_plain_model_answers_with_one_message_and_no_reasoning(server):
    body = respond(server, ask(PLAIN_MODEL))
    assert body["object"] == "response" and body["model"] == PLAIN_MODEL
    assert body["status"] == "completed" and body["incomplete_details"] is None
    [message] = body["output"]
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["status"] == "completed" and answer(body) == "1 + 2 = 3."
    usage = body["usage"]
    assert usage["output_tokens_details"]["reasoning_tokens"] == 0
    assert usage["output_tokens"] == len(tokenize("1 + 2 = 3."))
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


@pytest.mark.parametrize("model", REASONING_MODELS)
def test_a_reasoning_model_thinks_first_and_bills_the_thinking_as_output(server, model):
    body = respond(server, ask(model))
    assert [item["type"] for item in body["output"]] == ["reasoning", "message"]
    assert body["output"][0]["summary"] == []
    usage = body["usage"]
    assert usage["output_tokens_details"]["reasoning_tokens"] == REASONING_TOKENS
    assert usage["output_tokens"] == len(tokenize(answer(body))) + REASONING_TOKENS
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_completed_at_is_set_only_once_completed(server):
    done = respond(server, ask())
    cut = respond(server, ask(question="Tell me a joke", max_output_tokens=3))
    assert done["completed_at"] >= done["created_at"]
    assert cut["completed_at"] is None


def test_offered_tools_and_a_sum_give_a_function_call(server):
    body = respond(server, ask(question=TOOL_QUESTION, tools=[ADD_TOOL]))
    assert body["output"][-1]["type"] == "function_call"
    call = function_call(body)
    assert call["name"] == "add" and call["call_id"].startswith("call_")
    assert call["status"] == "completed" and call["id"].startswith("fc_")
    assert json.loads(call["arguments"]) == {"a": 2, "b": 3}
    assert body["tools"] == [ADD_TOOL] and answer(body) == ""


@pytest.mark.parametrize("replay", ["as_issued", "hand_built"])
@pytest.mark.parametrize("model", [PLAIN_MODEL, *REASONING_MODELS])
def test_the_second_turn_answers_with_the_tool_result(server, model, replay):
    """The client sends back the first turn's output items (reasoning, function_call with
    the ids the server issued), or builds the call itself without ids, as ChatOpenAI does
    for a Chat Completions-style AIMessage."""
    first = respond(server, ask(model, TOOL_QUESTION, tools=[ADD_TOOL]))
    call = function_call(first)
    if replay == "as_issued":
        earlier = first["output"]
    else:
        fields = {key: call[key] for key in ("call_id", "name", "arguments")}
        earlier = [{"type": "function_call", **fields}]
    result = {"type": "function_call_output", "call_id": call["call_id"], "output": "5"}
    request = ask(model, TOOL_QUESTION, tools=[ADD_TOOL])
    request["input"] += [*earlier, result]
    second = respond(server, request)
    assert second["status"] == "completed"
    assert answer(second) == "The add tool returned 5, so the answer is 5."


def test_input_may_be_a_plain_string(server):
    as_string = respond(server, {"model": PLAIN_MODEL, "input": QUESTION})
    as_items = respond(server, ask(PLAIN_MODEL, QUESTION))
    assert answer(as_string) == answer(as_items) == "1 + 2 = 3."
    assert as_string["usage"] == as_items["usage"]


def test_instructions_count_as_a_system_message_and_are_echoed(server):
    terse = "You are terse."
    with_instructions = respond(server, ask(instructions=terse))
    system_first = ask()
    system_first["input"].insert(0, {"role": "system", "content": terse})
    with_system = respond(server, system_first)
    assert with_instructions["instructions"] == terse
    assert with_instructions["usage"] == with_system["usage"]
    assert answer(with_instructions) == answer(with_system)


@pytest.mark.parametrize("model", [PLAIN_MODEL, RESPONSES_MODEL])
def test_max_output_tokens_cuts_the_answer_and_leaves_it_incomplete(server, model):
    body = respond(server, ask(model, "Tell me a joke", max_output_tokens=3))
    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert body["max_output_tokens"] == 3
    assert body["output"][-1]["status"] == "incomplete"
    assert answer(body) == "Why do programmers"
    visible = (
        body["usage"]["output_tokens"] - body["usage"]["output_tokens_details"]["reasoning_tokens"]
    )
    assert visible == 3


# --- streamed events -----------------------------------------------------------------------

STREAMED_REQUESTS = {
    "plain_text": ask(PLAIN_MODEL),
    "reasoning_text": ask(RESPONSES_MODEL),
    "tool_call": ask(RESPONSES_MODEL, TOOL_QUESTION, tools=[ADD_TOOL]),
    "cut_short": ask(RESPONSES_MODEL, "Tell me a joke", max_output_tokens=3),
}


@pytest.mark.parametrize("request_body", STREAMED_REQUESTS.values(), ids=STREAMED_REQUESTS)
def test_every_event_validates_and_is_numbered_from_zero(server, request_body):
    events = stream(server, request_body)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


@pytest.mark.parametrize("request_body", STREAMED_REQUESTS.values(), ids=STREAMED_REQUESTS)
def test_the_event_line_names_the_data_type(server, request_body):
    for name, data in raw_stream(server, request_body):
        assert name == data["type"]


@pytest.mark.parametrize("model", [PLAIN_MODEL, RESPONSES_MODEL])
def test_a_text_answer_streams_in_this_order(server, model):
    events = stream(server, ask(model, "Tell me a joke"))
    tokens = len(tokenize(answer(respond(server, ask(model, "Tell me a joke")))))
    thinking = REASONING_ITEM_EVENTS if model != PLAIN_MODEL else []
    assert types(events) == [
        "response.created",
        "response.in_progress",
        *thinking,
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * tokens,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]


def test_a_tool_call_streams_in_this_order(server):
    events = stream(server, STREAMED_REQUESTS["tool_call"])
    arguments = function_call(respond(server, STREAMED_REQUESTS["tool_call"]))["arguments"]
    assert types(events) == [
        "response.created",
        "response.in_progress",
        *REASONING_ITEM_EVENTS,
        "response.output_item.added",
        *["response.function_call_arguments.delta"] * len(tokenize(arguments)),
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    items = [e["item"] for e in events if e["type"].startswith("response.output_item")]
    added, done = items[2:]
    assert added["arguments"] == "" and added["status"] == "in_progress"
    streamed = "".join(
        e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"
    )
    assert streamed == arguments == done["arguments"]


def test_an_answer_cut_short_streams_response_incomplete_last(server):
    events = stream(server, STREAMED_REQUESTS["cut_short"])
    last = events[-1]
    assert last["type"] == "response.incomplete" and "response.completed" not in types(events)
    assert last["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert deltas(events) == "Why do programmers"


@pytest.mark.parametrize("request_body", STREAMED_REQUESTS.values(), ids=STREAMED_REQUESTS)
def test_the_last_event_carries_what_the_non_streamed_body_does(server, request_body):
    events = stream(server, request_body)
    body = respond(server, request_body)
    final = events[-1]["response"]
    assert final["status"] == body["status"] and final["usage"] == body["usage"]
    assert without_ids(final["output"]) == without_ids(body["output"])
    assert deltas(events) == answer(final) == answer(body)


@pytest.mark.parametrize("request_body", STREAMED_REQUESTS.values(), ids=STREAMED_REQUESTS)
def test_every_lifecycle_event_names_the_same_response(server, request_body):
    events = stream(server, request_body)
    lifecycle = [e for e in events if "response" in e]
    assert len(lifecycle) == 3 and lifecycle[0]["response"]["id"].startswith("resp_")
    assert {e["response"]["id"] for e in lifecycle} == {lifecycle[0]["response"]["id"]}
    assert [e["response"]["usage"] is None for e in lifecycle] == [True, True, False]
    assert lifecycle[0]["response"]["output"] == [] == lifecycle[1]["response"]["output"]


@pytest.mark.parametrize("request_body", STREAMED_REQUESTS.values(), ids=STREAMED_REQUESTS)
def test_item_events_name_the_item_that_was_added(server, request_body):
    events = stream(server, request_body)
    added = {
        e["output_index"]: e["item"]["id"]
        for e in events
        if e["type"] == "response.output_item.added"
    }
    for event in events:
        if "item_id" in event:
            assert event["item_id"] == added[event["output_index"]], event
        if event["type"] == "response.output_item.done":
            assert event["item"]["id"] == added[event["output_index"]]


# --- the openai SDK reads them --------------------------------------------------------------


def test_sdk_create_reads_a_text_answer(client):
    response = client.responses.create(model=RESPONSES_MODEL, input=QUESTION)
    assert response.output_text == "1 + 2 = 3."
    assert response.usage.output_tokens_details.reasoning_tokens == REASONING_TOKENS


def test_sdk_create_streams_the_same_answer(client):
    events = list(client.responses.create(model=PLAIN_MODEL, input=QUESTION, stream=True))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == events[-1].response.output_text == "1 + 2 = 3."


def test_sdk_stream_helper_builds_the_final_response(client):
    with client.responses.stream(model=RESPONSES_MODEL, input=QUESTION) as events:
        text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        final = events.get_final_response()
    assert text == final.output_text == "1 + 2 = 3."
    assert [item.type for item in final.output] == ["reasoning", "message"]
    assert final.usage.output_tokens == len(tokenize(text)) + REASONING_TOKENS


def test_sdk_stream_helper_builds_a_function_call(client):
    with client.responses.stream(
        model=RESPONSES_MODEL, input=TOOL_QUESTION, tools=[ADD_TOOL]
    ) as events:
        final = events.get_final_response()
    call = final.output[-1]
    assert call.type == "function_call" and call.name == "add"
    assert json.loads(call.arguments) == {"a": 2, "b": 3}


def test_chat_openai_reads_both_apis_alike(server):
    """The same reasoning model, once on each API: the same text and token counts."""
    common = dict(base_url=server.base_url, api_key="sk-test", max_retries=0, timeout=WAIT)
    on_chat = ChatOpenAI(model="gpt-6-luna", **common).invoke(QUESTION)
    on_responses = ChatOpenAI(model="gpt-6-luna", use_responses_api=True, **common).invoke(QUESTION)
    assert on_chat.text == on_responses.text == "1 + 2 = 3."
    assert on_responses.id.startswith("resp_")
    assert langchain_tokens(on_chat) == langchain_tokens(on_responses)
    assert langchain_tokens(on_responses)[2] == REASONING_TOKENS


# --- the same brain on both APIs ------------------------------------------------------------


@pytest.mark.parametrize("model", [PLAIN_MODEL, RESPONSES_MODEL])
def test_both_apis_give_the_same_answer_and_token_counts(server, model):
    request = ask(model, "Tell me a joke about owls")
    on_responses, on_chat = respond(server, request), chat(server, request)
    assert answer(on_responses) == on_chat["choices"][0]["message"]["content"]
    assert responses_tokens(on_responses) == chat_tokens(on_chat)


@pytest.mark.parametrize("model", [PLAIN_MODEL, RESPONSES_MODEL])
def test_both_apis_agree_over_a_two_turn_tool_conversation(server, model):
    # Turn one: the same tool call, at the same cost.
    request = ask(model, TOOL_QUESTION, tools=[ADD_TOOL])
    first, chat_first = respond(server, request), chat(server, request)
    call, [chat_call] = function_call(first), chat_first["choices"][0]["message"]["tool_calls"]
    assert (call["call_id"], call["name"], call["arguments"]) == (
        chat_call["id"],
        chat_call["function"]["name"],
        chat_call["function"]["arguments"],
    )
    assert responses_tokens(first) == chat_tokens(chat_first)
    # Turn two: the tool's result goes back; the same answer, at the same cost.
    request["input"] += [
        *first["output"],
        {"type": "function_call_output", "call_id": call["call_id"], "output": "5"},
    ]
    messages = [
        {"role": "user", "content": TOOL_QUESTION},
        chat_first["choices"][0]["message"],
        {"role": "tool", "tool_call_id": chat_call["id"], "content": "5"},
    ]
    second = respond(server, request)
    chat_request = {"model": model, "messages": messages, "tools": [CHAT_ADD_TOOL]}
    chat_second = post(server, "/chat/completions", chat_request)
    assert answer(second) == chat_second["choices"][0]["message"]["content"]
    assert responses_tokens(second) == chat_tokens(chat_second)


# --- faults: the same failure on both APIs --------------------------------------------------

EXPECTED_ERROR = {  # as tests/test_offline_chat_completions.py checks them on Chat Completions
    "401": openai.AuthenticationError,
    "404": openai.NotFoundError,
    "429": openai.RateLimitError,
    "429-once": openai.RateLimitError,  # with max_retries=0 the one 429 is final
    "500": openai.InternalServerError,
    "context-length": openai.BadRequestError,
    "timeout": openai.APITimeoutError,
    "disconnect": openai.APIConnectionError,
    "stall": openai.APITimeoutError,
    "malformed": json.JSONDecodeError,
}


def test_every_fault_has_an_expected_error():
    assert set(FAULTS) <= set(EXPECTED_ERROR)


@pytest.mark.parametrize("streaming", [False, True], ids=["invoke", "streaming"])
@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_fails_as_on_chat_completions(fault, streaming):
    on_responses = fault_outcome(fault, RESPONSES_MODEL, streaming)
    on_chat = fault_outcome(fault, CHAT_COMPLETIONS_MODEL, streaming)
    assert isinstance(on_responses, EXPECTED_ERROR[fault]), repr(on_responses)
    assert type(on_responses) is type(on_chat)
    request = getattr(on_responses, "request", None)
    if request is not None:
        assert request.url.path == "/v1/responses"
    # the one line a lesson prints for it, the API's path aside
    assert explain(on_responses) is not None
    assert one_line(on_responses, RESPONSES_MODEL) == one_line(on_chat, CHAT_COMPLETIONS_MODEL)


@pytest.mark.parametrize("streaming", [False, True], ids=["invoke", "streaming"])
def test_a_429_once_clears_on_the_sdks_retry(streaming):
    with FakeOpenAIServer(token_delay=0, fault="429-once") as faulty:
        llm = ChatOpenAI(
            model=RESPONSES_MODEL,
            base_url=faulty.base_url,
            api_key="sk-test",
            max_retries=1,
            timeout=WAIT,
            streaming=streaming,
        )
        assert llm.invoke(QUESTION).text == "1 + 2 = 3."
        assert faulty.request_count == 2


def test_a_disconnect_mid_stream_breaks_the_stream_after_some_tokens():
    with FakeOpenAIServer(token_delay=0, fault="disconnect") as faulty:
        client = openai.OpenAI(
            base_url=faulty.base_url, api_key="sk-test", max_retries=0, timeout=WAIT
        )
        received = []
        with pytest.raises(openai.APIConnectionError):
            for event in client.responses.create(
                model=RESPONSES_MODEL, input="Tell me a joke", stream=True
            ):
                received.append(event.type)
    assert 0 < received.count("response.output_text.delta") < len(tokenize("Why do programmers"))
    assert "response.completed" not in received


# --- a server without the Responses API -----------------------------------------------------


@pytest.fixture(params=["argument", "environment"])
def chat_only_server(request, monkeypatch):
    """Serves Chat Completions only: FakeOpenAIServer(responses_api=False), or
    TUTORIAL_OFFLINE_NO_RESPONSES=1 in the environment."""
    if request.param == "argument":
        fake = FakeOpenAIServer(token_delay=0, fault="", responses_api=False)
    else:
        monkeypatch.setenv("TUTORIAL_OFFLINE_NO_RESPONSES", "1")
        fake = FakeOpenAIServer(token_delay=0, fault="")
    with fake:
        yield fake


def test_without_the_responses_api_it_answers_404(chat_only_server):
    reply = httpx.post(f"{chat_only_server.base_url}/responses", json=ask(), timeout=WAIT)
    assert reply.status_code == 404
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"] == "Invalid URL (POST /v1/responses)"


def test_without_the_responses_api_chat_completions_still_answers(chat_only_server):
    client = openai.OpenAI(
        base_url=chat_only_server.base_url, api_key="sk-test", max_retries=0, timeout=WAIT
    )
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=RESPONSES_MODEL, input=QUESTION)
    reply = client.chat.completions.create(
        model=PLAIN_MODEL, messages=[{"role": "user", "content": QUESTION}]
    )
    assert reply.choices[0].message.content == "1 + 2 = 3."
