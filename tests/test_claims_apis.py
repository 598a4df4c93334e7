"""The claims ledger for "What your callbacks see on each API": Chat Completions and the
Responses API, as ChatOpenAI routes calls to them and as a callback handler meets them.

Each test proves one sentence (or table row) of that README section, marked
`<!-- claim: api-... -->`, against the pinned packages and the offline model, which speaks
both APIs. "Streamed" always means both ways a call streams: `streaming=True`, and
`.stream()`.
"""

import json
from contextlib import redirect_stdout
from io import StringIO
from typing import Literal

import httpx
import pytest
from claims import claim
from langchain.agents import create_agent
from langchain_core.callbacks import BaseCallbackHandler, get_usage_metadata_callback
from langchain_core.messages import HumanMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_openai import ChatOpenAI
from langchain_openai.chat_models.base import (
    _RESPONSES_API_ONLY_PREFIXES,
    _model_prefers_responses_api,
)
from openai.types.responses import Response

from tutorial_env.offline import tokenize
from tutorial_env.offline.replies import REASONING_TOKENS

SECTION = "What your callbacks see on each API"
JOKE = "Tell me a joke about cats"
JOKE_ANSWER = "Why did the cats sit on the computer? To keep an eye on the mouse!"
SUM = "What is 1 + 2?"  # with `add` offered, a tool call
APIS = ("chat", "responses")
MODES = ("invoke", "streaming", "stream")  # not streamed; streaming=True; .stream()
STREAMED = ("streaming", "stream")
PATHS = {"/v1/chat/completions": "chat", "/v1/responses": "responses"}


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


class Recorder(BaseCallbackHandler):
    """Every hook in order, each token with its chunk and run id, and the on_llm_end result."""

    def __init__(self):
        self.hooks, self.tokens, self.chunks, self.run_ids = [], [], [], []
        self.end = None

    def on_chat_model_start(self, serialized, messages, **kwargs):
        self.hooks.append("chat_model_start")

    def on_llm_new_token(self, token, *, chunk=None, run_id=None, **kwargs):
        self.hooks.append("token")
        self.tokens.append(token)
        self.chunks.append(chunk)
        self.run_ids.append(run_id)

    def on_llm_end(self, response, **kwargs):
        self.hooks.append("llm_end")
        self.end = response

    @property
    def message(self):
        return self.end.generations[0][0].message


def model(server, name="gpt-6-luna", **settings) -> ChatOpenAI:
    settings.setdefault("max_retries", 0)
    return ChatOpenAI(model=name, base_url=server.base_url, api_key="sk-test", **settings)


def on(server, api, *, name="gpt-6-luna", streaming=False, **settings):
    """gpt-6-luna on one API: without tools it takes Chat Completions, with `add` Responses."""
    if streaming:  # only when set: an explicit streaming=False turns .stream() into invoke
        settings["streaming"] = True
    llm = model(server, name, **settings)
    return llm.bind_tools([add]) if api == "responses" else llm


def call(server, api, mode, question=JOKE, **settings) -> Recorder:
    """One call, in one of MODES, heard by a fresh Recorder."""
    recorder = Recorder()
    llm = on(server, api, streaming=mode == "streaming", **settings)
    config = {"callbacks": [recorder]}
    if mode == "stream":
        for _ in llm.stream(question, config):
            pass
    else:
        llm.invoke(question, config)
    return recorder


class Wire:
    """An httpx client that notes the path and JSON body of every request it sends."""

    def __init__(self):
        self.requests = []
        self.client = httpx.Client(event_hooks={"request": [self.note]})

    def note(self, request):
        self.requests.append((request.url.path, json.loads(request.content)))

    @property
    def apis(self):
        return [PATHS[path] for path, _ in self.requests]


def api_of(server, name, *, tools=None, **settings) -> str:
    """The API that both an invoke and a stream of this model (with these tools) go to."""
    wire = Wire()
    llm = model(server, name, http_client=wire.client, **settings)
    runnable = llm.bind_tools(tools) if tools else llm
    runnable.invoke(SUM)
    list(runnable.stream(SUM))
    first, second = wire.apis
    assert first == second, f"{name}: invoke went to {first}, stream to {second}"
    return first


