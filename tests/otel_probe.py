"""The reference span tree of otel_export.py (lesson 11): its own handler, GenAISpans, run
over the same chain and the same create_agent loop the lesson runs, printed as JSON.

Contract (tests/test_otel_export.py and the Phoenix check in .ci/ rely on it):

    .venv/bin/python tests/otel_probe.py

* Runs as the lesson does: `import otel_export` calls tutorial_env.load(), so with no key
  it answers from the offline model (OPENAI_MODEL picks the model, as for the lessons).
* stdout is one JSON document and nothing else: {"spans": [...]}, the chain's spans then
  the agent's, each in the order it started, as
  {"name", "kind" ("CLIENT"/"INTERNAL"), "parent" (the parent span's name, or null),
   "trace_id" (32 hex digits), "span_id" (16), "parent_span_id" (16, or null),
   "status" ("UNSET"/"ERROR"), "attributes" ({key: value}; sequences as lists)}.
* With OTEL_EXPORTER_OTLP_ENDPOINT set, the lesson's span_provider() ALSO sends these very
  spans (same ids) over OTLP/HTTP to <endpoint>/v1/traces, and the probe flushes before it
  exits. If nothing took them, it prints one line on stderr and exits 1 (the JSON is still
  printed). A bad endpoint URL ends as the lesson does: one `[config]` line, exit 2.
* The official instrumentation is not involved: these are the lesson's spans only.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from langchain.agents import create_agent  # noqa: E402
from langchain_core.output_parsers import StrOutputParser  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402
from langchain_openai import ChatOpenAI  # noqa: E402

import otel_export as lesson  # noqa: E402 - its tutorial_env.load() starts the offline model
from tutorial_env.span_table import keep_logs  # noqa: E402


def as_json(span, names):
    parent = span.parent.span_id if span.parent else None
    return dict(
        name=span.name,
        kind=span.kind.name,
        parent=names.get(parent) if parent else None,
        trace_id=f"{span.context.trace_id:032x}",
        span_id=f"{span.context.span_id:016x}",
        parent_span_id=f"{parent:016x}" if parent else None,
        status=span.status.status_code.name,
        attributes={
            key: list(value) if isinstance(value, tuple) else value
            for key, value in span.attributes.items()
        },
    )


def main():
    provider, memory, endpoint = lesson.span_provider()
    failures = keep_logs("opentelemetry.exporter")  # the exporter's own log of a failed send
    config = {"callbacks": [lesson.GenAISpans(provider.get_tracer("otel_export"))]}
    llm = ChatOpenAI(model=os.environ["OPENAI_MODEL"])  # as in the lesson's main()
    prompt = ChatPromptTemplate.from_template("Say something short about {topic}.")
    chain = (prompt | llm | StrOutputParser() | lesson.word_count).with_config(
        run_name="count_words"
    )
    agent = create_agent(llm, [lesson.word_count], name="word_counter")
    chain.invoke({"topic": "tracing"}, config)
    agent.invoke(lesson.QUESTION, config)
    provider.shutdown()  # flushes the OTLP batch, if there is one
    spans = sorted(memory.get_finished_spans(), key=lambda span: span.start_time)
    names = {span.context.span_id: span.name for span in spans}
    print(json.dumps({"spans": [as_json(span, names) for span in spans]}, indent=1))
    if endpoint and failures:
        print(f"[otlp] nothing took the spans at {endpoint}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
