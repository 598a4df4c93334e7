"""The claims ledger: what the README says LangChain, the openai SDK or a provider does.

Each such sentence in README.md is followed by a marker, `<!-- claim: ID -->`, and has one
test here, registered with `@claim(ID, SECTION)`; the other editions (ja, ko, zh-CN) carry
the same markers in the same order (tests/test_docs.py checks both ways). The tests run
against the pinned packages and the offline fake server, so a pin bump that changes a
behaviour fails here: then rewrite the sentence, or remove it. A claim that cannot be
tested offline, such as a provider's model names, is not marked; the README says where and
when it was checked.
"""

import asyncio
import itertools
import json
import logging
import re
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar

import httpx
import openai
import pytest
from claims import claim
from genai_prices import Usage, calc_price
from langchain.agents import create_agent
from langchain_core.callbacks import (
    AsyncCallbackHandler,
    BaseCallbackHandler,
    FileCallbackHandler,
    StdOutCallbackHandler,
    adispatch_custom_event,
    dispatch_custom_event,
    get_usage_metadata_callback,
)
from langchain_core.globals import set_debug
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.runnables.config import ContextThreadPoolExecutor
from langchain_core.tools import tool
from langchain_core.tracers.context import register_configure_hook
from langchain_openai import ChatOpenAI
from langchain_openai.chat_models.base import (
    _create_usage_metadata,
    _create_usage_metadata_responses,
)
from langgraph.config import get_stream_writer
from lessons import MODELS, offline_env, run_python
from loguru import logger
from tracers import Collector
from web import CraftedServer, chromium, web_server

from tutorial_env.offline import FakeOpenAIServer, chat_completions, responses, text_reply, tokenize
from tutorial_env.offline.replies import REASONING_TOKENS
from tutorial_env.sse_reader import read_answer

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from langchain_community.callbacks import get_openai_callback
    from langchain_community.callbacks.openai_info import MODEL_COST_PER_1K_TOKENS


OPENAI_URL = "https://api.openai.com/v1"


@pytest.fixture
def fresh_fake():
    """A server of its own, for async tests: the async HTTP client is cached per base URL."""
    with FakeOpenAIServer(token_delay=0, fault="") as server:
        yield server


@pytest.fixture
def clean_env(monkeypatch):
    """No OPENAI_* settings from the developer's shell."""
    for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_PROXY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
    return monkeypatch


def model(server, name="gpt-4o-mini", **settings) -> ChatOpenAI:
    settings.setdefault("max_retries", 0)
    return ChatOpenAI(model=name, base_url=server.base_url, api_key="sk-test", **settings)


class Recorder(BaseCallbackHandler):
    """Every event as (hook, keyword arguments), in order."""

    def __init__(self):
        self.events = []

    def hooks(self):
        return [hook for hook, _ in self.events]

    def on_chain_start(self, serialized, inputs, **kw):
        self.events.append(("chain_start", kw))

    def on_chain_end(self, outputs, **kw):
        self.events.append(("chain_end", kw))

    def on_chain_error(self, error, **kw):
        self.events.append(("chain_error", kw))

    def on_chat_model_start(self, serialized, messages, **kw):
        self.events.append(("chat_model_start", dict(kw, name=serialized["name"])))

    def on_llm_new_token(self, token, **kw):
        self.events.append(("token", dict(kw, token=token)))

    def on_llm_end(self, response, **kw):
        self.events.append(("llm_end", kw))

    def on_llm_error(self, error, **kw):
        self.events.append(("llm_error", dict(kw, error=error)))

    def on_tool_start(self, serialized, input_str, **kw):
        self.events.append(("tool_start", kw))

    def on_tool_end(self, output, **kw):
        self.events.append(("tool_end", kw))

    def on_custom_event(self, name, data, **kw):
        self.events.append(("custom", dict(kw, event=name, data=data)))


def tokens(recorder):
    return [kw["token"] for hook, kw in recorder.events if hook == "token"]


def joke_chain(llm):
    return (
        ChatPromptTemplate.from_template("Tell me a joke about {topic}") | llm | StrOutputParser()
    )


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


# --- Use a real key or another provider -------------------------------------------------


@claim("stream-usage-default", "Use a real key")
def test_chatopenai_asks_for_stream_usage_only_without_base_url_proxy_or_client(clean_env):
    assert ChatOpenAI(model="m").stream_usage is True
    assert ChatOpenAI(model="m", base_url="http://127.0.0.1:1/v1").stream_usage is None
    assert ChatOpenAI(model="m", openai_proxy="http://127.0.0.1:3128").stream_usage is None
    assert ChatOpenAI(model="m", http_client=httpx.Client()).stream_usage is None
    clean_env.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")  # OpenAI's own URL, too
    assert ChatOpenAI(model="m").stream_usage is None
    assert ChatOpenAI(model="m", stream_usage=True).stream_usage is True
    clean_env.delenv("OPENAI_BASE_URL")
    clean_env.setenv("OPENAI_PROXY", "http://127.0.0.1:3128")
    assert ChatOpenAI(model="m").stream_usage is None


@claim("same-callbacks-except-usage-token", "Use a real key")
def test_asking_for_usage_adds_exactly_one_empty_token_and_changes_nothing_else(fake):
    plain, with_usage = Recorder(), Recorder()
    model(fake, streaming=True).invoke("Tell me a joke about cats", {"callbacks": [plain]})
    llm = model(fake, streaming=True, stream_usage=True)
    llm.invoke("Tell me a joke about cats", {"callbacks": [with_usage]})
    assert tokens(with_usage) == tokens(plain) + [""]
    without_tokens = [h for h in with_usage.hooks() if h != "token"]
    assert without_tokens == [h for h in plain.hooks() if h != "token"]


@claim("openai-api-base-wins", "Settings")
def test_openai_api_base_wins_over_openai_base_url(clean_env, fake):
    with FakeOpenAIServer(token_delay=0, fault="") as other:
        clean_env.setenv("OPENAI_BASE_URL", other.base_url)
        clean_env.setenv("OPENAI_API_BASE", fake.base_url)
        before = fake.request_count
        ChatOpenAI(model="gpt-4o-mini", max_retries=0).invoke("What is 1 + 2?")
        assert (fake.request_count - before, other.request_count) == (1, 0)


# --- 1. callbacks_runtime.py --------------------------------------------------------------


@claim("runtime-reaches-every-child", "1.")
def test_runtime_handler_hears_every_run_inside_the_call(fake):
    recorder = Recorder()
    joke_chain(model(fake)).invoke({"topic": "cats"}, {"callbacks": [recorder]})
    starts = [kw for hook, kw in recorder.events if hook.endswith("start")]
    root = starts[0]["run_id"]
    assert [kw["parent_run_id"] for kw in starts] == [None, root, root, root]
    assert recorder.hooks().count("chat_model_start") == 1


@claim("run-name-root-only", "1.")
def test_tags_and_metadata_reach_every_run_but_run_name_only_the_invoked_one(fake):
    recorder = Recorder()
    config = {"callbacks": [recorder], "tags": ["t"], "metadata": {"m": 1}, "run_name": "Mine"}
    joke_chain(model(fake)).invoke({"topic": "cats"}, config)
    starts = [kw for hook, kw in recorder.events if hook.endswith("start")]
    assert all("t" in kw["tags"] and kw["metadata"]["m"] == 1 for kw in starts)
    assert [kw.get("name") for kw in starts] == [
        "Mine",
        "ChatPromptTemplate",
        "ChatOpenAI",
        "StrOutputParser",
    ]


@claim("runtime-one-call-only", "1.")
def test_runtime_callbacks_last_for_one_call(fake):
    recorder, chain = Recorder(), joke_chain(model(fake))
    chain.invoke({"topic": "cats"}, {"callbacks": [recorder]})
    heard = len(recorder.events)
    chain.invoke({"topic": "cats"})
    assert heard > 0 and len(recorder.events) == heard


@claim("chat-model-start-or-llm-start", "1.")
def test_chat_models_fire_on_chat_model_start_else_on_llm_start_with_strings(fake):
    class OnlyLlmStart(BaseCallbackHandler):
        prompts = None

        def on_llm_start(self, serialized, prompts, **kw):
            self.prompts = prompts

    class Both(OnlyLlmStart):
        messages = None

        def on_chat_model_start(self, serialized, messages, **kw):
            self.messages = messages

    fallback, both = OnlyLlmStart(), Both()
    model(fake).invoke("hello", {"callbacks": [fallback, both]})
    assert fallback.prompts == ["Human: hello"]
    assert both.prompts is None and both.messages[0][0].content == "hello"


@claim("context-passes-config-on", "1.")
def test_a_tool_called_without_config_inside_a_step_still_joins_the_run(fake):
    recorder = Recorder()
    step = RunnableLambda(lambda x: add.invoke({"a": x, "b": 1}), name="step")
    step.invoke(2, {"callbacks": [recorder], "tags": ["outer"]})
    (step_start,) = [kw for hook, kw in recorder.events if hook == "chain_start"]
    (tool_start,) = [kw for hook, kw in recorder.events if hook == "tool_start"]
    assert sys.version_info >= (3, 11)
    assert tool_start["parent_run_id"] == step_start["run_id"] and "outer" in tool_start["tags"]


# --- 2. callbacks_attach.py ---------------------------------------------------------------