def empty_text(recorder):
    return [chunk for chunk in recorder.chunks if not chunk.text]


# --- The two APIs -------------------------------------------------------------------------


@claim("api-same-hooks", SECTION)
def test_a_handler_hears_the_same_hooks_in_the_same_order_on_both_apis(fake):
    for mode in MODES:
        heard = {}
        for api in APIS:
            hooks = call(fake, api, mode).hooks
            heard[api] = [h for i, h in enumerate(hooks) if h != "token" or hooks[i - 1] != h]
        assert heard["chat"] == heard["responses"], mode
        streamed = ["chat_model_start", "token", "llm_end"]
        assert heard["chat"] == (streamed if mode in STREAMED else ["chat_model_start", "llm_end"])


# --- Which calls go where -----------------------------------------------------------------


@claim("api-route-gpt6-plain", SECTION)
def test_gpt_6_luna_without_tools_goes_to_chat_completions(fake):
    assert api_of(fake, "gpt-6-luna") == "chat"


@claim("api-route-gpt6-tools", SECTION)
def test_gpt_6_luna_with_tools_and_every_agent_turn_go_to_responses(fake):
    assert api_of(fake, "gpt-6-luna", tools=[add]) == "responses"
    wire = Wire()
    agent = create_agent(model(fake, http_client=wire.client), tools=[multiply])
    question = {"messages": [{"role": "user", "content": "What is 6 * 7? Use the multiply tool."}]}
    answer = agent.invoke(question)["messages"][-1]
    assert answer.text.endswith("the answer is 42.")
    assert wire.apis == ["responses", "responses"]  # the tool call, then the answer


@claim("api-route-sol", SECTION)
def test_gpt_5_6_sol_goes_to_responses_with_or_without_tools(fake):
    assert api_of(fake, "gpt-5.6-sol") == "responses"
    assert api_of(fake, "gpt-5.6-sol", tools=[add]) == "responses"


@claim("api-route-others", SECTION)
def test_other_model_names_stay_on_chat_completions_with_or_without_tools(fake):
    for name in ("gpt-4o-mini", "llama3.2", "gpt-5"):
        assert api_of(fake, name) == "chat", name
        assert api_of(fake, name, tools=[add]) == "chat", name


@claim("api-route-override", SECTION)
def test_use_responses_api_true_or_false_wins_whatever_the_model_and_tools(fake):
    for name in ("gpt-4o-mini", "llama3.2", "gpt-6-luna", "gpt-5.6-sol"):
        for tools in (None, [add]):
            assert api_of(fake, name, tools=tools, use_responses_api=True) == "responses"
            assert api_of(fake, name, tools=tools, use_responses_api=False) == "chat"


RESPONSES_ONLY_SETTINGS = [
    {"reasoning": {"effort": "low"}},
    {"include": ["reasoning.encrypted_content"]},
    {"truncation": "auto"},
    {"context_management": [{"type": "compaction", "compact_threshold": 100000}]},
    {"use_previous_response_id": True},
    {"output_version": "responses/v1"},
]


@claim("api-route-settings", SECTION)
def test_responses_only_settings_and_built_in_tools_move_any_model_to_responses(fake):
    for name in ("gpt-6-luna", "gpt-4o-mini"):
        for settings in RESPONSES_ONLY_SETTINGS:
            assert api_of(fake, name, **settings) == "responses", (name, settings)
        assert api_of(fake, name, tools=[{"type": "web_search"}]) == "responses", name


@claim("api-responses-only-names", SECTION)
def test_responses_only_names_are_five_prefixes_and_codex_set_at_construction(fake):
    prefixes = ("gpt-5-pro", "gpt-5.2-pro", "gpt-5.4-pro", "gpt-5.5-pro", "gpt-5.6-sol")
    assert _RESPONSES_API_ONLY_PREFIXES == prefixes
    for name in (*prefixes, "gpt-5.6-sol-2026-10-01", "gpt-5-codex", "my-codex-model"):
        assert _model_prefers_responses_api(name), name
        assert model(fake, name).use_responses_api is True, name
    for name in ("gpt-6-luna", "gpt-5", "gpt-5.5", "gpt-4o-mini", "llama3.2"):
        assert not _model_prefers_responses_api(name), name
        assert model(fake, name).use_responses_api is None, name
    assert api_of(fake, "gpt-5.5-pro") == api_of(fake, "gpt-5-codex") == "responses"


