"""The claims ledger for lesson 11, "Export your runs to OpenTelemetry": what the OpenTelemetry
SDK, the OTLP/HTTP exporter and the official LangChain instrumentation
(opentelemetry-instrumentation-genai-langchain 1.3b0) do, against the pinned packages and the
offline model. Each test proves one README sentence marked `<!-- claim: otel-... -->`.
"""

import asyncio
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from logging.handlers import BufferingHandler

import pytest
from claims import claim
from langchain.agents import create_agent
from langchain_core.callbacks import BaseCallbackHandler, BaseCallbackManager
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from lessons import free_port
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.genai.langchain import LangChainInstrumentor
from opentelemetry.instrumentation.genai.langchain.callback_handler import (
    OpenTelemetryLangChainCallbackHandler,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

SECTION = "11."
QUESTION = {"messages": [{"role": "user", "content": "How many words are in this question?"}]}
ON_BOTH_APIS = pytest.mark.parametrize(
    "model", [pytest.param("gpt-4o-mini", id="chat"), pytest.param("gpt-6-luna", id="responses")]
)


@tool
def word_count(text: str) -> int:
    """Count the words in a text."""
    return len(text.split())


def llm(fake, model="gpt-4o-mini"):
    return ChatOpenAI(model=model, base_url=fake.base_url, api_key="sk-test", max_retries=0)


def chain_of(model):
    prompt = ChatPromptTemplate.from_template("Say something short about {topic}.")
    return (prompt | model | StrOutputParser() | word_count).with_config(run_name="count_words")


class Instrumented:
    """The official instrumentation on, into its own in-memory exporter; off again after."""

    def __enter__(self):
        self.memory, provider = InMemorySpanExporter(), TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.memory))
        LangChainInstrumentor().instrument(tracer_provider=provider)
        return self

    def __exit__(self, *exc_info):
        LangChainInstrumentor().uninstrument()

    def tree(self):
        spans = sorted(self.memory.get_finished_spans(), key=lambda span: span.start_time)
        names = {span.context.span_id: span.name for span in spans}
        return [(s.name, names.get(s.parent.span_id) if s.parent else None) for s in spans]


@claim("otel-instrumentation-is-the-handler", SECTION)
def test_the_instrumentation_is_a_callback_handler_and_an_exporter_only_ships_spans(fake):
    assert issubclass(OpenTelemetryLangChainCallbackHandler, BaseCallbackHandler)
    with Instrumented():  # instrument() puts its handler into every callback manager made
        manager = BaseCallbackManager(handlers=[])
        assert any(
            isinstance(h, OpenTelemetryLangChainCallbackHandler)
            for h in manager.inheritable_handlers
        )
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


@claim("otel-export-errors-only-logged", SECTION)
def test_export_errors_are_caught_and_logged_by_the_sdk_and_langchain_never_sees_them(fake):
    import otel_export as lesson  # noqa: PLC0415 - the lesson's handler

    provider = TracerProvider()
    closed = f"http://127.0.0.1:{free_port()}/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=closed, timeout=1)))
    exporter_log, langchain_log = BufferingHandler(100), BufferingHandler(100)
    logging.getLogger("opentelemetry.exporter").addHandler(exporter_log)
    logging.getLogger("langchain_core.callbacks.manager").addHandler(langchain_log)
    try:
        handler = lesson.GenAISpans(provider.get_tracer("t"))
        answer = chain_of(llm(fake)).invoke({"topic": "x"}, {"callbacks": [handler]})
        provider.force_flush()  # the export fails here, on the processor's thread
        provider.shutdown()
    finally:
        logging.getLogger("opentelemetry.exporter").removeHandler(exporter_log)
        logging.getLogger("langchain_core.callbacks.manager").removeHandler(langchain_log)
    assert isinstance(answer, int)
    assert any(r.levelno >= logging.WARNING for r in exporter_log.buffer)
    assert langchain_log.buffer == []  # no "Error in ... callback": LangChain saw nothing


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
def test_the_official_instrumentation_keeps_parents_on_the_async_path(fake):
    with Instrumented() as official:
        asyncio.run(create_agent(llm(fake), [word_count], name="w").ainvoke(QUESTION))
    tree = official.tree()
    assert tree[0] == ("invoke_agent w", None)
    assert [parent for _, parent in tree[1:]] == ["invoke_agent w"] * 3
    traces = {s.context.trace_id for s in official.memory.get_finished_spans()}
    assert len(traces) == 1
