"""Export your runs to OpenTelemetry, as spans that follow its GenAI conventions.

A callback handler opens a span as each run starts and ends it with the run, with the
`gen_ai.*` attributes; the official instrumentation traces the same runs, for comparison.
Set OTEL_EXPORTER_OTLP_ENDPOINT (to Phoenix, on port 6006 here) to send them over OTLP too.
Conventions: https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/

Run: python otel_export.py
"""

import os

from langchain.agents import create_agent
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from openai import NotFoundError
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.genai.langchain import LangChainInstrumentor
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import SpanKind, StatusCode

import tutorial_env
from tutorial_env.span_table import in_memory, keep_logs, print_side_by_side

tutorial_env.load()  # in place of load_dotenv(): your .env key, or the offline model

OP = gen_ai.GenAiOperationNameValues  # the conventions are "Development": use the constants
AGENT = OP.INVOKE_AGENT, gen_ai.GEN_AI_AGENT_NAME
WORKFLOW = OP.INVOKE_WORKFLOW, gen_ai.GEN_AI_WORKFLOW_NAME
QUESTION = {"messages": [{"role": "user", "content": "How many words are in this question?"}]}


@tool
def word_count(text: str) -> int:
    """Count the words in a text."""
    return len(text.split())


class GenAISpans(BaseCallbackHandler):
    """A span per GenAI run: opened when the run starts, under its parent's, ended with it."""

    def __init__(self, tracer):
        self.tracer, self.span_of, self.own = tracer, {}, {}

    def _start(self, run_id, parent_run_id, operation, name, attributes, kind=SpanKind.INTERNAL):
        parent = self.span_of.get(parent_run_id)
        context = trace.set_span_in_context(parent) if parent else None
        attributes = {gen_ai.GEN_AI_OPERATION_NAME: operation.value, **attributes}
        known = {key: value for key, value in attributes.items() if value is not None}
        span = self.tracer.start_span(f"{operation.value} {name}", context, kind, known)
        self.span_of[run_id] = self.own[run_id] = span

    def _end(self, run_id, attributes=(), error=None):
        self.span_of.pop(run_id, None)
        if span := self.own.pop(run_id, None):
            if error is not None:
                attributes = {ERROR_TYPE: f"{type(error).__module__}.{type(error).__name__}"}
                span.set_status(StatusCode.ERROR, str(error))
            span.set_attributes({k: v for k, v in dict(attributes).items() if v is not None})
            span.end()

    def on_chain_start(self, serialized, inputs, *, run_id, parent_run_id=None, **kwargs):
        name, metadata = kwargs.get("name"), kwargs.get("metadata") or {}
        agent = metadata.get("ls_integration") == "langchain_create_agent"
        if "langgraph_node" in metadata or (parent_run_id and not agent):  # prompt, parser, node:
            self.span_of[run_id] = self.span_of.get(parent_run_id)  # no span, children go up
        else:
            operation, key = AGENT if agent else WORKFLOW
            self._start(run_id, parent_run_id, operation, name, {key: name})

    def on_chat_model_start(self, serialized, messages, *, run_id, parent_run_id=None, **kw):
        model, provider = kw["metadata"].get("ls_model_name"), kw["metadata"].get("ls_provider")
        attributes = {gen_ai.GEN_AI_PROVIDER_NAME: provider, gen_ai.GEN_AI_REQUEST_MODEL: model}
        self._start(run_id, parent_run_id, OP.CHAT, model, attributes, SpanKind.CLIENT)

    def on_llm_end(self, response, *, run_id, **kwargs):
        message = response.generations[0][0].message
        meta, usage = message.response_metadata, message.usage_metadata or {}
        stopped = "tool_calls" if message.tool_calls else "stop"  # as Chat Completions says it
        status = meta.get("status")  # the Responses API's instead: completed, incomplete, ...
        reason = meta.get("finish_reason") or (stopped if status == "completed" else status)
        details = usage.get("input_token_details", {}) | usage.get("output_token_details", {})
        self._end(run_id, {
            gen_ai.GEN_AI_RESPONSE_MODEL: meta.get("model_name"),
            gen_ai.GEN_AI_RESPONSE_ID: meta.get("id"),
            gen_ai.GEN_AI_RESPONSE_FINISH_REASONS: [reason],
            gen_ai.GEN_AI_USAGE_INPUT_TOKENS: usage.get("input_tokens"),
            gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS: usage.get("output_tokens"),
            gen_ai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: details.get("cache_read") or None,
            gen_ai.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: details.get("reasoning") or None,
        })  # fmt: skip

    def on_tool_start(self, serialized, input_str, *, run_id, parent_run_id=None, **kwargs):
        name, call_id = serialized["name"], kwargs.get("tool_call_id")  # no call id in a chain
        attributes = {gen_ai.GEN_AI_TOOL_NAME: name, gen_ai.GEN_AI_TOOL_CALL_ID: call_id}
        self._start(run_id, parent_run_id, OP.EXECUTE_TOOL, name, attributes)

    def on_chain_end(self, outputs, *, run_id, **kwargs):
        self._end(run_id)

    def on_chain_error(self, error, *, run_id, **kwargs):
        self._end(run_id, error=error)

    on_tool_end, on_llm_error, on_tool_error = on_chain_end, on_chain_error, on_chain_error


