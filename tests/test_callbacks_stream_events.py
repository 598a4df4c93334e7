"""Lesson 13, callbacks on the v3 event stream: the protocol events a handler receives for a
text answer and for a tool call, on each API; the v1 hooks beside them; the projections; the
usage; an agent's GraphRunStream; and a v1 consumer nested in a v3 run."""

import json
import re

import pytest
from failures import assert_one_message, on_both_apis, online_env
from lessons import offline_env, run_lesson, section, uses_responses_api

from tutorial_env import SKIPPED_TOOL
from tutorial_env.offline import prompt_tokens, reasoning_tokens, tokenize

LESSON = "callbacks_stream_events.py"
TEXT, ANSWER = "What is 6 * 7?", "6 * 7 = 42."
TOOL = "What is 6 * 7? Use the multiply tool."
FINAL = "The multiply tool returned 42, so the answer is 42."
ARGUMENTS = json.dumps({"a": 6, "b": 7})
BETA = (
    "LangChainBetaWarning from langgraph/pregel/main.py: "
    "The v3 streaming protocol on Pregel is experimental."
)


def events(part):
    """(event type, block index or None, block or delta type) of each printed protocol event."""
    seen = []
    for line in part.splitlines():
        if line.startswith("[on_stream_event] "):
            words = line.split()[1:]
            block = (int(words[2]), words[3]) if words[1:2] == ["block"] else (None, None)
            seen.append((words[0], *block))
    return seen


def expected_events(model, tools):
    """The exact protocol events of the offline model's answer on the API this call takes."""
    responses = uses_responses_api(model, tools=tools)
    pieces = (tokenize(ARGUMENTS) if responses else [ARGUMENTS]) if tools else tokenize(ANSWER)
    start, delta, finish = (
        ("tool_call_chunk", "tool-call-delta", "tool_call")
        if tools
        else ("text", "text-delta", "text")
    )
    if responses and reasoning_tokens(model):  # a reasoning block first, finishing at the end
        return [
            ("message-start", None, None),
            ("content-block-start", 0, "reasoning"),
            ("content-block-start", 1, start),
            *[("content-block-delta", 1, delta)] * len(pieces),
            ("content-block-finish", 0, "reasoning"),
            ("content-block-finish", 1, finish),
            ("message-finish", None, None),
        ]
    return [
        ("message-start", None, None),
        ("content-block-start", 0, start),
        *[("content-block-delta", 0, delta)] * len(pieces),
        ("content-block-finish", 0, finish),
        ("message-finish", None, None),
    ]


def test_the_text_answer_is_exactly_this_sequence_of_protocol_events(output, model):
    part = section(output, 1)
    assert events(part) == expected_events(model, tools=False)
    deltas = re.findall(r"text-delta '(.*)'$", part, re.M)
    assert "".join(deltas) == ANSWER
    assert f"content-block-finish  block {1 if uses_responses_api(model, False) else 0}" in part


def test_the_tool_call_is_exactly_this_sequence_of_protocol_events(output, model):
    part = section(output, 2)
    assert events(part) == expected_events(model, tools=True)
    assert "".join(re.findall(r"tool-call-delta '(.*)'$", part, re.M)) == ARGUMENTS
    assert "tool_call multiply {'a': 6, 'b': 7}" in part


@pytest.mark.parametrize("number", [1, 2])
def test_chat_model_start_and_llm_end_frame_the_events(output, number):
    lines = [line for line in section(output, number).splitlines() if line.startswith("[on_")]
    assert lines[0] == "[on_chat_model_start] ChatOpenAI"
    assert lines[-1].startswith("[on_llm_end] AIMessage ")
    assert all(line.startswith("[on_stream_event] ") for line in lines[1:-1])


def table(output):
    """Section 3's table: {row: [text v3, text v1, tool call v3, tool call v1]}."""
    rows = {}
    for line in section(output, 3).splitlines()[2:]:
        if line.strip():
            label, cells = line[:20].strip(), line[20:].split()
            rows[label] = [int(c) if c.isdigit() else c for c in cells]
    return rows


def test_no_on_stream_event_fires_under_v1_and_one_per_printed_event_under_v3(output):
    rows = table(output)
    text_v3, text_v1, tool_v3, tool_v1 = rows["on_stream_event"]
    assert text_v1 == 0 and tool_v1 == 0
    assert text_v3 == len(events(section(output, 1))) and tool_v3 == len(events(section(output, 2)))
    assert rows["on_chat_model_start"] == [1, 1, 1, 1] and rows["on_llm_end"] == [1, 1, 1, 1]


def test_on_llm_new_token_still_fires_under_v3_and_v1_adds_a_closing_chunk_on_chat(output, model):
    text_v3, text_v1, tool_v3, tool_v1 = table(output)["on_llm_new_token"]
    assert text_v3 > 0 and tool_v3 > 0
    for tools, (new, old) in ((False, (text_v3, text_v1)), (True, (tool_v3, tool_v1))):
        assert old == new + (0 if uses_responses_api(model, tools) else 1)
    if model == "gpt-6-luna":  # the probe: 8 tokens beside 10 protocol events
        assert (text_v3, table(output)["on_stream_event"][0]) == (8, 10)


