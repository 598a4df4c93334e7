import re

import pytest
from lessons import check_clean_run, run_lesson, section, uses_responses_api

from tutorial_env.offline import prompt_tokens, reasoning_tokens, tokenize

LESSON = "agent_callbacks.py"
ANSWER = "The multiply tool returned 42, so the answer is 42."


@pytest.fixture(scope="module")
def output(model):
    return check_clean_run(run_lesson(LESSON, model=model), LESSON, model)


def test_the_run_tree_holds_two_model_turns_and_the_tool_inside_the_graph(output):
    lines = [line for line in section(output, 1).splitlines() if "[langgraph_node=" in line]
    tree = [(len(line) - len(line.lstrip()), line.split()[0], line.split()[1]) for line in lines]
    assert tree[0] == (0, "chain", "LangGraph")  # the root: the agent's graph
    models = [i for i, (_, kind, _) in enumerate(tree) if kind == "model"]
    tools = [i for i, (_, kind, _) in enumerate(tree) if kind == "tool"]
    assert len(models) == 2 and len(tools) == 1
    depth, _, name = tree[tools[0]]
    assert name == "multiply" and depth == 4  # under the tools node, inside the graph
    assert tree[tools[0] - 1] == (2, "chain", "tools")
    assert "tool  multiply  [langgraph_node=tools]" in lines[tools[0]]
    assert all("[langgraph_node=model]" in lines[i] for i in models)
    assert tools[0] < models[1]  # model turn, tool turn, final model turn
    assert f"Answer: {ANSWER}" in output


def counts(output, way):
    row = next(line for line in section(output, 2).splitlines() if line.startswith(way))
    return tuple(map(int, row.split()[-3:]))  # chain, model, tool


def test_where_you_attach_decides_what_you_hear(output):
    assert counts(output, "agent.invoke(config=") == (4, 2, 1)
    assert counts(output, "agent.with_config(") == (4, 2, 1)
    assert counts(output, "ChatOpenAI(callbacks=") == (0, 2, 0)
    assert counts(output, "ChatOpenAI(...).with_config(") == (0, 0, 0)


def test_messages_stream_tokens_add_up_to_the_answer_and_usage_needs_stream_usage(output, model):
    part = section(output, 3)
    streamed = re.search(r"^\[model\] (\d+) chunks: '(.*)'$", part, re.M)
    assert int(streamed[1]) > 10 and streamed[2] == ANSWER
    total = loop_tokens(model)
    assert f"ChatOpenAI(stream_usage=True): the agent used {total} tokens" in part
    if uses_responses_api(model, tools=True):  # the agent's calls carry tools
        assert f"ChatOpenAI(stream_usage=None): the agent used {total} tokens" in part
        assert "sent them to the Responses API" in part
    else:
        assert "ChatOpenAI(stream_usage=None): the agent used 0 tokens" in part
        assert "On Chat Completions a stream reports usage only if asked" in part


def loop_tokens(model) -> int:
    """What the offline model bills for the loop: the tool call, then the answer."""
    question = "What is 6 * 7? Use the multiply tool."
    call = prompt_tokens([question]) + len(tokenize('multiply {"a": 6, "b": 7}'))
    history = [question, None, "42"]  # the question, the tool call (no text), the tool's result
    return call + prompt_tokens(history) + len(tokenize(ANSWER)) + 2 * reasoning_tokens(model)


def test_a_nostream_model_sends_no_token_chunks(output):
    assert 'A model tagged "nostream": 0 token chunks, 2 whole messages' in section(output, 3)


def test_each_progress_api_reaches_its_own_destination_only(output):
    part = section(output, 4)
    assert "stream_mode=\"custom\" received:  ['get_stream_writer']" in part
    assert "a handler's on_custom_event got: ['dispatch_custom_event']" in part


def test_a_model_that_calls_the_tool_gets_no_skipped_tool_note(output):
    assert "[note] the model answered without" not in output