def span_provider():
    """Spans go to memory; with OTEL_EXPORTER_OTLP_ENDPOINT set, over OTLP/HTTP as well."""
    provider, memory = in_memory()
    endpoint = tutorial_env.url_setting("OTEL_EXPORTER_OTLP_ENDPOINT", "Try http://127.0.0.1:6006.")
    if endpoint:  # the exporter reads it itself; on a closed port it retries for `timeout` s
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(timeout=2)))
    return provider, memory, endpoint


def main():
    llm = ChatOpenAI(model=os.environ["OPENAI_MODEL"])
    prompt = ChatPromptTemplate.from_template("Say something short about {topic}.")
    chain = (prompt | llm | StrOutputParser() | word_count).with_config(run_name="count_words")
    agent = create_agent(llm, [word_count], name="word_counter")
    provider, mine, endpoint = span_provider()
    config = {"callbacks": [GenAISpans(provider.get_tracer("otel_export"))]}
    official_provider, theirs = in_memory()
    LangChainInstrumentor().instrument(tracer_provider=official_provider)  # joins every run

    for heading, runnable, question in [
        ("1. A chain as GenAI spans", chain, {"topic": "tracing"}),
        ("2. An agent loop: invoke_agent, chat, execute_tool", agent, QUESTION),
        ("3. A failed model call: error.type", ChatOpenAI(model="no-such-model"), "Hi"),
    ]:
        print(f"\n== {heading} (official: where the official instrumentation differs) ==")
        try:
            runnable.invoke(question, config)
        except NotFoundError as error:
            print(f"the caller got {type(error).__name__}")
        spans = print_side_by_side(mine, theirs)
        if runnable is agent and not any(span[0].startswith("execute_tool") for span in spans):
            print(tutorial_env.SKIPPED_TOOL)
    LangChainInstrumentor().uninstrument()

    print("\n== 4. Where the spans went ==")
    failures = keep_logs("opentelemetry.exporter")  # where the exporter reports its failures
    provider.shutdown()  # flushes the batch: the OTLP exporter sends what is left
    if not endpoint:
        print("to memory only: set OTEL_EXPORTER_OTLP_ENDPOINT to send them over OTLP/HTTP too")
    elif failures:
        print(f"[otlp] nothing took the spans at {endpoint}: is Phoenix running (make phoenix)?")
    else:
        print(f"sent over OTLP/HTTP to {endpoint}")


if __name__ == "__main__":
    main()