@claim("with-config-every-invoke", "2.")
def test_with_config_handler_fires_on_every_invoke_and_reaches_children(fake):
    recorder = Recorder()
    chain = joke_chain(model(fake)).with_config(callbacks=[recorder])
    chain.invoke({"topic": "cats"})
    chain.invoke({"topic": "dogs"})
    assert recorder.hooks().count("chat_model_start") == 2
    assert recorder.hooks().count("chain_start") == 6


@claim("attached-plus-runtime", "2.")
def test_runtime_handler_is_added_to_the_attached_one_and_tags_combine(fake):
    attached, runtime = Recorder(), Recorder()
    chain = joke_chain(model(fake)).with_config(callbacks=[attached], tags=["attached"])
    chain.invoke({"topic": "cats"}, {"callbacks": [runtime], "tags": ["rt"]})
    assert attached.hooks() == runtime.hooks() and attached.hooks()
    assert attached.events[0][1]["tags"] == ["attached", "rt"]


@claim("with-config-before-bind-tools", "2.")
def test_with_config_before_bind_tools_drops_the_callbacks_silently(fake):
    wrong, right = Recorder(), Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either
        dropped = model(fake).with_config(callbacks=[wrong]).bind_tools([add])
        dropped.invoke("What is 2 + 3? Use the add tool.")
    model(fake).bind_tools([add]).with_config(callbacks=[right]).invoke("What is 2 + 3?")
    assert wrong.events == [] and right.hooks() == ["chat_model_start", "llm_end"]


# --- 3. callbacks_constructor.py ----------------------------------------------------------


@claim("constructor-own-run-only", "3.")
def test_constructor_callbacks_hear_only_their_model_on_every_call(fake):
    constructor, runtime = Recorder(), Recorder()
    llm = model(fake, callbacks=[constructor])
    joke_chain(llm).invoke({"topic": "cats"}, {"callbacks": [runtime]})
    assert constructor.hooks() == ["chat_model_start", "llm_end"]
    assert runtime.hooks().count("chain_start") == 3
    llm.invoke("What is 1 + 2?", {"callbacks": []})
    assert constructor.hooks() == ["chat_model_start", "llm_end"] * 2


# --- 4. custom_callbacks.py ---------------------------------------------------------------


@claim("streaming-true-tokens", "4.")
def test_streaming_true_fires_one_token_event_per_chunk_between_empty_ones(fake):
    recorder = Recorder()
    message = model(fake, streaming=True).invoke("Tell me a joke", {"callbacks": [recorder]})
    streamed = tokens(recorder)
    empty = [i for i, token in enumerate(streamed) if token == ""]
    assert empty == [0, len(streamed) - 2, len(streamed) - 1]  # the first, and the last two
    assert "".join(streamed) == message.content and len(streamed) > 3


@claim("chunk-text-both-apis", "4.")
def test_the_token_is_a_list_on_the_responses_api_and_chunk_text_is_the_text_on_both(fake):
    seen = {}
    for name in ("gpt-4o-mini", "gpt-5.6-sol"):  # Chat Completions; the Responses API
        recorder = Recorder()
        message = model(fake, name, streaming=True).invoke(
            "Tell me a joke", {"callbacks": [recorder]}
        )
        calls = [kw for hook, kw in recorder.events if hook == "token"]
        assert "".join(kw["chunk"].text for kw in calls) == message.text and message.text
        seen[name] = calls
    assert all(isinstance(kw["token"], str) for kw in seen["gpt-4o-mini"])
    assert all(isinstance(kw["token"], list) for kw in seen["gpt-5.6-sol"])
    empty = {name: sum(not kw["chunk"].text for kw in calls) for name, calls in seen.items()}
    assert empty["gpt-5.6-sol"] > empty["gpt-4o-mini"]  # more of the calls carry no text


@claim("streaming-consumer", "4.")
def test_without_streaming_true_invoke_fires_no_tokens_but_streaming_consumers_do(fake):
    llm = model(fake)
    quiet, streamed, events = Recorder(), Recorder(), Recorder()
    message = llm.invoke("Tell me a joke", {"callbacks": [quiet]})
    chunks = list(joke_chain(llm).stream({"topic": "cats"}, {"callbacks": [streamed]}))

    async def consume():
        return [e async for e in llm.astream_events("Tell me a joke", {"callbacks": [events]})]

    asyncio.run(consume())
    assert tokens(quiet) == [] and message.content
    assert "".join(tokens(streamed)) == "".join(chunks) and len(chunks) > 3
    assert "".join(tokens(events)) == message.content


@claim("unknown-model-status", "4.")
def test_an_unknown_model_is_an_api_status_error_as_404_or_400(fake, deepseek_like_server):
    for server, status in ((fake, 404), (deepseek_like_server, 400)):
        recorder = Recorder()
        with pytest.raises(openai.APIStatusError) as caught:
            model(server, "no-such-model").invoke("hi", {"callbacks": [recorder]})
        assert caught.value.status_code == status
        assert recorder.hooks() == ["chat_model_start", "llm_error"]


@claim("error-hooks-observe", "4.")
def test_error_hooks_fire_and_the_exception_still_arrives(fake):
    recorder = Recorder()
    chain = ChatPromptTemplate.from_template("{q}") | model(fake, "no-such-model")
    with pytest.raises(openai.NotFoundError):
        chain.invoke({"q": "hi"}, {"callbacks": [recorder]})
    assert recorder.hooks()[-2:] == ["llm_error", "chain_error"]


@claim("handler-errors-only-logged", "4.")
def test_a_raising_handler_is_only_logged_unless_raise_error(fake, caplog):
    class Broken(BaseCallbackHandler):
        def on_llm_end(self, response, **kw):
            raise ValueError("bug in my handler")

    with caplog.at_level(logging.WARNING):
        answer = model(fake).invoke("What is 1 + 2?", {"callbacks": [Broken()]})
    assert answer.content == "1 + 2 = 3."
    assert "Error in Broken.on_llm_end callback: ValueError('bug in my handler')" in caplog.text
    strict = Broken()
    strict.raise_error = True
    with pytest.raises(ValueError, match="bug in my handler"):
        model(fake).invoke("What is 1 + 2?", {"callbacks": [strict]})


# --- 5. callbacks_async.py ----------------------------------------------------------------


@claim("async-loop-sync-pool", "5.")
def test_async_handlers_run_on_the_loop_and_sync_ones_in_its_pool(fresh_fake):
    threads = {}

    class OnLoop(AsyncCallbackHandler):
        async def on_llm_new_token(self, token, **kw):
            threads.setdefault("async", set()).add(threading.current_thread().name)

    class InPool(BaseCallbackHandler):
        def on_llm_new_token(self, token, **kw):
            threads.setdefault("sync", set()).add(threading.current_thread().name)

    async def main():
        llm = model(fresh_fake, streaming=True)
        await llm.ainvoke("What is 1 + 2?", {"callbacks": [OnLoop(), InPool()]})

    asyncio.run(main())
    assert threads["async"] == {"MainThread"}
    assert threads["sync"] and all(name.startswith("asyncio_") for name in threads["sync"])


@claim("async-start-awaited", "5.")
def test_the_request_waits_for_an_async_start_handler(fresh_fake):
    seen = []

    class Slow(AsyncCallbackHandler):
        async def on_chat_model_start(self, serialized, messages, **kw):
            await asyncio.sleep(0.2)
            seen.append(fresh_fake.request_count)  # the request has not been sent yet

    async def main():
        await model(fresh_fake).ainvoke("What is 1 + 2?", {"callbacks": [Slow()]})

    asyncio.run(main())
    assert seen == [0] and fresh_fake.request_count == 1


@claim("sync-handlers-in-parallel", "5.")
def test_sync_handlers_of_concurrent_calls_run_on_pool_threads_at_once(fresh_fake):
    state = {"active": 0, "peak": 0}
    lock = threading.Lock()

    class Slow(BaseCallbackHandler):
        def on_llm_new_token(self, token, **kw):
            with lock:
                state["active"] += 1
                state["peak"] = max(state["peak"], state["active"])
            time.sleep(0.05)
            with lock:
                state["active"] -= 1

    async def main():
        llm = model(fresh_fake, streaming=True, callbacks=[Slow()])
        await asyncio.gather(llm.ainvoke("What is 1 + 2?"), llm.ainvoke("What is 3 + 4?"))

    asyncio.run(main())
    assert state["peak"] >= 2


@claim("event-loop-closed", "5.")
def test_a_second_asyncio_run_can_fail_with_event_loop_is_closed(fresh_fake):
    asyncio.run(model(fresh_fake).ainvoke("What is 1 + 2?"))
    with pytest.raises(RuntimeError, match="Event loop is closed"):
        asyncio.run(model(fresh_fake).ainvoke("What is 1 + 2?"))


# --- 6. callbacks_custom_events.py --------------------------------------------------------


@claim("custom-events-reach-both", "6.")
def test_custom_events_reach_handlers_and_astream_events_v2(fresh_fake):
    async def async_step(x):
        await adispatch_custom_event("from_async", {"x": x})
        return x

    def sync_step(x):
        dispatch_custom_event("from_sync", {"x": x})
        return x

    chain = RunnableLambda(async_step) | RunnableLambda(sync_step)
    recorder = Recorder()

    async def main():
        cfg = {"callbacks": [recorder]}
        return [e async for e in chain.astream_events(1, cfg, version="v2")]

    events = asyncio.run(main())
    streamed = [(e["name"], e["data"]) for e in events if e["event"] == "on_custom_event"]
    handled = [(kw["event"], kw["data"]) for hook, kw in recorder.events if hook == "custom"]
    assert streamed == handled == [("from_async", {"x": 1}), ("from_sync", {"x": 1})]


