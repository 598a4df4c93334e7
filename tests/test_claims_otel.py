"""The claims ledger for lesson 11, "Export your runs to OpenTelemetry": what the OpenTelemetry
SDK, the OTLP/HTTP exporter and the official LangChain instrumentation
(opentelemetry-instrumentation-genai-langchain 1.3b0) do, against the pinned packages and the
offline model. Each test proves one README sentence marked `<!-- claim: otel-... -->`.
"""

import ast
import asyncio
import inspect
import logging
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from logging.handlers import BufferingHandler

import httpx
import pytest
from claims import claim
from langchain.agents import create_agent
from langchain_core.callbacks import BaseCallbackHandler, BaseCallbackManager
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool, tool
from langchain_openai import ChatOpenAI
from langgraph.pregel import Pregel
from lessons import ROOT, free_port
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.genai.langchain import LangChainInstrumentor, agent_context
from opentelemetry.instrumentation.genai.langchain.callback_handler import (
    OpenTelemetryLangChainCallbackHandler,
)
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes
from tracers import FirstToken

from tutorial_env.offline import FakeOpenAIServer
from tutorial_env.span_table import in_memory

SECTION = "11."
QUESTION = {"messages": [{"role": "user", "content": "How many words are in this question?"}]}
ON_BOTH_APIS = pytest.mark.parametrize(
    "model", [pytest.param("gpt-4o-mini", id="chat"), pytest.param("gpt-6-luna", id="responses")]
)


@tool
def word_count(text: str) -> int:
    """Count the words in a text."""
    return len(text.split())


def llm(fake, model="gpt-4o-mini", **settings):
    return ChatOpenAI(
        model=model, base_url=fake.base_url, api_key="sk-test", max_retries=0, **settings
    )


def the_lesson():
    """otel_export.py as a module, for its handler. Its import calls tutorial_env.load():
    keep the settings that puts in the environment out of this process."""
    saved, hook = dict(os.environ), sys.excepthook
    try:
        import otel_export  # noqa: PLC0415 - imported here, where its side effects are undone

        return otel_export
    finally:
        os.environ.clear()
        os.environ.update(saved)
        sys.excepthook = hook


def chain_of(model):
    prompt = ChatPromptTemplate.from_template("Say something short about {topic}.")
    return (prompt | model | StrOutputParser() | word_count).with_config(run_name="count_words")


class Instrumented:
    """The official instrumentation on, into its own in-memory exporter; off again after."""

    def __enter__(self):
        provider, self.memory = in_memory()
        LangChainInstrumentor().instrument(tracer_provider=provider)
        return self

    def __exit__(self, *exc_info):
        LangChainInstrumentor().uninstrument()

    def tree(self):
        spans = sorted(self.memory.get_finished_spans(), key=lambda span: span.start_time)
        names = {span.context.span_id: span.name for span in spans}
        return [(s.name, names.get(s.parent.span_id) if s.parent else None) for s in spans]


WRAPPED = [  # some of the methods instrument() wraps, the ones the README names
    (BaseChatModel, "_generate_with_cache"),
    (BaseChatModel, "_agenerate_with_cache"),
    (BaseTool, "run"),
    (Runnable, "_call_with_config"),
    (Pregel, "stream"),
]


def wrapped_methods():
    return [f"{owner.__name__}.{name}" for owner, name in WRAPPED if is_wrapped(owner, name)]


def is_wrapped(owner, name):
    return hasattr(owner.__dict__[name], "__wrapped__")


def current_spans(fake, *handlers):
    """The name of OpenTelemetry's current span inside an agent's model HTTP requests and
    inside its tool, each time."""
    seen = []

    def note(where):
        span = trace.get_current_span()
        seen.append((where, span.name if span.is_recording() else None))

    @tool("word_count")
    def count(text: str) -> int:
        """Count the words in a text."""
        note("tool")
        return len(text.split())

    client = httpx.Client(event_hooks={"request": [lambda request: note("http")]})
    model = ChatOpenAI(
        model="gpt-4o-mini", base_url=fake.base_url, api_key="sk-test", http_client=client
    )
    create_agent(model, [count], name="w").invoke(QUESTION, {"callbacks": list(handlers)})
    return seen