@claim("api-gpt6-needs-tools", SECTION)
def test_only_the_gpt_6_rule_looks_at_function_tools_so_one_object_uses_both_apis(fake):
    tools = {"tools": [convert_to_openai_tool(add)]}
    for name in ("gpt-4o-mini", "gpt-5", "llama3.2", "gpt-5.6-sol", "gpt-5-codex"):
        llm = model(fake, name)
        assert llm._use_responses_api(tools) is llm._use_responses_api({}), name
    luna = model(fake, "gpt-6-luna")
    assert luna._use_responses_api({}) is False
    assert luna._use_responses_api(tools) is True

    wire = Wire()
    llm = model(fake, "gpt-6-luna", http_client=wire.client)
    (ChatPromptTemplate.from_template("{q}") | llm).invoke({"q": SUM})
    llm.bind_tools([add]).invoke(SUM)
    assert wire.apis == ["chat", "responses"]


@claim("api-reasoning-effort-stays", SECTION)
def test_reasoning_effort_stays_on_chat_completions_but_reasoning_moves(fake):
    assert api_of(fake, "gpt-6-luna", reasoning_effort="low") == "chat"
    assert api_of(fake, "gpt-6-luna", reasoning={"effort": "low"}) == "responses"


# --- Which API served a call ----------------------------------------------------------------


def llm_end_rows(recorder):
    response, message = recorder.end, recorder.message
    metadata = message.response_metadata
    info = response.generations[0][0].generation_info
    return {
        "llm_output": sorted(response.llm_output) if response.llm_output is not None else None,
        "generation_info": sorted(info) if info is not None else None,
        "message.id": message.id.split("-")[0].split("_")[0],
        "id": metadata["id"].split("-")[0].split("_")[0] if "id" in metadata else "missing",
        "finish_reason": metadata.get("finish_reason", "missing"),
        "object": metadata.get("object", "missing"),
    }


@claim("api-end-table", SECTION)
def test_what_on_llm_end_holds_on_each_api_streamed_and_not(fake):
    chat_output = ["id", "model_name", "model_provider", "system_fingerprint", "token_usage"]
    expected = {
        ("chat", False): {
            "llm_output": chat_output,
            "generation_info": ["finish_reason", "logprobs"],
            "message.id": "lc",
            "id": "chatcmpl",
            "finish_reason": "stop",
            "object": "missing",
        },
        ("chat", True): {
            "llm_output": None,
            "generation_info": ["finish_reason", "model_name", "system_fingerprint"],
            "message.id": "lc",
            "id": "missing",
            "finish_reason": "stop",
            "object": "missing",
        },
    }
    for streamed in (False, True):
        expected["responses", streamed] = {
            "llm_output": None,
            "generation_info": None,
            "message.id": "resp",
            "id": "resp",
            "finish_reason": "missing",
            "object": "response",
        }
    for api in APIS:
        for mode in MODES:
            recorder = call(fake, api, mode)
            assert recorder.message.id.startswith("lc_run-" if api == "chat" else "resp_")
            assert llm_end_rows(recorder) == expected[api, mode in STREAMED], (api, mode)


@claim("api-detect-object", SECTION)
def test_response_metadata_object_tells_the_api_in_all_four_cases(fake):
    for mode in MODES:
        rows = {}
        for api in APIS:
            recorder = call(fake, api, mode)
            metadata = recorder.message.response_metadata
            assert (metadata.get("object") == "response") is (api == "responses"), (api, mode)
            rows[api] = llm_end_rows(recorder)
        # llm_output is a dict only on non-streamed Chat Completions; every other row differs
        assert rows["responses"]["llm_output"] is None
        assert (rows["chat"]["llm_output"] is None) is (mode in STREAMED)
        for row in rows["chat"].keys() - {"llm_output"}:
            assert rows["chat"][row] != rows["responses"][row], (mode, row)
    # The value is fixed by the API's schema: a Response's `object` is always "response".
    assert Response.model_fields["object"].annotation == Literal["response"]