@claim("dispatch-outside-run", "6.")
def test_dispatching_outside_a_run_raises():
    with pytest.raises(RuntimeError, match="Unable to dispatch an adhoc event without a parent"):
        dispatch_custom_event("lost", {})


@claim("astream-events-v1", "6.")
def test_astream_events_v1_is_deprecated_and_drops_custom_events():
    async def step(x):
        await adispatch_custom_event("progress", {})
        return x

    async def main():
        return [e async for e in RunnableLambda(step).astream_events(1, version="v1")]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        events = asyncio.run(main())
    assert any("version='v1' is deprecated" in str(w.message) for w in caught)
    assert [e for e in events if e["event"] == "on_custom_event"] == []


# --- 7. file_logging.py -------------------------------------------------------------------


@claim("file-handler-like-stdout", "7.")
def test_file_handler_writes_the_lines_stdout_handler_prints(fake, tmp_path, capsys):
    log = tmp_path / "chain.log"
    with FileCallbackHandler(str(log), mode="w") as file_handler:
        joke_chain(model(fake)).invoke(
            {"topic": "cats"}, {"callbacks": [StdOutCallbackHandler(), file_handler]}
        )
    screen = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)  # StdOut prints in bold
    assert "> Entering new RunnableSequence chain..." in screen
    assert log.read_text("utf-8") == screen