@claim("otel-instrumentation-is-the-handler", SECTION)
def test_the_instrumentation_is_a_callback_handler_plus_wrapped_methods_for_the_context(fake):
    assert issubclass(OpenTelemetryLangChainCallbackHandler, BaseCallbackHandler)
    assert wrapped_methods() == []
    with Instrumented():  # instrument() puts its handler into every callback manager made
        manager = BaseCallbackManager(handlers=[])
        assert any(
            isinstance(h, OpenTelemetryLangChainCallbackHandler)
            for h in manager.inheritable_handlers
        )
        assert len(wrapped_methods()) == len(WRAPPED)  # and wraps the methods
        inside = current_spans(fake)  # so that its span is the current one in a run
    assert wrapped_methods() == []  # uninstrument() unwraps them
    assert inside == [
        ("http", "chat gpt-4o-mini"),
        ("tool", "execute_tool word_count"),
        ("http", "chat gpt-4o-mini"),
    ]
    mine = the_lesson().GenAISpans(TracerProvider().get_tracer("t"))  # a handler alone: none
    assert current_spans(fake, mine) == [("http", None), ("tool", None), ("http", None)]
    assert "LangChain callbacks cannot tell a nested ``create_agent`` root apart" in " ".join(
        agent_context.__doc__.split()
    )  # the reason its source gives for wrapping Pregel.stream
    for exporter in (OTLPSpanExporter, InMemorySpanExporter):
        assert issubclass(exporter, SpanExporter)
        assert not issubclass(exporter, BaseCallbackHandler)
        assert not any(hasattr(exporter, hook) for hook in ("on_chain_start", "on_llm_end"))


class Receiver(BaseHTTPRequestHandler):
    posts: list = []

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.posts.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@claim("otel-otlp-in-batch-processor", SECTION)
def test_the_otlp_exporter_takes_the_in_memory_ones_place_in_a_batch_span_processor(fake):
    Receiver.posts = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
        with provider.get_tracer("t").start_as_current_span("chat m"):
            pass
        assert Receiver.posts == []  # queued: the batch goes out later, from its own thread
        provider.shutdown()  # flushes it
        assert Receiver.posts == ["/v1/traces"]
    finally:
        server.shutdown()
        server.server_close()


EXPORTER_LOGGER = "opentelemetry.exporter.otlp.proto.http.trace_exporter"


class Raising(SpanExporter):
    def export(self, spans):
        raise ConnectionError("no collector")


def export_a_chain(fake, monkeypatch, exporter):
    """Run a chain with the lesson's handler, its spans going to `exporter` in a batch span
    processor: (the answer, each export's thread and outcome, the threads the callbacks ran
    on, the log records of every opentelemetry logger, and LangChain's callback log)."""

    class Spans(the_lesson().GenAISpans):
        threads = set()

        def _start(self, *args, **kwargs):
            self.threads.add(threading.current_thread().name)
            super()._start(*args, **kwargs)

        def _end(self, *args, **kwargs):
            self.threads.add(threading.current_thread().name)
            super()._end(*args, **kwargs)

    exports, real_export = [], type(exporter).export

    def export(self, spans):
        try:
            result = real_export(self, spans)
        except Exception as error:
            exports.append((threading.current_thread().name, error))
            raise
        exports.append((threading.current_thread().name, result))
        return result

    monkeypatch.setattr(type(exporter), "export", export)
    monkeypatch.setattr(logging.getLogger("opentelemetry.exporter"), "propagate", True)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    otel_log, langchain_log = BufferingHandler(100), BufferingHandler(100)
    logging.getLogger("opentelemetry").addHandler(otel_log)
    logging.getLogger("langchain_core.callbacks.manager").addHandler(langchain_log)
    try:
        handler = Spans(provider.get_tracer("t"))
        answer = chain_of(llm(fake)).invoke({"topic": "x"}, {"callbacks": [handler]})
        provider.shutdown()  # as the lesson does: the batch goes out from the processor's thread
    finally:
        logging.getLogger("opentelemetry").removeHandler(otel_log)
        logging.getLogger("langchain_core.callbacks.manager").removeHandler(langchain_log)
    return answer, exports, Spans.threads, otel_log.buffer, langchain_log.buffer


@claim("otel-export-errors-only-logged", SECTION)
def test_the_otlp_exporter_logs_a_failed_send_itself_on_the_batch_thread_and_never_raises(
    fake, monkeypatch
):
    closed = f"http://127.0.0.1:{free_port()}/v1/traces"
    answer, exports, threads, otel_log, langchain_log = export_a_chain(
        fake,
        monkeypatch,
        OTLPSpanExporter(endpoint=closed, timeout=2),  # as in the lesson
    )
    assert isinstance(answer, int)
    [(thread, result)] = exports
    assert result is SpanExportResult.FAILURE  # returned, not raised
    assert thread.startswith("OtelBatch") and threads == {threading.current_thread().name}
    levels = {(r.name, r.levelname) for r in otel_log}
    assert (EXPORTER_LOGGER, "WARNING") in levels and (EXPORTER_LOGGER, "ERROR") in levels
    assert any(r.getMessage().startswith("Transient error") for r in otel_log)  # it retried
    assert {r.name for r in otel_log} == {EXPORTER_LOGGER}  # none from opentelemetry.sdk
    assert langchain_log == []  # no "Error in ... callback": LangChain saw nothing

    # and an exporter that raises: the span processor catches and logs it
    answer, exports, threads, otel_log, langchain_log = export_a_chain(fake, monkeypatch, Raising())
    assert isinstance(answer, int)
    [(thread, error)] = exports
    assert isinstance(error, ConnectionError) and thread.startswith("OtelBatch")
    [record] = otel_log
    assert record.name.startswith("opentelemetry.sdk") and record.exc_info[0] is ConnectionError
    assert langchain_log == []