@claim("api-generate-llm-output", SECTION)
def test_generate_combines_llm_outputs_but_each_handler_gets_the_models_own(fake):
    tools = {"tools": [convert_to_openai_tool(add)]}
    for streaming in (False, True):
        recorder = Recorder()
        llm = model(fake, **({"streaming": True} if streaming else {}))
        result = llm.generate([[HumanMessage(JOKE)]], callbacks=[recorder], **tools)
        assert recorder.message.response_metadata["object"] == "response"
        assert result.llm_output == {"token_usage": {}, "model_name": "gpt-6-luna"}
        assert recorder.end.llm_output is None
    # On Chat Completions the model has an llm_output: the handler gets it as it is...
    recorder = Recorder()
    result = model(fake).generate([[HumanMessage(JOKE)]], callbacks=[recorder])
    own = recorder.end.llm_output
    assert own["id"].startswith("chatcmpl-") and own["model_provider"] == "openai"
    # ...while generate() returns a combination, built by ChatOpenAI._combine_llm_outputs.
    assert result.llm_output == {
        "token_usage": own["token_usage"],
        "model_name": own["model_name"],
        "system_fingerprint": own["system_fingerprint"],
    }


# --- What differs ---------------------------------------------------------------------------


@claim("api-token-type", SECTION)
def test_tokens_are_strings_on_chat_completions_and_lists_of_blocks_on_responses(fake):
    for mode in STREAMED:
        chat, responses = (call(fake, api, mode).tokens for api in APIS)
        assert chat and all(isinstance(token, str) for token in chat)
        assert responses and all(isinstance(token, list) for token in responses)
        assert all(isinstance(block, dict) for token in responses for block in token)
        assert [{"type": "text", "text": " cats", "index": 1}] in responses


@claim("api-chunk-text", SECTION)
def test_chunk_text_is_the_chunks_text_on_both_apis(fake):
    for mode in STREAMED:
        for api in APIS:
            recorder = call(fake, api, mode)
            assert "".join(c.text for c in recorder.chunks) == JOKE_ANSWER, (api, mode)
        chat = call(fake, "chat", mode)
        assert [c.text for c in chat.chunks] == chat.tokens


@claim("api-empty-tokens", SECTION)
def test_where_the_tokens_without_text_come_from_on_each_api(fake):
    for mode in STREAMED:
        recorder = call(fake, "chat", mode)
        role, finish, closing = empty_text(recorder)
        assert role is recorder.chunks[0] and role.message.content == ""
        assert finish.generation_info["finish_reason"] == "stop"
        assert closing is recorder.chunks[-1] and closing.message.chunk_position == "last"
        assert len(recorder.tokens) == len(tokenize(JOKE_ANSWER)) + 3

        recorder = call(fake, "chat", mode, stream_usage=True)
        role, finish, usage, closing = empty_text(recorder)
        assert usage.message.usage_metadata and closing is recorder.chunks[-1]

        recorder = call(fake, "responses", mode)
        created, reasoning, message, text_end, completed = empty_text(recorder)
        assert created is recorder.chunks[0] and created.message.content == []
        assert created.message.id.startswith("resp_")
        ((block,),) = [reasoning.message.content]
        assert block["type"] == "reasoning" and block["id"].startswith("rs_")
        assert message.message.content == []
        ((block,),) = [text_end.message.content]
        assert block["type"] == "text" and block["text"] == ""
        assert block["id"].startswith("msg_") and block["index"] == 1
        assert completed is recorder.chunks[-1] and completed.message.content == []
        assert completed.message.usage_metadata
        assert len(recorder.tokens) == len(tokenize(JOKE_ANSWER)) + 5

    # A model that does not reason has no reasoning item: 4.
    for mode in STREAMED:
        recorder = call(fake, "responses", mode, name="gpt-4o-mini", use_responses_api=True)
        assert not any(block["type"] == "reasoning" for block in recorder.message.content)
        created, message, text_end, completed = empty_text(recorder)
        assert text_end.message.content[0]["id"].startswith("msg_")
        assert len(recorder.tokens) == len(tokenize(JOKE_ANSWER)) + 4