@claim("loguru-enqueue", "7.")
def test_loguru_lines_stay_whole_without_enqueue_and_enqueue_moves_the_writing(tmp_path):
    path = tmp_path / "threads.log"
    sink = logger.add(path, format="{message}")
    try:
        line = "x" * 2000

        def write_many():
            for _ in range(100):
                logger.info(line)

        workers = [threading.Thread(target=write_many) for _ in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        logger.remove(sink)
    lines = path.read_text().splitlines()
    assert len(lines) == 800 and set(lines) == {line}  # sinks are locked: no line is mixed

    writers = {}
    for enqueue in (False, True):
        sink = logger.add(
            lambda message, enqueue=enqueue: writers.setdefault(
                enqueue, threading.current_thread().name
            ),
            enqueue=enqueue,
        )
        logger.info("where am I written?")
        logger.complete()
        logger.remove(sink)
    assert writers[False] == threading.current_thread().name
    assert writers[True] != threading.current_thread().name


@claim("file-handler-appends", "7.")
def test_file_handler_appends_by_default(fake, tmp_path):
    log = tmp_path / "chain.log"
    for _ in range(2):
        with FileCallbackHandler(str(log)) as handler:
            joke_chain(model(fake)).invoke({"topic": "cats"}, {"callbacks": [handler]})
    assert log.read_text("utf-8").count("> Entering new RunnableSequence chain") == 2


@claim("file-handler-without-with", "7.")
def test_file_handler_without_with_warns_pending_deprecation_and_stays_open(tmp_path):
    script = (
        "from langchain_core.callbacks import FileCallbackHandler\n"
        "from langchain_core.runnables import RunnableLambda\n"
        "handler = FileCallbackHandler('run.log')\n"
        "RunnableLambda(lambda x: x).invoke(1, {'callbacks': [handler]})\n"
        "print('open after the run:', not handler.file.closed)\n"
        "file = handler.file\n"
        "del handler\n"
        "print('closed when collected:', file.closed)\n"
    )
    result = run_python(script, cwd=tmp_path)  # as fresh as `python -c`: default warning filters
    assert "open after the run: True\nclosed when collected: True\n" == result.stdout
    assert "LangChainPendingDeprecationWarning: Using FileCallbackHandler without a context " in (
        result.stderr
    )


@claim("file-handler-chains-only", "7.")
def test_file_and_stdout_handlers_write_nothing_for_a_bare_model_call(fake, tmp_path, capsys):
    log = tmp_path / "bare.log"
    with FileCallbackHandler(str(log), mode="w") as handler:
        model(fake).invoke("What is 1 + 2?", {"callbacks": [handler, StdOutCallbackHandler()]})
    assert log.read_text() == "" and capsys.readouterr().out == ""


# --- 8. token_counting.py -----------------------------------------------------------------


@claim("usage-callback-sums", "8.")
def test_usage_metadata_callback_sums_every_call_in_the_block_per_model(fake):
    llm = model(fake)
    with get_usage_metadata_callback() as once:
        llm.invoke("What is 1 + 2?")
    with get_usage_metadata_callback() as twice:
        llm.invoke("What is 1 + 2?")
        llm.invoke("What is 1 + 2?")
    (name,) = once.usage_metadata
    assert name == "gpt-4o-mini"
    for key in ("input_tokens", "output_tokens", "total_tokens"):
        assert twice.usage_metadata[name][key] == 2 * once.usage_metadata[name][key] > 0


@claim("genai-prices-prices", "8.")
def test_genai_prices_finds_the_provider_from_its_address_and_prices_each_kind_of_token():
    luna = calc_price(Usage(input_tokens=1), "gpt-6-luna", provider_api_url=OPENAI_URL)
    assert luna.provider.id == "openai"
    rate = {  # dollars per token, below the long-context tier
        kind: calc_price(
            Usage(**{f"{kind}_tokens": 1000}), "gpt-6-luna", provider_id="openai"
        ).total_price
        / 1000
        for kind in ("input", "output")
    }
    both = calc_price(
        Usage(input_tokens=1000, cache_read_tokens=400, output_tokens=100),
        "gpt-6-luna",
        provider_api_url=OPENAI_URL,
    )
    cached_rate = (both.input_price - 600 * rate["input"]) / 400
    assert 0 < cached_rate < rate["input"]  # cached input: priced, and cheaper
    assert both.output_price == 100 * rate["output"] > 0
    assert both.total_price == both.input_price + both.output_price


@claim("reasoning-in-output-tokens", "8.")
def test_reasoning_tokens_are_counted_in_output_tokens_and_reported_on_their_own(fake):
    for name in ("gpt-6-luna", "gpt-5.6-sol"):  # Chat Completions; the Responses API
        answer = model(fake, name).invoke("What is 1 + 2?")
        tokens = answer.usage_metadata
        reasoning = tokens["output_token_details"]["reasoning"]
        assert reasoning == REASONING_TOKENS
        assert tokens["output_tokens"] == len(tokenize(answer.text)) + reasoning


@claim("openai-callback-zero-for-luna", "8.")
def test_get_openai_callbacks_table_stops_at_gpt_5_and_prices_gpt_6_luna_at_zero(fake):
    assert "gpt-5" in MODEL_COST_PER_1K_TOKENS
    assert not any(name.startswith("gpt-6") for name in MODEL_COST_PER_1K_TOKENS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with get_openai_callback() as cost:
            model(fake, "gpt-6-luna").invoke("What is 1 + 2?")
    assert cost.total_tokens > 0 and cost.total_cost == 0


@claim("genai-prices-unknown", "8.")
def test_genai_prices_knows_models_only_under_their_provider_and_raises_for_others():
    deepseek = "https://api.deepseek.com"
    usage = Usage(input_tokens=1000, output_tokens=100)
    assert calc_price(usage, "deepseek-flash", provider_api_url=deepseek).total_price > 0
    for name, url in (
        ("llama3.2", "http://localhost:11434/v1"),
        ("qwen-plus", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"),
        ("qwen-plus", deepseek),
    ):
        with pytest.raises(LookupError):
            calc_price(usage, name, provider_api_url=url)


@claim("cached-input-priced", "8.")
def test_cached_tokens_become_cache_read_and_cost_a_tenth_of_input_for_gpt_6_luna():
    tokens = _create_usage_metadata(
        {
            "prompt_tokens": 2000,
            "completion_tokens": 10,
            "total_tokens": 2010,
            "prompt_tokens_details": {"cached_tokens": 1024},
        }
    )
    assert tokens["input_token_details"]["cache_read"] == 1024
    responses = _create_usage_metadata_responses(
        {
            "input_tokens": 2000,
            "output_tokens": 10,
            "total_tokens": 2010,
            "input_tokens_details": {"cached_tokens": 1024},
            "output_tokens_details": {},
        }
    )
    assert responses["input_token_details"]["cache_read"] == 1024
    fresh = calc_price(Usage(input_tokens=1024), "gpt-6-luna", provider_id="openai").total_price
    cached = calc_price(
        Usage(input_tokens=1024, cache_read_tokens=1024), "gpt-6-luna", provider_id="openai"
    ).total_price
    assert cached * 10 == fresh


@claim("openai-callback-prices", "8.")
def test_openai_callback_prices_tokens_from_its_table(fake):
    with get_openai_callback() as cost:
        model(fake).invoke("What is 1 + 2?")
    expected = (
        cost.prompt_tokens * MODEL_COST_PER_1K_TOKENS["gpt-4o-mini"]
        + cost.completion_tokens * MODEL_COST_PER_1K_TOKENS["gpt-4o-mini-completion"]
    ) / 1000
    assert cost.total_cost == pytest.approx(expected) and cost.total_cost > 0


@claim("stream-without-usage-reads-zero", "8.")
def test_a_stream_without_requested_usage_counts_nothing(fake):
    llm = model(fake)  # a base URL: stream_usage stays None
    with get_usage_metadata_callback() as usage, get_openai_callback() as cost:
        list(llm.stream("What is 1 + 2?"))
    assert usage.usage_metadata == {} and (cost.total_tokens, cost.successful_requests) == (0, 0)
    with get_usage_metadata_callback() as usage:
        list(llm.stream("What is 1 + 2?", stream_usage=True))
    assert usage.usage_metadata["gpt-4o-mini"]["total_tokens"] > 0


@claim("responses-stream-usage", "8.")
def test_the_responses_api_always_reports_stream_usage_and_a_per_call_stream_usage_raises(fake):
    for stream_usage in (None, False, True):
        llm = model(fake, "gpt-5.6-sol", stream_usage=stream_usage)
        with get_usage_metadata_callback() as usage:
            chunks = list(llm.stream("What is 1 + 2?"))
        assert usage.usage_metadata["gpt-5.6-sol"]["total_tokens"] > 0
        assert chunks[-1].usage_metadata and chunks[-1].response_metadata["object"] == "response"
    before = fake.request_count
    with pytest.raises(TypeError, match="unexpected keyword argument 'stream_usage'"):
        list(model(fake, "gpt-5.6-sol").stream("What is 1 + 2?", stream_usage=True))
    assert fake.request_count == before  # raised in the client, before any request


@claim("usage-follows-context", "8.")
def test_counting_follows_the_context_tasks_inside_yes_earlier_tasks_and_threads_no(fresh_fake):
    llm = model(fresh_fake)

    def requests(block):
        return sum(u["total_tokens"] for u in block.usage_metadata.values())

    async def main():
        early = asyncio.create_task(llm.ainvoke("What is 1 + 2?"))
        with get_usage_metadata_callback() as usage:
            await early
            inside = asyncio.create_task(llm.ainvoke("What is 1 + 2?"))
        await inside
        return usage

    usage = asyncio.run(main())
    with get_usage_metadata_callback() as one:
        llm.invoke("What is 1 + 2?")
    with get_usage_metadata_callback() as threaded:
        worker = threading.Thread(target=llm.invoke, args=("What is 1 + 2?",))
        worker.start()
        worker.join()
    assert requests(usage) == requests(one) > 0  # only the task created inside
    assert threaded.usage_metadata == {}


@claim("unknown-model-zero-cost", "8.")
def test_a_model_missing_from_the_price_table_costs_zero_without_warning(fake):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with get_openai_callback() as cost:
            model(fake, "my-local-model").invoke("What is 1 + 2?")
    assert cost.total_tokens > 0 and cost.total_cost == 0


@claim("openai-callback-no-reset-on-error", "8.")
def test_get_openai_callback_keeps_counting_after_its_block_raised(fake):
    llm = model(fake)
    with pytest.raises(KeyError):
        with get_openai_callback() as leaked:
            raise KeyError("the block failed")
    with pytest.raises(KeyError):
        with get_usage_metadata_callback() as reset:
            raise KeyError("the block failed")
    llm.invoke("What is 1 + 2?")
    assert leaked.successful_requests == 1  # counted after its block ended
    assert reset.usage_metadata == {}


@claim("community-sunset-warning", "8.")
def test_langchain_community_warns_on_import_that_it_is_being_sunset():
    result = run_python("import langchain_community")
    assert "DeprecationWarning: `langchain-community` is being sunset" in result.stderr


# --- Troubleshooting ----------------------------------------------------------------------


@claim("no-default-timeout", "Troubleshooting")
def test_no_timeout_by_default_except_a_stalled_async_stream(clean_env):
    llm = ChatOpenAI(model="m", base_url="http://127.0.0.1:1/v1")
    assert llm.request_timeout is None and llm.root_client.timeout is None
    assert llm.stream_chunk_timeout == 120.0
    outcome = []
    with FakeOpenAIServer(token_delay=0, fault="stall") as stalled:  # leaving it hangs up
        fast = model(stalled, streaming=True, stream_chunk_timeout=0.3)
        with pytest.raises(TimeoutError, match="No streaming chunk received for 0.3s"):
            asyncio.run(fast.ainvoke("Tell me a joke"))

        def consume_sync_stream():
            try:
                outcome.append(list(fast.stream("Tell me a joke")))
            except openai.APIConnectionError as error:
                outcome.append(error)

        sync_stream = threading.Thread(target=consume_sync_stream, daemon=True)
        sync_stream.start()
        sync_stream.join(1.0)
        assert sync_stream.is_alive() and outcome == []  # the sync stream still waits
    sync_stream.join(10)
    assert isinstance(outcome[0], openai.APIConnectionError)  # it waited until the hang-up


@claim("timeout-per-attempt", "Troubleshooting")
def test_a_timeout_is_per_attempt_and_the_sdk_retries_it_twice():
    with FakeOpenAIServer(token_delay=0, fault="timeout") as silent:
        llm = ChatOpenAI(model="m", base_url=silent.base_url, api_key="sk-t", timeout=0.2)
        started = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            llm.invoke("hi")
        assert silent.request_count == 3 and time.monotonic() - started >= 0.6


@claim("sdk-retries-429-500", "Troubleshooting")
def test_the_sdk_retries_429_and_5xx_twice():
    for fault in ("429", "500"):
        with FakeOpenAIServer(token_delay=0, fault=fault) as server:
            llm = ChatOpenAI(model="m", base_url=server.base_url, api_key="sk-t")
            with pytest.raises(openai.APIStatusError):
                llm.invoke("hi")
            assert server.request_count == 3


# --- 9. agent_callbacks.py ----------------------------------------------------------------

AGENT_QUESTION = {
    "messages": [{"role": "user", "content": "What is 6 * 7? Use the multiply tool."}]
}


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    dispatch_custom_event("progress", {"via": "dispatch_custom_event"})
    get_stream_writer()({"via": "get_stream_writer"})
    return a * b


def agent(llm):
    return create_agent(llm, tools=[multiply])


@claim("agent-runtime-whole-loop", "9.")
def test_a_runtime_handler_hears_the_graph_each_model_turn_and_the_tool_with_its_node(fake):
    graph = agent(model(fake)).get_graph()
    assert set(graph.nodes) == {"__start__", "model", "tools", "__end__"}
    # the model node goes on to the tools node or ends; the tools node goes back to it
    assert {(edge.source, edge.target) for edge in graph.edges} == {
        ("__start__", "model"),
        ("model", "tools"),
        ("tools", "model"),
        ("model", "__end__"),
    }
    recorder = Recorder()
    result = agent(model(fake)).invoke(AGENT_QUESTION, {"callbacks": [recorder]})
    names = {kw["run_id"]: kw.get("name") for hook, kw in recorder.events if "_start" in hook}
    heard = [
        (hook, kw.get("name"), kw["metadata"].get("langgraph_node"), names.get(kw["parent_run_id"]))
        for hook, kw in recorder.events
        if hook.endswith("_start")
    ]
    assert heard == [  # (what, its name, its node, its parent's name)
        ("chain_start", "LangGraph", None, None),  # the graph, the root: in no node
        ("chain_start", "model", "model", "LangGraph"),
        ("chat_model_start", "ChatOpenAI", "model", "model"),  # asks for the tool
        ("chain_start", "tools", "tools", "LangGraph"),
        ("tool_start", None, "tools", "tools"),
        ("chain_start", "model", "model", "LangGraph"),
        ("chat_model_start", "ChatOpenAI", "model", "model"),  # answers: the loop ends
    ]
    turns = [message for message in result["messages"] if message.type == "ai"]
    assert [bool(turn.tool_calls) for turn in turns] == [True, False]


def heard(recorder):
    hooks = recorder.hooks()
    return tuple(hooks.count(h) for h in ("chain_start", "chat_model_start", "tool_start"))


@claim("agent-where-you-attach", "9.")
def test_what_a_handler_hears_depends_on_where_it_is_attached(fake, caplog):
    def attached(build):
        recorder = Recorder()
        runnable, config = build(recorder)
        runnable.invoke(AGENT_QUESTION, config)
        return heard(recorder)

    assert attached(lambda r: (agent(model(fake)), {"callbacks": [r]})) == (4, 2, 1)
    assert attached(lambda r: (agent(model(fake)).with_config(callbacks=[r]), {})) == (4, 2, 1)
    assert attached(lambda r: (agent(model(fake, callbacks=[r])), {})) == (0, 2, 0)
    with warnings.catch_warnings(), caplog.at_level(logging.DEBUG):
        warnings.simplefilter("error")  # and nothing warns about the lost handler
        prebound = attached(lambda r: (agent(model(fake).with_config(callbacks=[r])), {}))
    assert prebound == (0, 0, 0)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []  # nor logs it
    # The cause: the agent binds its tools to the model, and bind_tools drops the config that
    # holds the handler. The same wrapped model in an agent without tools is heard.
    recorder = Recorder()
    wrapped = model(fake).with_config(callbacks=[recorder])
    wrapped.bind_tools([multiply]).invoke("What is 6 * 7? Use the multiply tool.")
    assert heard(recorder) == (0, 0, 0)
    wrapped.invoke("Hello")
    assert heard(recorder) == (0, 1, 0)
    no_tools = attached(lambda r: (create_agent(model(fake).with_config(callbacks=[r])), {}))
    assert no_tools == (0, 1, 0)


@claim("agent-constructor-handler-every-agent", "9.")
def test_a_constructor_handler_follows_its_model_into_every_agent_but_hears_only_its_turns(
    fake,
):
    recorder = Recorder()
    shared = model(fake, callbacks=[recorder])
    agent(shared).invoke(AGENT_QUESTION)
    assert heard(recorder) == (0, 2, 0)  # both model turns, not the graph or the tool
    create_agent(shared, tools=[add]).invoke(
        {"messages": [{"role": "user", "content": "What is 2 + 3? Use the add tool."}]}
    )
    assert heard(recorder) == (0, 4, 0)  # another agent, and the handler came along
    nodes = {kw["metadata"].get("langgraph_node") for h, kw in recorder.events if "start" in h}
    assert nodes == {"model"}


MESSAGES = {"stream_mode": "messages"}


def streamed_text(recorder):
    """The text of the chunks a handler heard (on Responses a token is a list of blocks)."""
    return "".join(kw["chunk"].text for hook, kw in recorder.events if hook == "token")


def model_node_kinds(chunks):
    return [type(c).__name__ for c, meta in chunks if meta["langgraph_node"] == "model"]


@claim("agent-messages-mode-streams", "9.")
@pytest.mark.parametrize("name", MODELS)
def test_stream_mode_messages_makes_the_model_stream_unless_streaming_is_switched_off(
    fake, monkeypatch, name
):
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.tracers._streaming import _StreamingCallbackHandler
    from langgraph.pregel._messages import StreamMessagesHandler

    decided = []  # each model call: (does it stream, its handlers' class names)
    should_stream = BaseChatModel._should_stream

    def spy(self, *, async_api, run_manager=None, **kwargs):
        answer = should_stream(self, async_api=async_api, run_manager=run_manager, **kwargs)
        decided.append((answer, {type(h).__name__ for h in run_manager.handlers}))
        return answer

    monkeypatch.setattr(BaseChatModel, "_should_stream", spy)
    llm = model(fake, name)
    assert "streaming" not in llm.model_fields_set and not llm.streaming
    invoked = Recorder()
    agent(llm).invoke(AGENT_QUESTION, {"callbacks": [invoked]})
    assert tokens(invoked) == []  # invoked, the model does not stream
    assert [answer for answer, _ in decided] == [False, False]
    decided.clear()
    recorder = Recorder()
    chunks = list(
        agent(llm).stream(AGENT_QUESTION, {"callbacks": [recorder]}, stream_mode="messages")
    )
    final = "".join(c.text for c, meta in chunks if meta["langgraph_node"] == "model")
    assert final == streamed_text(recorder) and final.endswith("the answer is 42.")
    # the cause: LangGraph's own streaming handler is among the model call's handlers
    assert [(answer, "StreamMessagesHandler" in names) for answer, names in decided] == [
        (True, True),
        (True, True),
    ]
    assert issubclass(StreamMessagesHandler, _StreamingCallbackHandler)
    off = ({"streaming": False}, {"disable_streaming": True}, {"disable_streaming": "tool_calling"})
    for switched_off in off:  # "tool_calling": the agent's calls carry tools
        recorder = Recorder()
        chunks = list(
            agent(model(fake, name, **switched_off)).stream(
                AGENT_QUESTION, {"callbacks": [recorder]}, stream_mode="messages"
            )
        )
        assert tokens(recorder) == [], switched_off  # the model's setting wins
        assert model_node_kinds(chunks) == ["AIMessage", "AIMessage"], switched_off


@claim("agent-usage-needs-stream-usage", "9.")
def test_behind_openai_base_url_chatopenai_does_not_ask_for_usage_in_a_stream(
    clean_env, fresh_fake
):
    clean_env.setenv("OPENAI_BASE_URL", fresh_fake.base_url)
    send = chat_completions.stream
    asked = []  # each streamed call: did ChatOpenAI ask for usage?

    def server(unasked):
        """The offline model's Chat Completions stream; unasked=True: one that sends usage
        without being asked, as some OpenAI-compatible servers do."""

        def stream(request, plan, reply_id):
            asked.append((request.get("stream_options") or {}).get("include_usage", False))
            if unasked:
                request = dict(request, stream_options={"include_usage": True})
            return send(request, plan, reply_id)

        return stream

    def used(stream_usage, unasked=False):
        clean_env.setattr(chat_completions, "stream", server(unasked))
        asked.clear()
        before = fresh_fake.routes["/v1/chat/completions"]
        with get_usage_metadata_callback() as usage:
            llm = ChatOpenAI(model="gpt-4o-mini", stream_usage=stream_usage, max_retries=0)
            list(agent(llm).stream(AGENT_QUESTION, stream_mode="messages"))
        assert fresh_fake.routes["/v1/chat/completions"] - before == 2  # on Chat Completions
        total = sum(u["total_tokens"] for u in usage.usage_metadata.values())
        return total, list(asked)

    assert used(None) == (0, [False, False])  # not asked, so nothing sent and nothing counted
    total, asked_for = used(True)
    assert total > 0 and asked_for == [True, True]
    assert used(None, unasked=True) == (total, [False, False])  # usage sent unasked counts


@claim("agent-responses-usage-always", "9.")
def test_gpt_6_luna_sends_the_agents_calls_to_the_responses_api_which_reports_usage(
    fake, monkeypatch
):
    llm = model(fake, "gpt-6-luna")
    assert llm._use_responses_api({"tools": [{"type": "function", "name": "multiply"}]})
    assert not llm._use_responses_api({})  # the tools are the reason
    send, requests = responses.stream, []

    def stream(request, plan, reply_id):
        requests.append(request)
        return send(request, plan, reply_id)

    monkeypatch.setattr(responses, "stream", stream)
    used, sent_bodies = {}, {}
    for stream_usage in (None, False, True):
        before = dict(fake.routes)
        requests.clear()
        with get_usage_metadata_callback() as usage:
            list(
                agent(model(fake, "gpt-6-luna", stream_usage=stream_usage)).stream(
                    AGENT_QUESTION, stream_mode="messages"
                )
            )
        used[stream_usage] = usage.usage_metadata["gpt-6-luna"]["total_tokens"]
        sent_bodies[stream_usage] = list(requests)
        sent = {path: fake.routes[path] - before.get(path, 0) for path in fake.routes}
        assert sent == {"/v1/responses": 2} or sent == {
            "/v1/responses": 2,
            "/v1/chat/completions": 0,
        }  # both of the loop's model calls, the tool call and the answer
    assert used[None] == used[False] == used[True] > 0
    # stream_usage changes nothing: the requests carry the same settings, none about usage
    settings = {
        stream_usage: [{k: v for k, v in body.items() if k != "input"} for body in bodies]
        for stream_usage, bodies in sent_bodies.items()
    }
    assert settings[None] == settings[False] == settings[True]
    assert {key for body in settings[None] for key in body} == {"model", "stream", "tools"}


@claim("agent-nostream", "9.")
@pytest.mark.parametrize("name", MODELS)
def test_in_messages_mode_a_nostream_model_sends_whole_messages_and_still_streams(fake, name):
    plain, quiet = Recorder(), Recorder()
    list(agent(model(fake, name)).stream(AGENT_QUESTION, {"callbacks": [plain]}, **MESSAGES))
    llm = model(fake, name, tags=["nostream"])
    chunks = list(agent(llm).stream(AGENT_QUESTION, {"callbacks": [quiet]}, **MESSAGES))
    assert model_node_kinds(chunks) == ["AIMessage", "AIMessage"]  # no AIMessageChunk
    whole = [c for c, meta in chunks if meta["langgraph_node"] == "model"]
    assert whole[0].tool_calls and whole[1].text.endswith("the answer is 42.")
    # the model itself still streams, and a handler of your own hears every token
    assert len(tokens(quiet)) == len(tokens(plain)) > 0
    assert streamed_text(quiet) == streamed_text(plain) == whole[1].text


@claim("agent-custom-events", "9.")
def test_dispatch_custom_event_and_get_stream_writer_reach_different_places(fresh_fake):
    recorder = Recorder()
    custom = list(
        agent(model(fresh_fake)).stream(
            AGENT_QUESTION, {"callbacks": [recorder]}, stream_mode="custom"
        )
    )
    handled = [kw["data"]["via"] for hook, kw in recorder.events if hook == "custom"]

    async def events():
        stream = agent(model(fresh_fake)).astream_events(AGENT_QUESTION, version="v2")
        return [event async for event in stream]

    events_v2 = asyncio.run(events())
    assert custom == [{"via": "get_stream_writer"}]
    assert handled == ["dispatch_custom_event"]
    assert [e["data"]["via"] for e in events_v2 if e["event"] == "on_custom_event"] == [
        "dispatch_custom_event"
    ]
    # the writer's data reaches no astream_events event of any type
    assert [e["event"] for e in events_v2 if "get_stream_writer" in repr(e)] == []
    assert [e["event"] for e in events_v2 if "dispatch_custom_event" in repr(e)] == [
        "on_custom_event"
    ]


# Lesson 10: tracers.


class EveryRunCollector(Collector):
    """Added by LangChain to every run while LESSON10_CLAIM_TRACING is on."""

    received = []

    def _persist_run(self, run):
        EveryRunCollector.received.append(run)


register_configure_hook(
    ContextVar("claims_tracer", default=None), True, EveryRunCollector, "LESSON10_CLAIM_TRACING"
)


def shape(run):
    return (run.name, [shape(child) for child in run.child_runs])


def thread_step(llm, pool_class=ThreadPoolExecutor, pass_config=False):
    def ask(topic, config):
        with pool_class(max_workers=1) as pool:
            return pool.submit(llm.invoke, topic, config if pass_config else None).result()

    return RunnableLambda(ask, name="step")


def simple_chain(llm):
    prompt = ChatPromptTemplate.from_template("Say something short about {topic}.")
    return (prompt | llm | StrOutputParser()).with_config(run_name="chain")


@tool
def word_count(text: str) -> int:
    """Count the words in a text."""
    return len(text.split())


def debug_blocks(printed):
    """set_debug's printout as (header, what it printed under it), without colours or times."""
    printed = re.sub(r"\x1b\[[0-9;]*m", "", printed)
    printed = re.sub(r"\] \[(\d+ms|\d+\.\d+s)\] ", "] [TIME] ", printed)
    parts = re.split(r"^(\[\w+/\w+\] .*)$", printed, flags=re.M)
    return [(header, body.strip()) for header, body in zip(parts[1::2], parts[2::2], strict=True)]


def debug_headers(kind, title, path):
    """The start and end lines set_debug prints for one run."""
    return (
        f"[{kind}/start] [{path}] Entering {title} run with input:",
        f"[{kind}/end] [{path}] [TIME] Exiting {title} run with output:",
    )


@claim("set-debug-console", "10.")
def test_set_debug_prints_each_chain_prompt_model_parser_and_tool_run_with_its_data(fake, capsys):
    prompt = ChatPromptTemplate.from_template("Say something short about {topic}.")
    upper = RunnableLambda(str.upper, name="upper")
    chain = prompt | model(fake) | StrOutputParser() | upper | word_count
    set_debug(True)
    try:
        count = chain.with_config(run_name="chain").invoke({"topic": "tracing"})
    finally:
        set_debug(False)
    blocks = debug_blocks(capsys.readouterr().out)
    root, prompt_, llm, parser, step, tool_ = [
        debug_headers(kind, title, " > ".join(["chain:chain", *path]))
        for kind, title, *path in [
            ("chain", "Chain"),
            ("chain", "Prompt", "prompt:ChatPromptTemplate"),
            ("llm", "LLM", "llm:ChatOpenAI"),
            ("chain", "Parser", "parser:StrOutputParser"),
            ("chain", "Chain", "chain:upper"),
            ("tool", "Tool", "tool:word_count"),
        ]
    ]
    children = [prompt_, llm, parser, step, tool_]
    assert [header for header, _ in blocks] == [root[0], *sum(children, ()), root[1]]
    printed = dict(blocks)
    assert json.loads(printed[root[0]]) == {"topic": "tracing"}  # the inputs, as JSON
    assert json.loads(printed[llm[0]]) == {"prompts": ["Human: Say something short about tracing."]}
    answer = json.loads(printed[parser[1]])["output"]  # and the outputs
    assert answer.startswith("I am the offline tutorial model")
    assert answer in json.loads(printed[llm[1]])["generations"][0][0]["text"]
    assert (printed[tool_[0]], printed[tool_[1]]) == (f'"{answer.upper()}"', f'"{count}"')
    assert json.loads(printed[root[1]]) == {"output": count}
    assert (printed[prompt_[1]], printed[parser[0]]) == ("[outputs]", "[inputs]")  # not JSON


@claim("set-debug-gaps", "10.")
def test_set_debug_prints_no_retriever_run_and_no_start_for_a_tool_called_with_a_dict(
    fake, capsys, caplog
):
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    class Echo(BaseRetriever):
        def _get_relevant_documents(self, query, *, run_manager):
            return [Document(page_content=query)]

    tracer = Collector()
    question = {"messages": [{"role": "user", "content": "What is 2 + 3? Use the add tool."}]}
    set_debug(True)
    try:
        with caplog.at_level(logging.WARNING, "langchain_core.callbacks.manager"):
            chain = (RunnableLambda(str.strip, name="before") | Echo()).with_config(
                run_name="chain"
            )
            documents = chain.invoke(" tracing ", {"callbacks": [tracer]})
            printed = debug_blocks(capsys.readouterr().out)
            answer = create_agent(model(fake), tools=[add]).invoke(question)
    finally:
        set_debug(False)
    assert documents == [Document(page_content="tracing")]  # the retriever ran, as a run:
    assert [shape(root) for root in tracer.roots] == [("chain", [("before", []), ("Echo", [])])]
    assert tracer.roots[0].child_runs[1].run_type == "retriever"
    chain_start, chain_end = debug_headers("chain", "Chain", "chain:chain")
    before_start, before_end = debug_headers("chain", "Chain", "chain:chain > chain:before")
    assert [header for header, _ in printed] == [chain_start, before_start, before_end, chain_end]
    assert "retriever" not in str(printed).lower()  # and printed nothing
    tool_call = answer["messages"][1].tool_calls[0]
    assert (tool_call["name"], tool_call["args"]) == ("add", {"a": 2, "b": 3})  # a dict
    headers = [header for header, _ in debug_blocks(capsys.readouterr().out)]
    tool_start, tool_end = debug_headers("tool", "Tool", "chain:LangGraph > chain:tools > tool:add")
    assert tool_end in headers and tool_start not in headers
    assert not [header for header in headers if header.startswith("[tool/start]")]
    assert [r.getMessage() for r in caplog.records] == [
        "Error in ConsoleCallbackHandler.on_tool_start callback: KeyError('input')"
    ]


@claim("set-debug-global", "10.")
def test_set_debug_reaches_a_run_in_any_thread_until_set_debug_false(fake, capsys):
    def in_a_bare_thread():  # a thread of its own: no context from this one
        thread = threading.Thread(target=simple_chain(model(fake)).invoke, args=({"topic": "x"},))
        thread.start()
        thread.join(30)
        assert not thread.is_alive(), "the chain in the thread did not finish within 30 s"

    set_debug(True)
    try:
        in_a_bare_thread()
    finally:
        set_debug(False)
    headers = [header for header, _ in debug_blocks(capsys.readouterr().out)]
    assert (headers[0], headers[-1]) == debug_headers("chain", "Chain", "chain:chain")
    assert len(headers) == 8  # the chain, its prompt, model and parser: each starts and ends
    in_a_bare_thread()
    simple_chain(model(fake)).invoke({"topic": "x"})
    assert capsys.readouterr().out == ""  # set_debug(False) turns it off, in every thread


def tree(run):
    """A run and every run under it, parents first."""
    return [run, *(r for child in run.child_runs for r in tree(child))]


class EndChecking(Collector):
    """Notes, at each call, the root's name and whether every run in its tree had ended."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def _persist_run(self, run):
        self.calls.append((run.name, all(r.end_time for r in tree(run))))
        super()._persist_run(run)


def usage_of(run):
    return run.outputs["generations"][0][0]["message"]["kwargs"].get("usage_metadata")


@claim("tracer-gets-finished-roots", "10.")
def test_persist_run_gets_each_root_once_when_it_ends_with_its_children(fake):
    tracer, seen_before_the_end = EndChecking(), []

    def last(text):  # the last step: the root has not ended yet
        seen_before_the_end.append(len(tracer.roots))
        return text

    prompt = ChatPromptTemplate.from_template("Say something short about {topic}.")
    chain = prompt | model(fake) | StrOutputParser() | RunnableLambda(last, name="last")
    for _ in range(2):
        chain.with_config(run_name="chain").invoke({"topic": "tracing"}, {"callbacks": [tracer]})
    assert seen_before_the_end == [0, 1]  # not while the root runs,
    assert tracer.calls == [("chain", True)] * 2  # but once for each root, all of it ended
    assert len({root.id for root in tracer.roots}) == 2
    names = [("ChatPromptTemplate", []), ("ChatOpenAI", []), ("StrOutputParser", []), ("last", [])]
    assert [shape(root) for root in tracer.roots] == [("chain", names)] * 2
    for run in tree(tracer.roots[0]):
        assert run.start_time <= run.end_time and run.inputs and run.outputs
        assert run.error is None
    assert usage_of(tracer.roots[0].child_runs[1])["total_tokens"] > 0

    def fail(text):
        raise ValueError("step failed")

    errors = EndChecking()
    failing = prompt | model(fake) | RunnableLambda(fail, name="fail")
    with pytest.raises(ValueError, match="step failed"):
        failing.with_config(run_name="failing").invoke({"topic": "x"}, {"callbacks": [errors]})
    assert errors.calls == [("failing", True)]  # a root that raised: once, at its end
    assert [
        (run.name, run.error and run.error.split("Traceback")[0]) for run in tree(errors.roots[0])
    ] == [
        ("failing", "ValueError('step failed')"),
        ("ChatPromptTemplate", None),
        ("ChatOpenAI", None),
        ("fail", "ValueError('step failed')"),
    ]

    # The model's token usage is what the provider reported: a stream not asked for it has none.
    for stream_usage, reported in [(None, False), (True, True)]:
        streamed = Collector()
        llm = model(fake, streaming=True, stream_usage=stream_usage)
        llm.invoke("Say something short about tracing.", {"callbacks": [streamed]})
        assert (usage_of(streamed.roots[0]) is not None) is reported, stream_usage


@claim("thread-loses-run-context", "10.")
def test_a_model_call_from_a_plain_thread_is_no_child_of_the_step(fake):
    tracer, recorder = Collector(), Recorder()
    thread_step(model(fake)).invoke("tracing", {"callbacks": [tracer, recorder]})
    assert [shape(root) for root in tracer.roots] == [("step", [])]
    assert "chat_model_start" not in recorder.hooks()


@claim("configure-hook-second-root", "10.")
def test_a_tracer_added_to_every_run_files_the_lost_call_as_a_second_root(fake, monkeypatch):
    monkeypatch.setenv("LESSON10_CLAIM_TRACING", "true")
    EveryRunCollector.received = []
    thread_step(model(fake)).invoke("tracing")
    assert [shape(root) for root in EveryRunCollector.received] == [
        ("ChatOpenAI", []),
        ("step", []),
    ]
    assert len({root.trace_id for root in EveryRunCollector.received}) == 2


@claim("context-executor-keeps-parent", "10.")
def test_passing_config_or_a_context_thread_pool_keeps_the_call_in_the_tree(fake, monkeypatch):
    monkeypatch.setenv("LESSON10_CLAIM_TRACING", "true")
    for pool_class, pass_config in [(ThreadPoolExecutor, True), (ContextThreadPoolExecutor, False)]:
        tracer, EveryRunCollector.received = Collector(), []
        thread_step(model(fake), pool_class, pass_config).invoke("x", {"callbacks": [tracer]})
        for roots in (tracer.roots, EveryRunCollector.received):
            assert [shape(root) for root in roots] == [("step", [("ChatOpenAI", [])])]


class Broken(Collector):
    def _persist_run(self, run):
        raise ConnectionError("collector down")


class StrictBroken(Broken):
    raise_error = True


@claim("tracer-error-only-logged", "10.")
def test_a_raising_tracer_is_logged_as_a_warning_and_the_chain_returns(fake, caplog):
    with caplog.at_level(logging.WARNING, "langchain_core.callbacks.manager"):
        answer = simple_chain(model(fake)).invoke({"topic": "x"}, {"callbacks": [Broken()]})
    assert answer.startswith("I am the offline tutorial model")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "Error in Broken.on_chain_end callback: ConnectionError('collector down')")
    ]


@claim("raise-error-reaches-caller", "10.")
def test_raise_error_logs_the_same_line_then_raises_and_the_answer_is_lost(fake, caplog):
    recorder = Recorder()
    with caplog.at_level(logging.WARNING, "langchain_core.callbacks.manager"):
        with pytest.raises(ConnectionError, match="collector down"):
            simple_chain(model(fake)).invoke(
                {"topic": "x"}, {"callbacks": [recorder, StrictBroken()]}
            )
    assert "llm_end" in recorder.hooks()  # the model had answered
    assert [r.getMessage() for r in caplog.records] == [
        "Error in StrictBroken.on_chain_end callback: ConnectionError('collector down')"
    ]


LANGSMITH_PROBE = """
import json, os, sys, threading
from langchain_core.runnables import RunnableLambda
from langchain_core.tracers.langchain import LangChainTracer

roots = []  # what LangSmith's tracer would send, kept here: nothing is sent
LangChainTracer._persist_run_single = lambda self, run: None
LangChainTracer._update_run_single = staticmethod(lambda run: None)
LangChainTracer._persist_run = lambda self, run: roots.append(
    [run.name, str(run.trace_id), [child.name for child in run.child_runs]]
)

def step(x):  # a bare thread, as in the lesson: it gets no context from the step
    thread = threading.Thread(target=RunnableLambda(str, name="call").invoke, args=(x,))
    thread.start()
    thread.join(10)
    if thread.is_alive():
        raise SystemExit("the call in the thread did not finish within 10 s")
    return x

traced = []
for setting in sys.argv[1:]:  # LANGSMITH_TRACING's value before each run
    os.environ["LANGSMITH_TRACING"] = setting
    roots.clear()
    RunnableLambda(step, name="step").invoke(1)
    traced.append(list(roots))
print(json.dumps(traced), flush=True)
os._exit(0)  # skip the tracer's flush at exit
"""


def langsmith_traces(*settings):
    """The root runs LangSmith's tracer got in a new process, for each run of a step that
    calls a runnable from a bare thread, with LANGSMITH_TRACING set to each setting first."""
    env = offline_env(LANGSMITH_API_KEY="lsv2-test", LANGSMITH_ENDPOINT="http://127.0.0.1:9")
    del env["LANGSMITH_TRACING"], env["LANGCHAIN_TRACING_V2"]  # unset until the probe sets it
    done = run_python(LANGSMITH_PROBE, *settings, env=env)
    assert done.returncode == 0, done.stderr
    return [
        [(name, trace, children) for name, trace, children in run]
        for run in json.loads(done.stdout)
    ]


@claim("langsmith-tracing-every-run", "10.")
def test_langsmith_tracing_traces_a_bare_threads_run_as_a_second_root_only_while_on():
    [on], [off] = langsmith_traces("true"), langsmith_traces("false")
    assert [(name, children) for name, _, children in on] == [("call", []), ("step", [])]
    assert len({trace for _, trace, _ in on}) == 2  # two traces: the thread's call split off
    assert off == []


@claim("langsmith-tracing-read-once", "10.")
def test_langsmith_reads_langsmith_tracing_once_at_the_first_run():
    on_then_off = langsmith_traces("true", "false")
    assert [[name for name, _, _ in run] for run in on_then_off] == [["call", "step"]] * 2
    assert langsmith_traces("false", "true") == [[], []]


TRACER_FAILS = """
import logging, sys
from langchain_core.runnables import RunnableLambda
from langchain_core.tracers import BaseTracer

class Broken(BaseTracer):
    def _persist_run(self, run):
        raise ConnectionError("collector down")

if sys.argv[1:] == ["hide-warnings"]:
    logging.basicConfig(level=logging.ERROR)
print(RunnableLambda(lambda x: x + 1).invoke(1, {"callbacks": [Broken()]}))
"""


@claim("tracer-error-warning-only", "10.")
def test_a_failing_tracer_shows_only_a_warning_on_stderr_which_hidden_warnings_hide():
    def run(*args):
        done = run_python(TRACER_FAILS, *args)
        assert done.returncode == 0, done.stderr
        return done.stdout, done.stderr

    warning = "Error in Broken.on_chain_end callback: ConnectionError('collector down')\n"
    assert run() == ("2\n", warning)  # Python's last-resort handler prints it: the only sign
    assert run("hide-warnings") == ("2\n", "")


CANCEL_QUESTION = "Tell me how a tracer sees a call that was cancelled."


class RunEnds(AsyncCallbackHandler):
    """How model and tool runs ended, and an event at the first non-empty token."""

    def __init__(self):
        self.ends = []
        self.first_token = asyncio.Event()

    async def on_llm_new_token(self, token, **kwargs):
        if token:
            self.first_token.set()

    async def on_llm_end(self, response, **kwargs):
        self.ends.append("on_llm_end")

    async def on_llm_error(self, error, **kwargs):
        self.ends.append(f"on_llm_error {error!r}")

    async def on_tool_end(self, output, **kwargs):
        self.ends.append("on_tool_end")

    async def on_tool_error(self, error, **kwargs):
        self.ends.append(f"on_tool_error {error!r}")


async def cancel_once_started(call, started, deadline=10):
    """Start the call, cancel it as soon as started() returns, and wait for it to stop."""
    task = asyncio.create_task(call)
    try:
        await asyncio.wait_for(started(), deadline)
    except TimeoutError:
        task.cancel()
        pytest.fail(f"the call did not get going within {deadline} s, so nothing was cancelled")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, deadline)


def error_of(run):
    return run.error and run.error.split("Traceback")[0]


@claim("cancelled-model-run-never-ends", "10.")
@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "one reply"])
def test_a_cancelled_chat_model_ainvoke_never_ends_its_run(streaming):
    async def cancelled(runnable, question, server):
        tracer, ends = Collector(), RunEnds()
        requests = server.request_count

        async def started():  # mid-stream, or while the server prepares its one reply
            while not (ends.first_token.is_set() if streaming else server.request_count > requests):
                await asyncio.sleep(0.01)

        call = runnable.ainvoke(question, {"callbacks": [tracer, ends]})
        await cancel_once_started(call, started)
        return tracer, ends.ends

    async def both(server):
        llm = model(server, streaming=streaming)
        alone = await cancelled(llm, CANCEL_QUESTION, server)
        in_chain = await cancelled(simple_chain(llm), {"topic": CANCEL_QUESTION}, server)
        return alone, in_chain

    reply_delay = 0 if streaming else 30  # the one reply would come after 30 s
    with FakeOpenAIServer(token_delay=0.05, reply_delay=reply_delay, fault="") as server:
        (alone, alone_ends), (in_chain, in_chain_ends) = asyncio.run(both(server))
    assert alone_ends == in_chain_ends == []  # neither on_llm_end nor on_llm_error
    assert alone.roots == [] and len(alone.run_map) == 1  # a root: never reaches the tracer
    [root] = in_chain.roots  # in a chain: the chain ends, with the CancelledError
    assert [(run.name, error_of(run), run.end_time is None) for run in tree(root)] == [
        ("chain", "CancelledError()", False),
        ("ChatPromptTemplate", None, False),
        ("ChatOpenAI", None, True),  # and the model's run arrives with no end time
    ]


@claim("cancelled-tool-run-ends", "10.")
def test_a_cancelled_tool_ends_its_run_with_on_tool_error():
    async def run():
        started = asyncio.Event()

        @tool
        async def slow(text: str) -> str:
            """Echo the text, after a while."""
            started.set()
            await asyncio.sleep(30)
            return text

        results = []
        for runnable in (slow, (RunnableLambda(str.strip, name="before") | slow)):
            tracer, ends = Collector(), RunEnds()
            started.clear()
            await cancel_once_started(
                runnable.ainvoke(" x ", {"callbacks": [tracer, ends]}), started.wait
            )
            results.append((tracer, ends.ends))
        return results

    (alone, alone_ends), (in_chain, in_chain_ends) = asyncio.run(run())
    assert alone_ends == in_chain_ends == ["on_tool_error CancelledError()"]
    assert [(run.name, error_of(run), run.end_time is None) for run in alone.roots] == [
        ("slow", "CancelledError()", False)
    ]
    assert alone.run_map == {}
    [root] = in_chain.roots
    assert [(run.name, error_of(run), run.end_time is None) for run in tree(root)] == [
        ("RunnableSequence", "CancelledError()", False),
        ("before", None, False),
        ("slow", "CancelledError()", False),
    ]


# Lesson 12: a web page.


class TokensOf(AsyncCallbackHandler):
    """The tokens one handler heard, each with its run, and an event set at the first
    non-empty one."""

    def __init__(self):
        self.heard = []  # (run_id, token)
        self.first = asyncio.Event()

    @property
    def tokens(self):
        return [token for _, token in self.heard]

    async def on_llm_new_token(self, token, *, run_id, **kwargs):
        self.heard.append((run_id, token))
        if token:
            self.first.set()


LONG_QUESTION = "Tell me how a page can show the tokens of an answer as they arrive."


async def within(seconds, awaitable, what):
    """`await awaitable`, or fail with one line once `seconds` have passed."""
    try:
        async with asyncio.timeout(seconds):  # no task of its own: SystemExit passes as it is
            return await awaitable
    except TimeoutError:
        pytest.fail(f"{what}: not within {seconds} s", pytrace=False)


@claim("web-runtime-handler-own-call", "12.")
def test_concurrent_calls_on_one_model_each_reach_only_their_own_runtime_handler():
    questions = [f"What is {n} * 3?" for n in range(5)]
    with FakeOpenAIServer(token_delay=0.01, fault="") as fake:  # a few tokens each: they overlap
        llm = model(fake, streaming=True)

        async def ask_all():
            handlers = [TokensOf() for _ in questions]
            calls = [
                llm.ainvoke(q, config={"callbacks": [h]})
                for q, h in zip(questions, handlers, strict=True)
            ]
            return handlers, await within(10, asyncio.gather(*calls), "five answers")

        handlers, answers = asyncio.run(ask_all())
        assert fake.peak_in_flight >= 2  # the calls really ran at the same time
    for handler, answer, question in zip(handlers, answers, questions, strict=True):
        assert answer.content == text_reply(question)
        assert "".join(handler.tokens) == answer.content  # its own call's, and nothing else
        assert len({run for run, _ in handler.heard}) == 1


@claim("web-constructor-handler-every-call", "12.")
def test_a_handler_on_a_shared_models_constructor_hears_every_concurrent_call():
    shared_handler = TokensOf()
    with FakeOpenAIServer(token_delay=0.01, fault="") as fake:
        llm = model(fake, streaming=True, callbacks=[shared_handler])

        async def two_at_once():
            jokes = [llm.ainvoke(f"Tell me a joke about {animal}") for animal in ("owls", "cats")]
            calls = asyncio.gather(*jokes)  # 17 tokens each, 10 ms apart
            return await within(10, calls, "two answers")

        first, second = asyncio.run(two_at_once())
        assert fake.peak_in_flight == 2  # at once
    runs = [run for run, _ in shared_handler.heard]
    by_run = {run: "".join(t for r, t in shared_handler.heard if r == run) for run in runs}
    assert sorted(by_run.values()) == sorted([first.content, second.content])  # every call
    switches = sum(a != b for a, b in itertools.pairwise(runs))
    assert switches >= 2, runs  # the two calls' tokens arrive mixed, not one answer then the other


@claim("web-empty-tokens", "12.")
@pytest.mark.parametrize("stream_usage", [False, True])
def test_chat_completions_fires_empty_tokens_for_the_role_the_closing_chunks_and_its_own(
    fake, stream_usage
):
    recorder = Recorder()
    llm = model(fake, streaming=True, stream_usage=stream_usage)
    answer = llm.invoke("What is 2 * 3?", {"callbacks": [recorder]})
    calls = [kw for hook, kw in recorder.events if hook == "token"]
    empty = [i for i, kw in enumerate(calls) if kw["token"] == ""]
    closing = [len(calls) - 3, len(calls) - 2] if stream_usage else [len(calls) - 2]
    assert empty == [0, *closing, len(calls) - 1]
    role, *closers, last = (calls[i]["chunk"].message for i in empty)
    assert role.content == "" and not role.response_metadata.get("finish_reason")
    assert closers[0].response_metadata["finish_reason"] == "stop"
    if stream_usage:
        assert closers[1].usage_metadata["output_tokens"] > 0
    # LangChain's own: after the provider's last chunk, with the run's id, nothing else.
    run_id = calls[-1]["run_id"]
    assert last.chunk_position == "last" and last.id == f"lc_run--{run_id}"
    assert not last.response_metadata and last.usage_metadata is None
    assert all(message.chunk_position is None for message in [role, *closers])
    assert "".join(kw["token"] for kw in calls) == answer.text


@claim("web-cancel-closes-stream", "12.")
def test_cancelling_the_model_call_closes_its_stream_and_the_offline_model_stops():
    with FakeOpenAIServer(token_delay=0.05, fault="") as slow:  # about 1.3 s of answer
        handler = TokensOf()

        async def start_then_cancel():
            call = asyncio.create_task(
                model(slow, streaming=True).ainvoke(LONG_QUESTION, config={"callbacks": [handler]})
            )
            await within(10, handler.first.wait(), "the first token")
            assert slow.in_flight == 1
            call.cancel()
            cancelled_at = time.monotonic()
            while slow.in_flight and time.monotonic() - cancelled_at < 1:
                await asyncio.sleep(0.01)
            return time.monotonic() - cancelled_at

        stopped_after = asyncio.run(start_then_cancel())
        assert slow.in_flight == 0 and stopped_after < 0.5
        assert len([t for t in handler.tokens if t]) < 5  # nothing more arrived


class TokensTo(TokensOf):
    """TokensOf that also puts each non-empty token on a queue, as the lesson's handler does."""

    def __init__(self, queue):
        super().__init__()
        self.queue = queue

    async def on_llm_new_token(self, token, *, run_id, **kwargs):
        await super().on_llm_new_token(token, run_id=run_id, **kwargs)
        if token:
            self.queue.put_nowait(token)


@claim("web-uncancelled-call-runs-on", "12.")
def test_without_the_cancel_the_call_streams_the_whole_answer_to_nobody():
    """The lesson's relay without its task.cancel(): the reader takes one token and leaves,
    the generator is closed as Starlette closes it, and the call goes on to the end."""
    with FakeOpenAIServer(token_delay=0.02, fault="") as fake:
        queue, tasks = asyncio.Queue(), []
        handler = TokensTo(queue)

        async def relay(call):
            tasks.append(asyncio.create_task(call))
            try:
                while True:
                    yield await queue.get()
            finally:
                pass  # here the lesson cancels the task

        async def leave_after_one_token():
            llm = model(fake, streaming=True)
            stream = relay(llm.ainvoke(LONG_QUESTION, config={"callbacks": [handler]}))
            await within(10, anext(stream), "the first token")
            await stream.aclose()  # the reader left
            left_with = fake.in_flight, len(handler.tokens)
            answer = await within(10, tasks[0], "the uncancelled call's end")
            return left_with, answer

        (in_flight, heard), answer = asyncio.run(leave_after_one_token())
    assert in_flight == 1  # still streaming after the reader left
    assert answer.content == "".join(handler.tokens) == text_reply(LONG_QUESTION)  # all of it
    assert len(handler.tokens) - heard >= 10


@claim("web-disconnect-runs-finally", "12.")
def test_when_the_reader_hangs_up_starlette_closes_the_generator_so_finally_runs():
    with web_server(token_delay=0.05) as server:

        async def leave():
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
                return await within(
                    10, read_answer(client, LONG_QUESTION, leave_after=1), "a token"
                )

        asyncio.run(leave())
        printed = server.output(lambda text: "model call cancelled" in text, timeout=5)
        assert re.search(r"client left after \d tokens; model call cancelled", printed)


@claim("web-no-store", "12.")
@pytest.mark.parametrize("directive", ["no-store", "no-cache"])
def test_no_store_keeps_the_browsers_cache_from_storing_a_response_no_cache_does_not(directive):
    """Chromium's HTTP cache fetches a response with a validator (an ETag) twice. A stored copy
    shows in the second request, which asks the server to confirm it (If-None-Match)."""
    with CraftedServer(lambda path, question: []) as server, chromium() as browser:
        page = browser.new_page()
        page.goto(server.url + "/")
        fetch_twice = f"""async () => {{
            for (let i = 0; i < 2; i++) await (await fetch("/cached?cc={directive}")).text();
        }}"""
        page.evaluate(fetch_twice)
        page.close()
    asked = [r.headers.get("if-none-match") for r in server.requests if r.path == "/cached"]
    assert asked == ([None, None] if directive == "no-store" else [None, '"v1"'])