@claim("otel-official-responses-finish-error", SECTION)
@ON_BOTH_APIS
def test_the_official_instrumentation_records_finish_error_on_the_responses_api(fake, model):
    with Instrumented() as official:
        create_agent(llm(fake, model), [word_count], name="w").invoke(QUESTION)
    finishes = [
        s.attributes["gen_ai.response.finish_reasons"]
        for s in official.memory.get_finished_spans()
        if s.name.startswith("chat ")
    ]
    if model == "gpt-4o-mini":  # Chat Completions: the provider's finish_reason
        assert finishes == [("tool_calls",), ("stop",)]
    else:  # Responses: no finish_reason in the message, so "error", although both completed
        assert finishes == [("error",), ("error",)]


@claim("otel-responses-no-finish-reason", SECTION)
@pytest.mark.parametrize("streaming", [False, True], ids=["invoke", "stream"])
def test_a_responses_api_message_has_a_status_and_no_finish_reason(fake, streaming):
    def metadata(model, **settings):
        llm = ChatOpenAI(
            model=model, base_url=fake.base_url, api_key="sk-test", max_retries=0, **settings
        )
        result = llm.generate([[HumanMessage("Hi")]])  # the message and its generation_info
        generation = result.generations[0][0]
        return generation.message.response_metadata, generation.generation_info or {}

    for settings in ({"model": "gpt-5.6-sol"}, {"model": "gpt-4o-mini", "use_responses_api": True}):
        response_metadata, info = metadata(**settings, streaming=streaming)
        assert "finish_reason" not in response_metadata and "finish_reason" not in info
        assert response_metadata["status"] == "completed"
    response_metadata, _ = metadata("gpt-4o-mini", streaming=streaming)  # Chat Completions
    assert response_metadata["finish_reason"] == "stop" and "status" not in response_metadata


@claim("otel-official-tool-attributes", SECTION)
def test_the_official_tool_spans_carry_type_description_and_in_an_agent_the_agent_name(fake):
    lesson = the_lesson()
    provider, mine = in_memory()
    config = {"callbacks": [lesson.GenAISpans(provider.get_tracer("t"))]}
    with Instrumented() as official:
        chain_of(llm(fake)).invoke({"topic": "x"}, config)
        create_agent(llm(fake), [word_count], name="w").invoke(QUESTION, config)

    def tool_spans(memory):
        return [dict(s.attributes) for s in memory.get_finished_spans() if "execute_tool" in s.name]

    in_chain, in_agent = tool_spans(official.memory)
    for attributes in (in_chain, in_agent):
        assert attributes["gen_ai.tool.type"] == "function"
        assert attributes["gen_ai.tool.description"] == "Count the words in a text."
    assert "gen_ai.agent.name" not in in_chain and in_agent["gen_ai.agent.name"] == "w"
    extra = {"gen_ai.tool.type", "gen_ai.tool.description", "gen_ai.agent.name"}
    assert [extra & attributes.keys() for attributes in tool_spans(mine)] == [set(), set()]


@claim("otel-official-skips-steps", SECTION)
def test_the_official_instrumentation_makes_no_span_for_the_prompt_parser_or_graph_nodes(fake):
    with Instrumented() as official:
        chain_of(llm(fake)).invoke({"topic": "x"})
        create_agent(llm(fake), [word_count], name="w").invoke(QUESTION)
    assert official.tree() == [
        ("invoke_workflow count_words", None),
        ("chat gpt-4o-mini", "invoke_workflow count_words"),
        ("execute_tool word_count", "invoke_workflow count_words"),
        ("invoke_agent w", None),
        ("chat gpt-4o-mini", "invoke_agent w"),
        ("execute_tool word_count", "invoke_agent w"),
        ("chat gpt-4o-mini", "invoke_agent w"),
    ]


