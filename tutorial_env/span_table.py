"""otel_export.py's span trees: spans kept in memory, each span of the lesson's handler
printed with, under it, where the official instrumentation's span for the same run differs,
and the OTLP exporter's own log of its failures, kept instead of shown."""

import logging
from itertools import zip_longest
from logging.handlers import BufferingHandler

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


def in_memory():
    """A tracer provider whose spans are kept in memory, and that memory."""
    provider, memory = TracerProvider(), InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return provider, memory


def keep_logs(name):
    """What the logger `name` logs from now on, kept in a list instead of printed."""
    kept = BufferingHandler(capacity=1000)
    logging.getLogger(name).addHandler(kept)
    logging.getLogger(name).propagate = False
    return kept.buffer


def tree(memory):
    """(name, kind, parent's name, attributes) of each finished span in an in-memory
    exporter, in the order they started; the exporter is cleared for the next run."""
    spans = sorted(memory.get_finished_spans(), key=lambda span: span.start_time)
    memory.clear()
    names = {span.context.span_id: span.name for span in spans}
    parents = [names[span.parent.span_id] if span.parent else "-" for span in spans]
    return [
        (s.name, s.kind.name, up, dict(s.attributes)) for s, up in zip(spans, parents, strict=True)
    ]


def print_side_by_side(mine, theirs):
    """The lesson's spans, and under each line where the official instrumentation differs.
    Returns the lesson's spans, as tree() gives them."""
    spans = tree(mine)
    for ours, other in zip_longest(spans, tree(theirs), fillvalue=("-", "-", "-", {})):
        print(f"{ours[0]:<26} {ours[1]:<9} parent: {ours[2]}")
        if ours[:3] != other[:3]:
            print(f"    official: {other[0]} {other[1]}, parent: {other[2]}")
        for key, value in ours[3].items():
            official = other[3].get(key, "not set")
            print(f"    {key} = {value}" + (f"   official: {official}" * (official != value)))
        if extra := sorted(other[3].keys() - ours[3].keys()):
            print(f"    official only: {', '.join(extra)}")
    return spans
