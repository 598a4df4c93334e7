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
import logging
import re
import subprocess
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
from langchain_core.tracers import BaseTracer
from langchain_core.tracers.context import register_configure_hook
from langchain_openai import ChatOpenAI
from langchain_openai.chat_models.base import (
    _create_usage_metadata,
    _create_usage_metadata_responses,
)
from langgraph.config import get_stream_writer
from lessons import offline_env
from loguru import logger
from web import web_server

from tutorial_env.offline import FakeOpenAIServer, tokenize
from tutorial_env.offline.replies import REASONING_TOKENS
from tutorial_env.sse_reader import read_answer

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from langchain_community.callbacks import get_openai_callback
    from langchain_community.callbacks.openai_info import MODEL_COST_PER_1K_TOKENS


OPENAI_URL = "https://api.openai.com/v1"


@pytest.fixture(scope="module")
def fake():
    with FakeOpenAIServer(token_delay=0, fault="") as server:
        yield server


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
    result = subprocess.run(  # a fresh interpreter, with Python's default warning filters
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=offline_env(),
    )
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
    result = subprocess.run(
        [sys.executable, "-c", "import langchain_community"],
        capture_output=True,
        text=True,
        timeout=60,
        env=offline_env(),
    )
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


def starts(recorder):
    """Each start event as (hook, the graph node it ran in)."""
    return [
        (hook, kw["metadata"].get("langgraph_node"))
        for hook, kw in recorder.events
        if hook.endswith("_start")
    ]


@claim("agent-runtime-whole-loop", "9.")
def test_a_runtime_handler_hears_every_model_turn_and_tool_with_its_node(fake):
    recorder = Recorder()
    agent(model(fake)).invoke(AGENT_QUESTION, {"callbacks": [recorder]})
    heard = [(h, node) for h, node in starts(recorder) if h in ("chat_model_start", "tool_start")]
    assert heard == [
        ("chat_model_start", "model"),
        ("tool_start", "tools"),
        ("chat_model_start", "model"),
    ]