@claim("otel-official-async-keeps-parents", SECTION)
@ON_BOTH_APIS
def test_the_official_instrumentation_keeps_parents_on_the_async_path(fake, model):
    context_log = BufferingHandler(100)  # issue #513's other symptom: "Failed to detach context"
    logging.getLogger("opentelemetry.context").addHandler(context_log)
    try:
        with Instrumented() as official:
            # an async client of its own: langchain-openai shares one per base URL, and its
            # pooled connections would outlive the event loop of an earlier asyncio.run
            model = llm(fake, model, http_async_client=httpx.AsyncClient())
            agent = create_agent(model, [word_count], name="w")
            asyncio.run(agent.ainvoke(QUESTION))
    finally:
        logging.getLogger("opentelemetry.context").removeHandler(context_log)
    tree = official.tree()
    assert tree[0] == ("invoke_agent w", None)
    assert [parent for _, parent in tree[1:]] == ["invoke_agent w"] * 3
    traces = {s.context.trace_id for s in official.memory.get_finished_spans()}
    assert len(traces) == 1
    assert context_log.buffer == []


GEN_AI_NAMES = [  # the semconv constants otel_export.py uses
    "GEN_AI_OPERATION_NAME",
    "GEN_AI_AGENT_NAME",
    "GEN_AI_WORKFLOW_NAME",
    "GEN_AI_PROVIDER_NAME",
    "GEN_AI_REQUEST_MODEL",
    "GEN_AI_RESPONSE_MODEL",
    "GEN_AI_RESPONSE_ID",
    "GEN_AI_RESPONSE_FINISH_REASONS",
    "GEN_AI_USAGE_INPUT_TOKENS",
    "GEN_AI_USAGE_OUTPUT_TOKENS",
    "GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS",
    "GEN_AI_USAGE_REASONING_OUTPUT_TOKENS",
    "GEN_AI_TOOL_NAME",
    "GEN_AI_TOOL_CALL_ID",
]
MOVED = (
    "Deprecated: Moved to the [OpenTelemetry GenAI semantic conventions repository]"
    "(https://github.com/open-telemetry/semantic-conventions-genai)."
)


@claim("otel-semconv-names-moved", SECTION)
def test_the_pinned_semconv_marks_the_lessons_gen_ai_names_as_moved():
    source = inspect.getsource(gen_ai_attributes)
    used = set(GEN_AI_NAMES) | {"GenAiOperationNameValues"}
    lesson = ast.parse((ROOT / "otel_export.py").read_text(encoding="utf-8"))
    named = {node.attr for node in ast.walk(lesson) if isinstance(node, ast.Attribute)}
    assert {name for name in named if name.startswith(("GEN_AI_", "GenAi"))} == used
    body = ast.parse(source).body
    docstrings = {  # a constant's docstring is the string right after its assignment
        statement.target.id: body[i + 1].value.value
        for i, statement in enumerate(body[:-1])
        if isinstance(statement, ast.AnnAssign) and isinstance(body[i + 1], ast.Expr)
    }
    for name in GEN_AI_NAMES:
        assert docstrings[name].strip() == MOVED, name
    operation = gen_ai_attributes.GenAiOperationNameValues
    assert "gen_ai.operation.name is deprecated - Moved to the" in operation.__deprecated__


@claim("otel-cancelled-model-span-stays-open", SECTION)
def test_a_cancelled_model_call_leaves_the_lessons_span_open_and_the_official_one_ends_it():
    async def cancel(runnable, question, handlers):  # cancelled at the first token
        first = FirstToken()
        task = asyncio.create_task(runnable.ainvoke(question, {"callbacks": [*handlers, first]}))
        await asyncio.wait_for(first.seen.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)

    def run(server, wrapper=True):
        provider, mine = in_memory()
        handler = the_lesson().GenAISpans(provider.get_tracer("t"))
        model = ChatOpenAI(
            model="gpt-4o-mini",
            base_url=server.base_url,
            api_key="sk-test",
            streaming=True,
            http_async_client=httpx.AsyncClient(),
        )

        async def both():  # alone, and inside a chain
            await cancel(model, "Tell me a long story.", [handler])
            await cancel(chain_of(model), {"topic": "a long story"}, [handler])

        with Instrumented() as official:
            if not wrapper:  # the official handler alone, without its wrapper
                unwrap(BaseChatModel, "_agenerate_with_cache")
            asyncio.run(both())
        ends = [
            (s.name, s.attributes.get("error.type"), s.status.status_code.name)
            for s in official.memory.get_finished_spans()
            if s.name.startswith("chat ")
        ]
        return [s.name for s in mine.get_finished_spans()], len(handler.own), ends

    with FakeOpenAIServer(token_delay=0.05, fault="") as server:
        mine, still_open, official = run(server)
        _, _, official_handler_alone = run(server, wrapper=False)
    assert mine == ["invoke_workflow count_words"]  # the chain's span ends, with its error
    assert still_open == 2  # both model spans: never ended, so never exported
    assert official == [("chat gpt-4o-mini", "asyncio.exceptions.CancelledError", "ERROR")] * 2
    assert official_handler_alone == []  # it is the wrapper that ends them