@claim("api-stream-usage-when", SECTION)
def test_when_usage_arrives_in_a_stream_on_each_api(fake):
    for mode in STREAMED:
        without = call(fake, "chat", mode)
        assert not any(c.message.usage_metadata for c in without.chunks)
        assert without.message.usage_metadata is None
        asked = call(fake, "chat", mode, stream_usage=True)
        carrying = [i for i, c in enumerate(asked.chunks) if c.message.usage_metadata]
        assert carrying == [len(asked.chunks) - 2]
        assert asked.chunks[-1].message.chunk_position == "last"
        assert len(asked.tokens) == len(without.tokens) + 1

        responses = call(fake, "responses", mode)
        carrying = [i for i, c in enumerate(responses.chunks) if c.message.usage_metadata]
        assert carrying == [len(responses.chunks) - 1]
        assert responses.chunks[-1].message.chunk_position == "last"


@claim("api-reasoning-tokens", SECTION)
def test_reasoning_tokens_sit_in_output_token_details_and_count_in_output_tokens(fake):
    cases = [("chat", "invoke", {}), ("responses", "invoke", {})]
    cases += [(api, mode, {"stream_usage": True}) for api in APIS for mode in STREAMED]
    for api, mode, settings in cases:
        message = call(fake, api, mode, **settings).message
        usage = message.usage_metadata
        assert usage["output_token_details"]["reasoning"] == REASONING_TOKENS, (api, mode)
        assert usage["output_tokens"] == len(tokenize(message.text)) + REASONING_TOKENS


@claim("api-usage-details", SECTION)
def test_the_other_usage_details_have_different_keys_on_each_api(fake):
    keys = {
        "chat": ({"audio", "cache_read"}, {"audio", "reasoning"}),
        "responses": ({"cache_creation", "cache_read"}, {"reasoning"}),
    }
    for api in APIS:
        for mode in MODES:
            usage = call(fake, api, mode, stream_usage=True).message.usage_metadata
            details = (set(usage["input_token_details"]), set(usage["output_token_details"]))
            assert details == keys[api], (api, mode)


def tool_chunks(recorder):
    return [chunk.message.tool_call_chunks for chunk in recorder.chunks]


@claim("api-tool-call-chunks", SECTION)
def test_a_streamed_tool_call_in_one_chunk_or_in_pieces(fake):
    for mode in STREAMED:
        chat = call(fake, "responses", mode, question=SUM, use_responses_api=False)
        assert chat.chunks  # the same model and tools, on Chat Completions
        ((only,),) = [c for c in tool_chunks(chat) if c]
        assert only["name"] == "add" and only["id"] == chat.message.tool_calls[0]["id"]
        assert json.loads(only["args"]) == {"a": 1, "b": 2} and only["index"] == 0

        responses = call(fake, "responses", mode, question=SUM)
        (first,), *pieces = [c for c in tool_chunks(responses) if c]
        assert first["name"] == "add" and first["args"] == ""
        assert first["id"] == responses.message.tool_calls[0]["id"]
        arguments = "".join(piece["args"] for (piece,) in pieces)
        assert json.loads(arguments) == {"a": 1, "b": 2}
        assert len(pieces) == len(tokenize(arguments)) > 1  # one chunk per piece sent
        assert all(piece["name"] is None and piece["id"] is None for (piece,) in pieces)
        assert {chunk["index"] for (chunk,) in [[first], *pieces]} == {1}

    # index counts output items: without a reasoning item first, the call is item 0.
    recorder = Recorder()
    llm = model(fake, "gpt-4o-mini", use_responses_api=True).bind_tools([add])
    for _ in llm.stream(SUM, {"callbacks": [recorder]}):
        pass
    assert {chunk["index"] for chunks in tool_chunks(recorder) for chunk in chunks} == {0}


@claim("api-end-content", SECTION)
def test_the_message_content_is_a_string_or_a_list_of_blocks(fake):
    for mode in MODES:
        assert call(fake, "chat", mode).message.content == JOKE_ANSWER
        tool_call = call(fake, "responses", mode, question=SUM, use_responses_api=False)
        assert tool_call.message.content == "" and tool_call.message.tool_calls
        text = call(fake, "responses", mode).message.content
        assert [block["type"] for block in text] == ["reasoning", "text"], mode
        tool_call = call(fake, "responses", mode, question=SUM).message.content
        assert [block["type"] for block in tool_call] == ["reasoning", "function_call"]