@claim("agent-where-you-attach", "9.")
def test_what_a_handler_hears_depends_on_where_it_is_attached(fake):
    def heard(build):
        recorder = Recorder()
        runnable, config = build(recorder)
        runnable.invoke(AGENT_QUESTION, config)
        hooks = recorder.hooks()
        return tuple(hooks.count(h) for h in ("chain_start", "chat_model_start", "tool_start"))

    assert heard(lambda r: (agent(model(fake)), {"callbacks": [r]})) == (4, 2, 1)
    assert heard(lambda r: (agent(model(fake)).with_config(callbacks=[r]), {})) == (4, 2, 1)
    assert heard(lambda r: (agent(model(fake, callbacks=[r])), {})) == (0, 2, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and nothing warns about the lost handler
        prebound = heard(lambda r: (agent(model(fake).with_config(callbacks=[r])), {}))
    assert prebound == (0, 0, 0)


@claim("agent-messages-mode-streams", "9.")
def test_stream_mode_messages_makes_the_model_stream_without_streaming_true(fake):
    recorder = Recorder()
    llm = model(fake)
    assert not llm.streaming
    chunks = list(
        agent(llm).stream(AGENT_QUESTION, {"callbacks": [recorder]}, stream_mode="messages")
    )
    final = "".join(c.content for c, meta in chunks if meta["langgraph_node"] == "model")
    assert final == "".join(tokens(recorder)) and final.endswith("the answer is 42.")


@claim("agent-usage-needs-stream-usage", "9.")
def test_the_agents_streamed_usage_reads_zero_behind_a_base_url_without_stream_usage(fake):
    used = {}
    for stream_usage in (None, True):
        with get_usage_metadata_callback() as usage:
            llm = model(fake, stream_usage=stream_usage)
            list(agent(llm).stream(AGENT_QUESTION, stream_mode="messages"))
        used[stream_usage] = usage.usage_metadata
    assert used[None] == {} and used[True]["gpt-4o-mini"]["total_tokens"] > 0


@claim("agent-responses-usage-always", "9.")
def test_gpt_6_luna_sends_the_agents_calls_to_the_responses_api_which_reports_usage(fake):
    llm = model(fake, "gpt-6-luna")
    assert llm._use_responses_api({"tools": [{"type": "function", "name": "multiply"}]})
    assert not llm._use_responses_api({})  # the tools are the reason
    used = {}
    for stream_usage in (None, False, True):
        before = dict(fake.routes)
        with get_usage_metadata_callback() as usage:
            list(
                agent(model(fake, "gpt-6-luna", stream_usage=stream_usage)).stream(
                    AGENT_QUESTION, stream_mode="messages"
                )
            )
        used[stream_usage] = usage.usage_metadata["gpt-6-luna"]["total_tokens"]
        sent = {path: fake.routes[path] - before.get(path, 0) for path in fake.routes}
        assert sent == {"/v1/responses": 2} or sent == {
            "/v1/responses": 2,
            "/v1/chat/completions": 0,
        }  # both of the loop's model calls, the tool call and the answer
    assert used[None] == used[False] == used[True] > 0


@claim("agent-nostream", "9.")
def test_a_model_tagged_nostream_sends_no_token_chunks(fake):
    llm = model(fake, tags=["nostream"])
    chunks = list(agent(llm).stream(AGENT_QUESTION, stream_mode="messages"))
    from_model = [type(c).__name__ for c, meta in chunks if meta["langgraph_node"] == "model"]
    assert from_model == ["AIMessage", "AIMessage"]  # whole messages, no AIMessageChunk


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
        return [e["data"]["via"] async for e in stream if e["event"] == "on_custom_event"]

    assert custom == [{"via": "get_stream_writer"}]
    assert handled == ["dispatch_custom_event"]
    assert asyncio.run(events()) == ["dispatch_custom_event"]


# Lesson 10: tracers.


class Collector(BaseTracer):
    """Every root run LangChain hands the tracer, in order."""

    def __init__(self):
        super().__init__()
        self.roots = []

    def _persist_run(self, run):
        self.roots.append(run)


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


@claim("set-debug-console", "10.")
def test_set_debug_prints_every_run_start_and_end_with_inputs_and_outputs(fake, capsys):
    set_debug(True)
    try:
        simple_chain(model(fake)).invoke({"topic": "tracing"})
    finally:
        set_debug(False)
    printed = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    for path in ("chain:chain", "chain:chain > llm:ChatOpenAI"):
        assert f"[{path}] Entering" in printed and re.search(
            rf"\[{path}\] \[.+?\] Exiting", printed
        )
    assert '"topic": "tracing"' in printed  # the inputs
    assert "I am the offline tutorial model" in printed  # and the outputs
    simple_chain(model(fake)).invoke({"topic": "tracing"})
    assert capsys.readouterr().out == ""  # set_debug(False) turns it off again


@claim("tracer-gets-finished-roots", "10.")
def test_persist_run_gets_each_root_once_when_it_ends_with_its_children(fake):
    tracer = Collector()
    simple_chain(model(fake)).invoke({"topic": "tracing"}, {"callbacks": [tracer]})
    assert [shape(root) for root in tracer.roots] == [
        ("chain", [("ChatPromptTemplate", []), ("ChatOpenAI", []), ("StrOutputParser", [])])
    ]
    root = tracer.roots[0]
    for run in [root, *root.child_runs]:
        assert run.start_time <= run.end_time and run.outputs and run.error is None
        assert run.inputs
    usage = root.child_runs[1].outputs["generations"][0][0]["message"]["kwargs"]
    assert usage["usage_metadata"]["total_tokens"] > 0


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


@claim("langsmith-tracing-every-run", "10.")
def test_langsmith_tracing_adds_its_tracer_to_a_run_configured_in_a_bare_thread():
    code = (
        "import threading\n"
        "from langchain_core.callbacks import CallbackManager\n"
        "names = []\n"
        "def configure():\n"
        "    names.extend(type(h).__name__ for h in CallbackManager.configure().handlers)\n"
        "thread = threading.Thread(target=configure)\n"
        "thread.start(); thread.join()\n"
        "print(names, flush=True)\n"
        "import os; os._exit(0)  # skip the tracer's flush at exit: it would try to send\n"
    )
    env = offline_env(
        LANGSMITH_TRACING="true",
        LANGSMITH_API_KEY="lsv2-test",
        LANGSMITH_ENDPOINT="http://127.0.0.1:9",  # nothing listens; nothing is sent anyway
    )
    del env["LANGCHAIN_TRACING_V2"]  # offline_env's "false" would win over LANGSMITH_TRACING
    printed = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    ).stdout
    assert printed.strip() == "['LangChainTracer']"


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


