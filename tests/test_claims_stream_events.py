"""The claims ledger for lesson 13, "Callbacks on the v3 event stream".

Each test proves one sentence of that README section, marked `<!-- claim: v3-... -->`,
against the pinned packages and the offline model, on both of OpenAI's APIs: gpt-4o-mini
takes Chat Completions, gpt-5.6-sol (a reasoning model) the Responses API, with or without
tools. Warnings are checked in a fresh interpreter: LangChain's beta warnings fire once per
process.
"""

import asyncio
import inspect
import json
import textwrap
import warnings

from claims import claim
from langchain.agents import create_agent, factory
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.chat_model_stream import ChatModelStream
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.config import get_config
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.pregel import Pregel
from langgraph.pregel._messages import StreamMessagesHandlerV2
from langgraph.stream.run_stream import GraphRunStream
from lessons import ROOT, run_python

from tutorial_env.offline import prompt_tokens, reasoning_tokens, tokenize

SECTION = "13."
TEXT, ANSWER = "What is 6 * 7?", "6 * 7 = 42."
TOOL = "What is 6 * 7? Use the multiply tool."
FINAL = "The multiply tool returned 42, so the answer is 42."
QUESTION = {"messages": [{"role": "user", "content": TOOL}]}
APIS = {"chat": "gpt-4o-mini", "responses": "gpt-5.6-sol"}


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


class Recorder(BaseCallbackHandler):
    """Every hook in order: ("start",), ("token", token, chunk), ("event", event), ("end", r)."""

    def __init__(self):
        self.log = []

    def on_chat_model_start(self, serialized, messages, **kwargs):
        self.log.append(("start",))

    def on_llm_new_token(self, token, *, chunk=None, **kwargs):
        self.log.append(("token", token, chunk))

    def on_stream_event(self, event, **kwargs):
        self.log.append(("event", event))

    def on_llm_end(self, response, **kwargs):
        self.log.append(("end", response))

    def of(self, kind):
        return [
            entry[1:] if len(entry) > 2 else entry[-1] for entry in self.log if entry[0] == kind
        ]

    @property
    def events(self):
        return self.of("event")

    @property
    def tokens(self):
        return self.of("token")

    @property
    def message(self):
        return self.of("end")[-1].generations[0][0].message


def llm(server, api, cls=ChatOpenAI, **settings):
    return cls(model=APIS[api], base_url=server.base_url, api_key="sk-test", **settings)


def runnable(server, api, kind, cls=ChatOpenAI, **settings):
    model = llm(server, api, cls, **settings)
    return (model, TEXT) if kind == "text" else (model.bind_tools([multiply]), TOOL)


def v3(server, api, kind, cls=ChatOpenAI, **settings):
    """One call through stream_events(version="v3"), driven to its end: (stream, recorder)."""
    recorder = Recorder()
    model, question = runnable(server, api, kind, cls, **settings)
    stream = model.stream_events(question, version="v3", config={"callbacks": [recorder]})
    list(stream)
    return stream, recorder


def v1(server, api, kind, how="stream", **settings):
    recorder = Recorder()
    model, question = runnable(server, api, kind, **settings)
    if how == "stream":
        list(model.stream(question, config={"callbacks": [recorder]}))
    else:
        model.invoke(question, config={"callbacks": [recorder]})
    return recorder


def fresh_python(fake, code):
    """Run code in a fresh interpreter, with Python's default warning filters; its stdout,
    stderr merged, and the offline server's URL in BASE."""
    prelude = f"import sys; sys.path.insert(0, {str(ROOT)!r}); BASE = {fake.base_url!r}\n"
    result = run_python(prelude + textwrap.dedent(code), merge_stderr=True)  # in printed order
    assert result.returncode == 0, result.stdout
    return result.stdout


def agent(server, api="responses"):
    return create_agent(llm(server, api), tools=[multiply])


# --- What v3 returns, and what a handler receives ----------------------------------------


@claim("v3-beta", SECTION)
def test_v3_is_marked_beta_in_the_chat_model_and_experimental_in_the_graph():
    assert '`version="v3"` is in beta' in BaseChatModel.stream_events.__doc__
    assert 'The `version="v3"` API is experimental and may change.' in Pregel.stream_events.__doc__