def test_the_v3_token_is_a_str_and_v1_passes_a_list_on_responses(output, model):
    kinds = table(output)["its token is a"]
    expected = ["str", "list" if uses_responses_api(model, False) else "str", "str"]
    assert kinds == expected + ["list" if uses_responses_api(model, True) else "str"]


def test_the_projections_give_the_text_the_tool_call_and_the_message(output, model):
    part = section(output, 4)
    deltas = [repr(token) for token in tokenize(ANSWER)]
    assert f".text: '{ANSWER}', from the deltas [{', '.join(deltas)}]" in part
    assert "'name': 'multiply', 'args': {'a': 6, 'b': 7}, 'id': 'call_1_multiply'" in part
    text_blocks = ["reasoning", "text"] if uses_responses_api(model, False) else ["text"]
    tool_blocks = ["reasoning", "tool_call"] if uses_responses_api(model, True) else ["tool_call"]
    assert f".output: AIMessages with the content blocks {[text_blocks, tool_blocks]}" in part


def test_on_llm_end_carries_the_same_full_usage_under_v3_as_under_v1(output, model):
    part = section(output, 5)
    output_tokens = len(tokenize(ANSWER)) + reasoning_tokens(model)
    usage = {"input_tokens": prompt_tokens([TEXT]), "output_tokens": output_tokens}
    usage["total_tokens"] = usage["input_tokens"] + output_tokens
    if uses_responses_api(model, False):
        usage["input_token_details"] = {"cache_creation": 0, "cache_read": 0}
        usage["output_token_details"] = {"reasoning": reasoning_tokens(model)}
    else:
        usage["input_token_details"] = {"audio": 0, "cache_read": 0}
        usage["output_token_details"] = {"audio": 0, "reasoning": reasoning_tokens(model)}
    assert f"v3: {usage}\nv1 stream() got the same: True" in part


def test_only_the_graph_warns_and_says_where(output):
    for number in (1, 2):
        assert "stream_events(version='v3') on ChatOpenAI: 0 warnings" in section(output, number)
    part = section(output, 6)
    assert f"stream_events(version='v3') on LangGraph: 2 warnings\n  {BETA}\n  {BETA}\n" in part
    assert output.count("Warning") == 2  # nowhere else, and not on stderr either


def test_the_agent_run_is_a_graph_run_stream_with_messages_and_values(output):
    part = section(output, 6)
    projections = ["values", "messages", "lifecycle", "subgraphs", "tool_calls", "subagents"]
    assert f"GraphRunStream, with the projections {projections}" in part
    seen = [line.split(":")[0].strip() for line in part.splitlines() if line.startswith("  .")]
    assert seen == [".values", ".messages", ".values", ".values", ".messages", ".values"]
    assert ".messages: ChatModelStream, .text '', .tool_calls ['multiply']" in part
    assert f".messages: ChatModelStream, .text '{FINAL}', .tool_calls []" in part
    states = re.findall(r"a state of (\d) message", part)
    assert states == ["1", "2", "3", "4"]
    assert f".output['messages'][-1].text: '{FINAL}'" in part


def counts(part, label):
    line = next(
        line for line in part.splitlines() if line.startswith(f"A handler on the agent, {label}")
    )
    return json.loads(line.split(": ", 1)[1].replace("'", '"'))


def test_a_handler_on_the_agent_hears_stream_events_under_v3_only(output):
    part = section(output, 6)
    new, old = counts(part, "v3"), counts(part, 'v1 stream_mode="messages"')
    assert new["on_stream_event"] > 0 and old["on_stream_event"] == 0
    assert new["on_chat_model_start"] == old["on_chat_model_start"] == 2
    assert new["on_llm_end"] == old["on_llm_end"] == 2
    assert new["on_llm_new_token"] > 0


def test_a_nested_v1_messages_consumer_keeps_every_chunk_inside_a_v3_run(output):
    part = section(output, 7)
    found = re.search(r"got (\d+) token chunks in outer.invoke, (\d+) in v3", part)
    assert found and found[1] == found[2] and int(found[1]) > 10
    assert "The v3 run's own .messages got 0 model streams" in part


def test_a_model_that_calls_the_tool_gets_no_skipped_tool_note(output):
    assert SKIPPED_TOOL not in output


def test_a_model_that_skips_the_tool_ends_in_a_note():
    result = run_lesson(
        LESSON, env=offline_env(OPENAI_MODEL="gpt-4o-mini", TUTORIAL_OFFLINE_IGNORE_TOOLS="1")
    )
    assert result.returncode == 0, result.stdout
    assert SKIPPED_TOOL in result.stdout and "Traceback" not in result.stdout


@on_both_apis
@pytest.mark.parametrize("faulty_server", ["401"], indirect=True)
def test_an_invalid_key_ends_in_one_clear_line(faulty_server, model):
    env = online_env(faulty_server.base_url, OPENAI_MODEL=model)
    result = run_lesson(LESSON, env=env)
    assert_one_message(result, 1, "HTTP 401", "OPENAI_API_KEY", "sk-...abcd")


@on_both_apis
@pytest.mark.parametrize("faulty_server", ["disconnect"], indirect=True)
def test_a_dropped_connection_ends_in_one_clear_line(faulty_server, model):
    env = online_env(faulty_server.base_url, OPENAI_MODEL=model)
    result = run_lesson(LESSON, env=env)
    assert_one_message(result, 1, "dropped in the middle of the answer", "OPENAI_BASE_URL")