# Lesson 11: a web page.


class TokensOf(AsyncCallbackHandler):
    """The tokens one handler heard, and an event set at the first non-empty one."""

    def __init__(self):
        self.tokens = []
        self.first = asyncio.Event()

    async def on_llm_new_token(self, token, **kwargs):
        self.tokens.append(token)
        if token:
            self.first.set()


LONG_QUESTION = "Tell me how a page can show the tokens of an answer as they arrive."


@claim("web-runtime-handler-own-call", "11.")
def test_concurrent_calls_on_one_model_each_reach_only_their_own_runtime_handler(fresh_fake):
    llm = model(fresh_fake, streaming=True)
    questions = [f"What is {n} * 3?" for n in range(5)]

    async def ask_all():
        handlers = [TokensOf() for _ in questions]
        calls = [
            llm.ainvoke(q, config={"callbacks": [h]})
            for q, h in zip(questions, handlers, strict=True)
        ]
        return handlers, await asyncio.gather(*calls)

    handlers, answers = asyncio.run(ask_all())
    for handler, answer in zip(handlers, answers, strict=True):
        assert "".join(handler.tokens) == answer.content


@claim("web-constructor-handler-every-call", "11.")
def test_a_handler_on_a_shared_models_constructor_hears_every_concurrent_call(fresh_fake):
    shared_handler = TokensOf()
    llm = model(fresh_fake, streaming=True, callbacks=[shared_handler])

    async def two_at_once():
        return await asyncio.gather(llm.ainvoke("What is 2 * 3?"), llm.ainvoke("What is 4 * 5?"))

    first, second = asyncio.run(two_at_once())
    heard = "".join(shared_handler.tokens)
    assert sorted(heard) == sorted(first.content + second.content)


@claim("web-empty-tokens", "11.")
def test_the_first_and_last_chunks_fire_on_llm_new_token_with_an_empty_string(fake):
    recorder = Recorder()
    answer = model(fake, streaming=True).invoke("What is 2 * 3?", {"callbacks": [recorder]})
    calls = [kw for hook, kw in recorder.events if hook == "token"]
    empty = [i for i, kw in enumerate(calls) if kw["token"] == ""]
    assert empty == [0, len(calls) - 2, len(calls) - 1]
    first, finish, closing = (calls[i]["chunk"].message for i in empty)
    assert first.content == "" and not first.response_metadata.get("finish_reason")  # the role
    assert finish.response_metadata["finish_reason"] == "stop"
    assert closing.chunk_position == "last"
    assert "".join(kw["token"] for kw in calls) == answer.text


@claim("web-cancel-closes-stream", "11.")
def test_cancelling_the_model_call_closes_its_stream_and_the_provider_stops():
    with FakeOpenAIServer(token_delay=0.05, fault="") as slow:  # about 1.3 s of answer
        handler = TokensOf()

        async def start_then_cancel():
            call = asyncio.create_task(
                model(slow, streaming=True).ainvoke(LONG_QUESTION, config={"callbacks": [handler]})
            )
            await handler.first.wait()
            call.cancel()
            cancelled_at = time.monotonic()
            while slow.in_flight and time.monotonic() - cancelled_at < 1:
                await asyncio.sleep(0.01)
            return time.monotonic() - cancelled_at

        stopped_after = asyncio.run(start_then_cancel())
        assert slow.in_flight == 0 and stopped_after < 0.5
        assert len([t for t in handler.tokens if t]) < 5  # nothing more arrived


@claim("web-disconnect-runs-finally", "11.")
def test_when_the_reader_hangs_up_starlette_closes_the_generator_so_finally_runs():
    with web_server(token_delay=0.05) as server:

        async def leave():
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
                return await read_answer(client, LONG_QUESTION, leave_after=1)

        asyncio.run(leave())
        printed = server.output(lambda text: "model call cancelled" in text, timeout=5)
        assert re.search(r"client left after \d tokens; model call cancelled", printed)