@claim("api-message-text", SECTION)
def test_message_text_is_the_answer_on_both_apis(fake):
    for api in APIS:
        for mode in MODES:
            assert call(fake, api, mode).message.text == JOKE_ANSWER, (api, mode)


@claim("api-cut-answer", SECTION)
def test_an_answer_cut_by_max_tokens_says_so_differently_on_each_api(fake):
    for mode in MODES:
        chat = call(fake, "chat", mode, max_tokens=3).message
        assert chat.text == "Why did the"
        assert chat.response_metadata["finish_reason"] == "length"
        assert "status" not in chat.response_metadata
        responses = call(fake, "responses", mode, max_tokens=3).message
        assert responses.text == "Why did the"
        assert responses.response_metadata["status"] == "incomplete"
        assert responses.response_metadata["incomplete_details"] == {"reason": "max_output_tokens"}
        assert "finish_reason" not in responses.response_metadata


class TextPrinter(BaseCallbackHandler):  # as in the README
    def on_llm_new_token(self, token, *, chunk=None, **kwargs):
        if chunk is not None and chunk.text:  # token is a str or a list of blocks
            print(chunk.text, end="", flush=True)

    def on_llm_end(self, response, **kwargs):
        message = response.generations[0][0].message
        responses = message.response_metadata.get("object") == "response"
        print(f"\n[{'Responses' if responses else 'Chat Completions'}] {message.text!r}")


@claim("api-text-printer", SECTION)
def test_the_text_printer_prints_the_same_answer_on_both_apis(fake):
    for mode in MODES:
        printed = {}
        for api in APIS:
            out = StringIO()
            with redirect_stdout(out):
                llm = on(fake, api, streaming=mode == "streaming")
                config = {"callbacks": [TextPrinter()]}
                if mode == "stream":
                    list(llm.stream(JOKE, config))
                else:
                    llm.invoke(JOKE, config)
            printed[api] = out.getvalue()
        streamed = JOKE_ANSWER if mode in STREAMED else ""
        assert printed["chat"] == f"{streamed}\n[Chat Completions] {JOKE_ANSWER!r}\n", mode
        assert printed["responses"] == f"{streamed}\n[Responses] {JOKE_ANSWER!r}\n", mode


# --- Gotchas --------------------------------------------------------------------------------


@claim("api-string-code-breaks", SECTION)
def test_string_token_code_breaks_on_responses(fake):
    for mode in STREAMED:
        recorder = call(fake, "responses", mode)
        with pytest.raises(TypeError):
            "".join(recorder.tokens)
        let_through = [c for t, c in zip(recorder.tokens, recorder.chunks, strict=True) if t]
        without_text = [c.message.content[0] for c in let_through if not c.text]
        assert [(b["type"], b.get("text")) for b in without_text] == [
            ("reasoning", None),
            ("text", ""),
        ]
        assert "".join(c.text for c in let_through) == JOKE_ANSWER


@claim("api-chunk-ids", SECTION)
def test_only_the_first_responses_chunk_carries_the_response_id(fake):
    for mode in STREAMED:
        recorder = call(fake, "responses", mode)
        (run_id,) = set(recorder.run_ids)
        first, *later = [chunk.message.id for chunk in recorder.chunks]
        assert first.startswith("resp_") and first == recorder.message.id
        assert later and set(later) == {f"lc_run--{run_id}"}


@claim("api-stream-usage-never-read", SECTION)
def test_responses_never_reads_stream_usage_and_always_gets_usage(fake):
    wire = Wire()
    llm = model(fake, http_client=wire.client, stream_usage=True)
    list(llm.stream(JOKE))
    assert wire.requests[-1][1]["stream_options"] == {"include_usage": True}  # Chat Completions
    usages = []
    for stream_usage in (None, False, True):
        wire = Wire()
        llm = model(fake, http_client=wire.client, stream_usage=stream_usage).bind_tools([add])
        chunks = list(llm.stream(JOKE))
        ((path, body),) = wire.requests
        assert PATHS[path] == "responses" and body["stream"] is True
        assert "stream_options" not in body and "stream_usage" not in body
        assert [bool(c.usage_metadata) for c in chunks][-1:] == [True]
        usages.append(chunks[-1].usage_metadata)
    assert usages[0] == usages[1] == usages[2] and usages[0]["total_tokens"] > 0


