"""otel_export.py (lesson 11): GenAI spans from a callback handler, beside the official
instrumentation's, and the optional OTLP/HTTP export."""

import gzip
import json
import re
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from lessons import free_port, offline_env, run_lesson, section
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tutorial_env.offline import prompt_tokens, reasoning_tokens, text_reply, tokenize

LESSON = "otel_export.py"
PROMPT = "Say something short about tracing."
QUESTION = "How many words are in this question?"
SPAN = re.compile(r"^(?P<name>\S+ \S+) +(?P<kind>CLIENT|INTERNAL) +parent: (?P<parent>.+)$")
ATTRIBUTE = re.compile(r"^    (?P<key>[\w.]+) = (?P<value>.*?)(?:   official: (?P<official>.*))?$")


def spans(part):
    """The lesson's printed spans: name, kind, parent, attributes, and the official's
    differing values and extra keys."""
    found = []
    for line in part.splitlines():
        if match := SPAN.match(line):
            found.append(dict(match.groupdict(), attributes={}, official={}, only=[], moved=None))
        elif match := ATTRIBUTE.match(line):
            found[-1]["attributes"][match["key"]] = match["value"]
            if match["official"]:
                found[-1]["official"][match["key"]] = match["official"]
        elif line.startswith("    official only: "):
            found[-1]["only"] = line.split(": ", 1)[1].split(", ")
        elif line.startswith("    official: "):
            found[-1]["moved"] = line.split(": ", 1)[1]
    return found


def answer_tokens(text, model):
    return len(tokenize(text)) + reasoning_tokens(model)


def tool_call_tokens(model):
    arguments = json.dumps({"text": QUESTION.rstrip("?")})
    return len(tokenize("word_count " + arguments)) + reasoning_tokens(model)


def expected_chat(model, input_tokens, output_tokens, finish):
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
        "gen_ai.response.finish_reasons": f"('{finish}',)",
        "gen_ai.usage.input_tokens": str(input_tokens),
        "gen_ai.usage.output_tokens": str(output_tokens),
    }
    if reasoning_tokens(model):  # only a reasoning model reports some; a 0 is left out
        attributes["gen_ai.usage.reasoning.output_tokens"] = str(reasoning_tokens(model))
    return attributes


def without_ids(span):
    return {k: v for k, v in span["attributes"].items() if k != "gen_ai.response.id"}


def test_the_chain_becomes_a_workflow_span_with_chat_and_execute_tool_under_it(output, model):
    chain = spans(section(output, 1))
    assert [(s["name"], s["kind"], s["parent"]) for s in chain] == [
        ("invoke_workflow count_words", "INTERNAL", "-"),
        (f"chat {model}", "CLIENT", "invoke_workflow count_words"),
        ("execute_tool word_count", "INTERNAL", "invoke_workflow count_words"),
    ]
    root, chat, tool = chain
    assert root["attributes"] == {
        "gen_ai.operation.name": "invoke_workflow",
        "gen_ai.workflow.name": "count_words",
    }
    reply = text_reply(PROMPT)
    assert without_ids(chat) == expected_chat(
        model, prompt_tokens([PROMPT]), answer_tokens(reply, model), "stop"
    )
    assert chat["attributes"]["gen_ai.response.id"].startswith(("chatcmpl-", "resp_"))
    assert tool["attributes"] == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "word_count",  # no call id: a chain calls it, not a model
    }


def test_the_agent_is_an_invoke_agent_span_over_two_chats_and_the_tool(output, model):
    agent = spans(section(output, 2))
    parent = "invoke_agent word_counter"
    assert [(s["name"], s["kind"], s["parent"]) for s in agent] == [
        (parent, "INTERNAL", "-"),
        (f"chat {model}", "CLIENT", parent),
        ("execute_tool word_count", "INTERNAL", parent),
        (f"chat {model}", "CLIENT", parent),
    ]
    root, first, tool, second = agent
    assert root["attributes"] == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "word_counter",
    }
    # the offline model's rule: 3 per message + 3, the tool call's name and JSON arguments
    asked = prompt_tokens([QUESTION])
    assert without_ids(first) == expected_chat(model, asked, tool_call_tokens(model), "tool_calls")
    words = str(len(QUESTION.rstrip("?").split()))
    final = f"The word_count tool returned {words}, so the answer is {words}."
    second_input = prompt_tokens([QUESTION, "", words])
    expected = expected_chat(model, second_input, answer_tokens(final, model), "stop")
    assert without_ids(second) == expected
    call_id = tool["attributes"]["gen_ai.tool.call.id"]
    assert call_id == "call_1_word_count"
    assert tool["attributes"] == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "word_count",
        "gen_ai.tool.call.id": call_id,
    }


def test_a_failed_model_call_ends_its_span_with_error_type_on_both(output):
    part = section(output, 3)
    assert "the caller got OpenAIModelNotFoundError" in part
    [failed] = spans(part)
    assert failed["name"] == "chat no-such-model" and failed["parent"] == "-"
    error = "langchain_openai.chat_models.base.OpenAIModelNotFoundError"
    assert failed["attributes"]["error.type"] == error
    assert failed["official"] == {} and failed["only"] == [] and failed["moved"] is None