@claim("v3-returns", SECTION)
def test_a_chat_model_returns_a_chat_model_stream_and_a_graph_a_graph_run_stream(fake):
    for api in APIS:
        for kind in ("text", "tool"):
            assert isinstance(v3(fake, api, kind)[0], ChatModelStream)
    plain = StateGraph(MessagesState).add_node("echo", lambda state: {}).add_edge(START, "echo")
    for graph in (plain.compile(), agent(fake)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = graph.stream_events(QUESTION, version="v3")
        assert isinstance(run, GraphRunStream)
        assert run.output["messages"]


def block_order(events):
    """Per block index, the event types in order; and the whole message's first and last."""
    blocks = {}
    for event in events:
        if "index" in event:
            blocks.setdefault(event["index"], []).append(event["event"])
    return blocks


@claim("v3-event-sequence", SECTION)
def test_events_open_and_close_the_message_and_each_block_starts_grows_and_finishes(fake):
    for api in APIS:
        for kind in ("text", "tool"):
            events = v3(fake, api, kind)[1].events
            assert events[0]["event"] == "message-start" and events[-1]["event"] == "message-finish"
            middle = [e["event"] for e in events[1:-1]]
            assert "message-start" not in middle and "message-finish" not in middle
            for index, kinds in block_order(events).items():
                deltas = len(kinds) - 2
                assert kinds == ["content-block-start"] + ["content-block-delta"] * deltas + [
                    "content-block-finish"
                ], (api, kind, index)


@claim("v3-event-fields", SECTION)
def test_each_event_names_itself_and_carries_its_block_index_and_content_or_delta(fake):
    for api in APIS:
        for kind in ("text", "tool"):
            for event in v3(fake, api, kind)[1].events:
                keys = set(event)
                if event["event"] in ("content-block-start", "content-block-finish"):
                    assert keys == {"event", "index", "content"}
                elif event["event"] == "content-block-delta":
                    assert keys == {"event", "index", "delta"}
                elif event["event"] == "message-start":
                    assert keys == {"event", "role", "id", "metadata"}
                else:
                    assert keys <= {"event", "metadata", "usage"}


@claim("v3-not-under-v1", SECTION)
def test_on_stream_event_never_fires_under_v1_stream_or_invoke(fake):
    for api in APIS:
        for kind in ("text", "tool"):
            for how in ("stream", "invoke"):
                recorder = v1(fake, api, kind, how)
                assert recorder.events == [] and recorder.of("end"), (api, kind, how)
            assert v1(fake, api, kind).tokens  # the v1 hook


@claim("v3-start-end-around", SECTION)
def test_chat_model_start_opens_and_llm_end_closes_both_kinds_of_stream(fake):
    for api in APIS:
        for kind in ("text", "tool"):
            for recorder in (v3(fake, api, kind)[1], v1(fake, api, kind)):
                hooks = [entry[0] for entry in recorder.log]
                assert hooks[0] == "start" and hooks[-1] == "end"
                assert hooks.count("start") == 1 and hooks.count("end") == 1


class QuietStream(ChatOpenAI):
    """ChatOpenAI whose _stream is not handed the run manager, so it cannot fire tokens."""

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        return super()._stream(messages, stop=stop, run_manager=None, **kwargs)


@claim("v3-new-token-still-fires", SECTION)
def test_on_llm_new_token_fires_under_v3_because_chatopenai_stream_fires_it(fake):
    assert getattr(ChatOpenAI, "_stream_chat_model_events", None) is None  # no event producer
    recorder = v3(fake, "chat", "text")[1]
    assert len(recorder.tokens) == 8 and len(recorder.events) == 10  # the lesson's numbers
    for api in APIS:  # a handler with both hooks hears the text twice
        recorder = v3(fake, api, "text")[1]
        deltas = [
            e["delta"]["text"] for e in recorder.events if e["event"] == "content-block-delta"
        ]
        assert "".join(token for token, _ in recorder.tokens) == "".join(deltas) == ANSWER
    for api in APIS:
        for kind in ("text", "tool"):
            assert v3(fake, api, kind)[1].tokens, (api, kind)
            quiet = v3(fake, api, kind, QuietStream)[1]
            assert quiet.events and not quiet.tokens, (api, kind)


@claim("v3-token-is-text", SECTION)
def test_the_v3_token_is_the_chunks_text_and_v1_passes_the_content(fake):
    for api in APIS:
        for kind in ("text", "tool"):
            for token, chunk in v3(fake, api, kind)[1].tokens:
                assert isinstance(token, str) and token == chunk.text
    for token, chunk in v1(fake, "responses", "text").tokens:
        assert isinstance(token, list) and token == chunk.message.content
    assert all(isinstance(token, str) for token, _ in v1(fake, "chat", "text").tokens)


@claim("v3-no-closing-chunk", SECTION)
def test_v1_stream_adds_one_closing_token_on_chat_completions_only(fake):
    for kind in ("text", "tool"):
        streamed, old = v3(fake, "chat", kind)[1].tokens, v1(fake, "chat", kind).tokens
        assert len(old) == len(streamed) + 1
        token, chunk = old[-1]
        assert token == "" and chunk.message.chunk_position == "last"
        assert all(chunk.message.chunk_position != "last" for _, chunk in streamed)
        assert len(v3(fake, "responses", kind)[1].tokens) == len(v1(fake, "responses", kind).tokens)


# --- What the consumer gets --------------------------------------------------------------


@claim("v3-projections", SECTION)
def test_text_tool_calls_reasoning_and_output_projections(fake):
    for api in APIS:
        text, call = v3(fake, api, "text")[0], v3(fake, api, "tool")[0]
        assert str(text.text) == ANSWER and "".join(text.text) == ANSWER
        assert list(text.text) == [token for token in tokenize(ANSWER)]
        assert text.tool_calls.get() == [] and str(call.text) == ""
        [made] = call.tool_calls.get()
        assert (made["name"], made["args"]) == ("multiply", {"a": 6, "b": 7})
        assert str(text.reasoning) == ""  # the offline model sends no reasoning summary
        assert type(text.output).__name__ == "AIMessage" and text.output.text == ANSWER
        assert call.output.tool_calls[0]["args"] == {"a": 6, "b": 7}


@claim("v3-output-blocks", SECTION)
def test_output_content_is_a_list_of_blocks_on_both_apis_where_v1_chat_gives_a_string(fake):
    for api in APIS:
        for kind in ("text", "tool"):
            assert isinstance(v3(fake, api, kind)[0].output.content, list)
    assert isinstance(v1(fake, "chat", "text").message.content, str)


def usage_expected(api):
    model = APIS[api]
    output = len(tokenize(ANSWER)) + reasoning_tokens(model)
    details = (
        ({"audio": 0, "cache_read": 0}, {"audio": 0, "reasoning": reasoning_tokens(model)})
        if api == "chat"
        else ({"cache_creation": 0, "cache_read": 0}, {"reasoning": reasoning_tokens(model)})
    )
    return {
        "input_tokens": prompt_tokens([TEXT]),
        "output_tokens": output,
        "total_tokens": prompt_tokens([TEXT]) + output,
        "input_token_details": details[0],
        "output_token_details": details[1],
    }


@claim("v3-usage-same", SECTION)
def test_on_llm_end_gets_an_ai_message_with_the_same_full_usage_as_v1(fake):
    for api in APIS:
        new = v3(fake, api, "text", stream_usage=True)[1].message
        old = v1(fake, api, "text", stream_usage=True).message
        assert type(new).__name__ == "AIMessage" and type(old).__name__ == "AIMessageChunk"
        assert new.usage_metadata == old.usage_metadata == usage_expected(api)
        metered = create_agent(llm(fake, api, stream_usage=True), tools=[multiply])
        in_v3, in_v1 = Recorder(), Recorder()
        assert silent_v3(metered, config={"callbacks": [in_v3]}).output
        list(metered.stream(QUESTION, {"callbacks": [in_v1]}, stream_mode="messages"))
        usages = [result.generations[0][0].message.usage_metadata for result in in_v3.of("end")]
        old = [result.generations[0][0].message.usage_metadata for result in in_v1.of("end")]
        assert usages == old and all(u["input_token_details"] for u in usages)

    async def agent_in_async_v3():  # the path langgraph #8094 reported
        heard = Recorder()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = await agent(fake).astream_events(
                QUESTION, version="v3", config={"callbacks": [heard]}
            )
        await run.output()
        return [result.generations[0][0].message.usage_metadata for result in heard.of("end")]

    usages = asyncio.run(agent_in_async_v3())
    assert len(usages) == 2
    assert all(
        u["output_token_details"] == {"reasoning": reasoning_tokens(APIS["responses"])}
        for u in usages
    )
    assert all(set(u["input_token_details"]) == {"cache_creation", "cache_read"} for u in usages)


@claim("v3-usage-message-finish", SECTION)
def test_usage_rides_on_message_finish_and_chat_completions_needs_stream_usage(fake):
    assert v3(fake, "responses", "text")[1].events[-1]["usage"] == usage_expected("responses")
    metered = v3(fake, "chat", "text", stream_usage=True)[1]
    assert metered.events[-1]["usage"] == usage_expected("chat")
    unasked = v3(fake, "chat", "text")[1]  # behind a base URL, stream_usage stays None
    assert "usage" not in unasked.events[-1] and unasked.message.usage_metadata is None
    assert v1(fake, "chat", "text").message.usage_metadata is None  # as in v1


# --- Warnings -----------------------------------------------------------------------------


@claim("v3-chat-model-silent", SECTION)
def test_sync_chat_model_v3_emits_no_warning_because_its_caller_is_langchain_itself(fake):
    assert "emits a `LangChainBetaWarning` at runtime" in BaseChatModel.stream_events.__doc__
    printed = fresh_python(
        fake,
        """
        import warnings
        from langchain_openai import ChatOpenAI
        llm = ChatOpenAI(model="gpt-4o-mini", base_url=BASE, api_key="sk-test")
        with warnings.catch_warnings(record=True) as public:
            warnings.simplefilter("always")
            llm.stream_events("What is 6 * 7?", version="v3").output
        print("public", len(public))
        with warnings.catch_warnings(record=True) as direct:  # the same method, called from here
            warnings.simplefilter("always")
            llm._chat_model_stream_v3("What is 6 * 7?").output
        print("direct", [str(w.message) for w in direct])
        """,
    )
    assert "public 0" in printed
    assert "direct ['The method `BaseChatModel._chat_model_stream_v3` is in beta." in printed


@claim("v3-async-chat-model-warns", SECTION)
def test_awaiting_astream_events_v3_on_a_chat_model_warns_once_from_your_line(fake):
    printed = fresh_python(
        fake,
        """
        import asyncio
        from langchain_openai import ChatOpenAI
        llm = ChatOpenAI(model="gpt-4o-mini", base_url=BASE, api_key="sk-test")
        async def main():
            for _ in range(2):
                stream = await llm.astream_events("What is 6 * 7?", version="v3")  # HERE
                await stream
        asyncio.run(main())
        """,
    )
    warned = [line for line in printed.splitlines() if "LangChainBetaWarning" in line]
    assert len(warned) == 1, printed
    assert warned[0].startswith("<string>:")  # the caller's own line, not LangChain's
    assert "The method `BaseChatModel._achat_model_stream_v3` is in beta." in warned[0]


@claim("v3-graph-warns", SECTION)
def test_a_graph_warns_twice_on_the_first_v3_call_only_and_shows_it_by_default(fake):
    printed = fresh_python(
        fake,
        """
        import warnings
        from langchain.agents import create_agent
        from langchain_core._api import LangChainBetaWarning
        from langchain_openai import ChatOpenAI
        shown = [f[0] for f in warnings.filters if f[2] is LangChainBetaWarning]
        print("filters", shown, issubclass(LangChainBetaWarning, DeprecationWarning))
        agent = create_agent(ChatOpenAI(model="gpt-4o-mini", base_url=BASE, api_key="sk-t"), [])
        question = {"messages": [{"role": "user", "content": "What is 6 * 7?"}]}
        for call in ("first", "second"):
            print(f"== {call}", flush=True)
            agent.stream_events(question, version="v3").output
            print("", flush=True)
        """,
    )
    # A DeprecationWarning, which Python hides outside __main__; LangChain's filter shows it.
    assert "filters ['default'] True" in printed
    first, second = printed.split("== second")
    warned = [line for line in first.splitlines() if "LangChainBetaWarning" in line]
    assert len(warned) == 2, printed
    for line in warned:
        assert "langgraph/pregel/main.py" in line.replace("\\", "/")
        assert line.endswith(
            "LangChainBetaWarning: The v3 streaming protocol on Pregel is experimental."
        )
    assert "Warning" not in second


# --- On a graph ----------------------------------------------------------------------------


def silent_v3(graph, question=QUESTION, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return graph.stream_events(question, version="v3", **kwargs)


@claim("v3-graph-projections", SECTION)
def test_a_graph_run_stream_has_four_projections_and_an_agent_two_more(fake):
    plain = StateGraph(MessagesState).add_node("echo", lambda state: {}).add_edge(START, "echo")
    assert list(silent_v3(plain.compile()).extensions) == [
        "values",
        "messages",
        "lifecycle",
        "subgraphs",
    ]
    assert list(silent_v3(agent(fake)).extensions) == [
        "values",
        "messages",
        "lifecycle",
        "subgraphs",
        "tool_calls",
        "subagents",
    ]


@claim("v3-graph-messages-values", SECTION)
def test_messages_yields_a_chat_model_stream_per_model_call_values_each_state(fake):
    for api in APIS:
        run = silent_v3(agent(fake, api))
        seen = [(name, item) for name, item in run.interleave("values", "messages")]
        streams = [item for name, item in seen if name == "messages"]
        assert all(isinstance(stream, ChatModelStream) for stream in streams)
        assert [c["name"] for c in streams[0].tool_calls.get()] == ["multiply"]
        assert str(streams[1].text) == FINAL and len(streams) == 2
        states = [len(item["messages"]) for name, item in seen if name == "values"]
        assert states == [1, 2, 3, 4]
        assert run.output["messages"][-1].text == FINAL


@claim("v3-graph-drain", SECTION)
def test_iterating_the_raw_events_first_leaves_the_projections_empty(fake):
    run = silent_v3(agent(fake))
    assert list(run)  # every protocol event, driven to the end
    assert list(run.messages) == [] and list(run.values) == []
    assert run.output["messages"][-1].text == FINAL


@claim("v3-agent-handler-events", SECTION)
def test_a_handler_hears_on_stream_event_in_a_graphs_v3_run_only(fake):
    for api in APIS:
        heard, old = Recorder(), Recorder()
        run = silent_v3(agent(fake, api), config={"callbacks": [heard]})
        assert run.output["messages"][-1].text == FINAL
        list(agent(fake, api).stream(QUESTION, {"callbacks": [old]}, stream_mode="messages"))
        assert len(heard.of("start")) == 2 and old.events == [] and old.tokens
        assert "model_.invoke(messages)" in inspect.getsource(factory)  # the agent invokes
        first_turn = v3(fake, api, "tool")[1].events  # the same tool call, alone
        assert len(heard.events) == len(first_turn) + answer_events(api)
    handlers = []

    def node(state):
        handlers.extend(type(h) for h in get_config()["callbacks"].handlers)
        return {}

    graph = StateGraph(MessagesState).add_node("look", node).add_edge(START, "look").compile()
    assert silent_v3(graph).output["messages"]
    assert StreamMessagesHandlerV2 in handlers
    from langchain_core.tracers._streaming import _V2StreamingCallbackHandler

    assert issubclass(StreamMessagesHandlerV2, _V2StreamingCallbackHandler)


def answer_events(api):
    """How many protocol events the agent's final answer makes: the message's start and
    finish, a reasoning block's start and finish on Responses, and the text block's start,
    one delta per token, and finish."""
    return 2 + (2 if api == "responses" else 0) + 2 + len(tokenize(FINAL))


@claim("v3-nested-v1-keeps-chunks", SECTION)
def test_a_nested_v1_messages_stream_keeps_its_chunks_on_the_pinned_langgraph(fake):
    note = "the inner v1 handler does not see `on_llm_new_token`"
    assert note in " ".join(Pregel.stream_events.__doc__.split())
    inner = agent(fake, "chat")
    counts, inner_handlers = [], []

    def relay(state):
        stream = inner.stream(state, stream_mode="messages")
        counts.append(sum(meta["langgraph_node"] == "model" for _, meta in stream))
        return {}

    def look(state):
        inner_handlers.extend(type(h) for h in get_config()["callbacks"].handlers)
        return {}

    outer = StateGraph(MessagesState).add_node(relay).add_edge(START, "relay").compile()
    outer.invoke(QUESTION)
    outer_streams = list(silent_v3(outer).messages)
    assert counts[0] == counts[1] > 10 and outer_streams == []
    probe = StateGraph(MessagesState).add_node(look).add_edge(START, "look").compile()

    def nested(state):
        list(probe.stream(state, stream_mode="messages"))
        return {}

    wrapper = StateGraph(MessagesState).add_node(nested).add_edge(START, "nested").compile()
    assert silent_v3(wrapper).output["messages"]
    assert StreamMessagesHandlerV2 not in inner_handlers  # stripped for the v1 stream


# --- Where the APIs differ -----------------------------------------------------------------


@claim("v3-default-model-both-apis", SECTION)
def test_the_default_model_sends_the_text_to_chat_completions_and_the_tool_call_to_responses(
    fake,
):
    luna = ChatOpenAI(model="gpt-6-luna", base_url=fake.base_url, api_key="sk-test")
    assert not luna._use_responses_api({})
    assert luna._use_responses_api({"tools": [{"type": "function", "name": "multiply"}]})
    text, call = Recorder(), Recorder()
    list(luna.stream_events(TEXT, version="v3", config={"callbacks": [text]}))
    list(
        luna.bind_tools([multiply]).stream_events(TOOL, version="v3", config={"callbacks": [call]})
    )
    assert text.message.response_metadata.get("object") is None  # Chat Completions
    assert call.message.response_metadata["object"] == "response"
    assert {e["index"] for e in text.events if "index" in e} == {0}
    assert {e["index"] for e in call.events if "index" in e} == {0, 1}


@claim("v3-responses-reasoning-block", SECTION)
def test_on_responses_a_reasoning_block_opens_and_both_blocks_finish_at_the_end(fake):
    for kind, second in (("text", "text"), ("tool", "tool_call_chunk")):
        events = v3(fake, "responses", kind)[1].events
        starts = [
            (e["index"], e["content"]["type"])
            for e in events
            if e["event"].endswith("start") and "index" in e
        ]
        assert starts == [(0, "reasoning"), (1, second)]
        assert [e["index"] for e in events if e["event"] == "content-block-delta"] == [1] * (
            len(events) - 6
        )
        assert [e["event"] for e in events[-3:]] == ["content-block-finish"] * 2 + [
            "message-finish"
        ]
        chat = v3(fake, "chat", kind)[1].events
        assert {e["index"] for e in chat if "index" in e} == {0}


@claim("v3-tool-call-deltas", SECTION)
def test_a_tool_call_block_grows_by_argument_deltas_and_finishes_parsed(fake):
    arguments = json.dumps({"a": 6, "b": 7})
    for api, pieces in (("chat", [arguments]), ("responses", tokenize(arguments))):
        events = v3(fake, api, "tool")[1].events
        block = [e for e in events if e.get("index") == max(e.get("index", 0) for e in events)]
        assert block[0]["content"]["type"] == "tool_call_chunk"
        assert block[0]["content"]["name"] == "multiply"
        assert [e["delta"]["type"] for e in block[1:-1]] == ["tool-call-delta"] * len(pieces)
        assert [e["delta"]["args"] for e in block[1:-1]] == pieces
        assert block[-1]["content"]["type"] == "tool_call"
        assert block[-1]["content"]["args"] == {"a": 6, "b": 7}