@claim("api-usage-callback-counts", SECTION)
def test_the_usage_callback_counts_a_streamed_responses_call_without_stream_usage(fake):
    counted = {}
    for api in APIS:
        with get_usage_metadata_callback() as usage:
            list(on(fake, api).stream(JOKE))
        counted[api] = usage.usage_metadata
    assert counted["chat"] == {}
    # ...because of the base URL: without one, ChatOpenAI asks for usage on Chat Completions
    assert on(fake, "chat").stream_usage is None
    assert ChatOpenAI(model="gpt-6-luna", api_key="sk-test").stream_usage is True
    luna = counted["responses"]["gpt-6-luna"]
    assert luna["total_tokens"] > 0
    assert luna["output_token_details"]["reasoning"] == REASONING_TOKENS


@claim("api-stream-usage-call-argument", SECTION)
def test_stream_usage_as_a_call_argument_works_on_chat_but_raises_on_responses(fake):
    chunks = list(on(fake, "chat").stream(JOKE, stream_usage=True))
    assert [c for c in chunks if c.usage_metadata]
    message = "Responses.create() got an unexpected keyword argument 'stream_usage'"
    with pytest.raises(TypeError) as caught:
        list(on(fake, "responses").stream(JOKE, stream_usage=True))
    assert str(caught.value) == message


# --- Where the offline model differs from OpenAI ------------------------------------------


@claim("api-offline-reasoning", SECTION)
def test_the_offline_model_thinks_16_tokens_and_its_limit_cuts_only_the_answer(fake):
    assert REASONING_TOKENS == 16
    for api in APIS:
        for question in (JOKE, SUM, "Hello there"):  # SUM: a tool call on Responses
            usage = call(fake, api, "invoke", question=question).message.usage_metadata
            assert usage["output_token_details"]["reasoning"] == 16, (api, question)
    for name in ("gpt-5.6-sol", "gpt-5", "o3", "o4-mini", "gpt-5.5-pro"):
        usage = model(fake, name).invoke(JOKE).usage_metadata
        assert usage["output_token_details"]["reasoning"] == 16, name
    usage = model(fake, "gpt-4o-mini").invoke(JOKE).usage_metadata  # no reasoning model
    assert usage["output_token_details"]["reasoning"] == 0
    for api in APIS:
        for mode in MODES:
            message = call(fake, api, mode, max_tokens=3, stream_usage=True).message
            assert message.text == "Why did the" and len(tokenize(message.text)) == 3
            assert message.usage_metadata["output_tokens"] == 19, (api, mode)


@claim("api-offline-extras", SECTION)
def test_the_offline_model_caches_nothing_sends_no_summary_and_one_chunk_tool_calls(fake):
    for api in APIS:
        for mode in MODES:
            usage = call(fake, api, mode, stream_usage=True).message.usage_metadata
            assert usage["input_token_details"]["cache_read"] == 0, (api, mode)
        long_prompt = "Please summarise this. " + "The parrot sat on the computer. " * 200
        for _ in range(2):  # the same long prompt again: still nothing cached
            usage = call(fake, api, "invoke", question=long_prompt).message.usage_metadata
            assert usage["input_tokens"] > 1024
            assert usage["input_token_details"]["cache_read"] == 0, api
    for streaming in (False, True):
        llm = model(fake, reasoning={"effort": "low", "summary": "auto"}, streaming=streaming)
        reasoning = llm.invoke(JOKE).content[0]
        assert reasoning["type"] == "reasoning" and reasoning["summary"] == []
    for mode in STREAMED:
        chat = call(fake, "responses", mode, question=SUM, use_responses_api=False)
        assert len([c for c in tool_chunks(chat) if c]) == 1