def test_the_official_instrumentation_agrees_span_by_span_but_for_the_listed_gaps(output, model):
    on_responses = model != "gpt-4o-mini"  # the agent's turns carry tools
    chain_on_responses = model == "gpt-5.6-sol"
    for number, responses in [(1, chain_on_responses), (2, on_responses)]:
        for span in spans(section(output, number)):
            assert span["moved"] is None, span  # same name, kind and parent
            if span["kind"] == "CLIENT":
                # its one gap: on the Responses API it records every finish as "error"
                expected = {"gen_ai.response.finish_reasons": "('error',)"} if responses else {}
                assert span["official"] == expected, span
                assert span["only"] == []
            elif span["name"].startswith("execute_tool"):
                assert span["official"] == {}
                extra = ["gen_ai.tool.description", "gen_ai.tool.type"]
                if number == 2:
                    extra.insert(0, "gen_ai.agent.name")
                assert span["only"] == extra
            else:
                assert span["official"] == {} and span["only"] == []


def test_without_an_endpoint_the_spans_stay_in_memory(output):
    assert "to memory only: set OTEL_EXPORTER_OTLP_ENDPOINT" in section(output, 4)


def test_the_probe_prints_the_spans_the_lesson_prints(output, model):
    result = run_lesson("tests/otel_probe.py", model=model, args=[])
    assert result.returncode == 0, result.stdout
    probe = json.loads(result.stdout[result.stdout.index("{") :])["spans"]
    printed = spans(section(output, 1)) + spans(section(output, 2))
    assert [(s["name"], s["kind"], s["parent"] or "-") for s in probe] == [
        (s["name"], s["kind"], s["parent"]) for s in printed
    ]
    for ours, theirs in zip(probe, printed, strict=True):
        values = {
            k: str(tuple(v)) if isinstance(v, list) else str(v)
            for k, v in ours["attributes"].items()
        }
        values.pop("gen_ai.response.id", None)
        assert values == without_ids(theirs)
    assert len({span["trace_id"] for span in probe}) == 2  # one trace each: chain, agent


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver on 127.0.0.1: keeps each POST to /v1/traces, answers 200."""

    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        body = gzip.decompress(body) if encoding == "gzip" else body
        body = zlib.decompress(body) if encoding == "deflate" else body
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        Collector.received.append((self.path, self.headers["Content-Type"], request))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_with_an_endpoint_the_same_spans_arrive_over_otlp_http():
    Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        env = offline_env(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)
        result = run_lesson("tests/otel_probe.py", env=env, args=[])
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stdout
    printed = json.loads(result.stdout[result.stdout.index("{") :])["spans"]
    assert {path for path, _, _ in Collector.received} == {"/v1/traces"}
    assert {kind for _, kind, _ in Collector.received} == {"application/x-protobuf"}
    sent = [
        span
        for _, _, request in Collector.received
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    by_id = {span.span_id.hex(): span for span in sent}
    assert sorted(by_id) == sorted(span["span_id"] for span in printed)
    for span in printed:
        arrived = by_id[span["span_id"]]
        assert arrived.name == span["name"]
        assert arrived.trace_id.hex() == span["trace_id"]
        assert (arrived.parent_span_id.hex() or None) == span["parent_span_id"]
        kinds = {"INTERNAL": 1, "CLIENT": 3}  # the OTLP enum: SPAN_KIND_INTERNAL, _CLIENT
        assert arrived.kind == kinds[span["kind"]]
        attributes = {a.key: a.value for a in arrived.attributes}
        for key, value in span["attributes"].items():
            if isinstance(value, list):
                assert [v.string_value for v in attributes[key].array_value.values] == value
            elif isinstance(value, int):
                assert attributes[key].int_value == value
            else:
                assert attributes[key].string_value == value


def test_nothing_listening_at_the_endpoint_gives_one_line_and_exit_0():
    endpoint = f"http://127.0.0.1:{free_port()}"  # closed: nothing listens there
    result = run_lesson(LESSON, env=offline_env(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint))
    assert result.returncode == 0, result.stdout
    told = section(result.stdout, 4).split("==\n", 1)[1].splitlines()
    told = [line for line in told if line.strip() and not line.startswith("[offline]")]
    assert told == [
        f"[otlp] nothing took the spans at {endpoint}: is Phoenix running (make phoenix)?"
    ]
    assert "== 1. A chain as GenAI spans" in result.stdout  # the spans were still printed
    assert "Traceback" not in result.stdout
    assert not re.search(r"(?i)transient error|failed to export|retrying", result.stdout)


@pytest.mark.parametrize("endpoint", ["notaurl", "ftp://x", "http://127.0.0.1:notaport"])
def test_a_bad_endpoint_url_is_one_config_line_and_a_non_zero_exit(endpoint):
    result = run_lesson(LESSON, env=offline_env(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint))
    assert result.returncode == 2, result.stdout
    lines = [line for line in result.stdout.splitlines() if not line.startswith("[offline]")]
    assert len(lines) == 1 and lines[0].startswith("[config] OTEL_EXPORTER_OTLP_ENDPOINT="), lines
    assert "Traceback" not in result.stdout
