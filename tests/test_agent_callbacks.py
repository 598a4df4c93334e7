import ast
import re

from langchain.agents import create_agent
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from lessons import ROOT, section, uses_responses_api

from tutorial_env.offline import prompt_tokens, reasoning_tokens, tokenize

LESSON = "agent_callbacks.py"
ANSWER = "The multiply tool returned 42, so the answer is 42."
QUESTION = {"messages": [{"role": "user", "content": "What is 6 * 7? Use the multiply tool."}]}


def test_the_run_tree_holds_both_model_turns_and_the_tool_inside_the_graph(output):
    lines = [line for line in section(output, 1).splitlines() if "[langgraph_node=" in line]
    tree = [(len(line) - len(line.lstrip()), *line.split()) for line in lines]
    # (indent, kind, name, node): every run is nested under the node it ran in, and every
    # node under the graph; the models are no more at the top than the tool is.
    assert tree == [
        (0, "chain", "LangGraph", "[langgraph_node=-]"),
        (2, "chain", "model", "[langgraph_node=model]"),
        (4, "model", "ChatOpenAI", "[langgraph_node=model]"),
        (2, "chain", "tools", "[langgraph_node=tools]"),
        (4, "tool", "multiply", "[langgraph_node=tools]"),
        (2, "chain", "model", "[langgraph_node=model]"),
        (4, "model", "ChatOpenAI", "[langgraph_node=model]"),
    ]
    assert f"Answer: {ANSWER}" in output


def counts(output, way):
    row = next(line for line in section(output, 2).splitlines() if line.startswith(way))
    return tuple(map(int, row.split()[-3:]))  # chain, model, tool


def test_where_you_attach_decides_what_you_hear(output):
    assert counts(output, "agent.invoke(config=") == (4, 2, 1)
    assert counts(output, "agent.with_config(") == (4, 2, 1)
    assert counts(output, "ChatOpenAI(callbacks=") == (0, 2, 0)
    assert counts(output, "ChatOpenAI(...).with_config(") == (0, 0, 0)


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


class Starts(BaseCallbackHandler):
    def __init__(self):
        self.heard = {"chain": 0, "model": 0, "tool": 0}

    def on_chain_start(self, serialized, inputs, **kwargs):
        self.heard["chain"] += 1

    def on_chat_model_start(self, serialized, messages, **kwargs):
        self.heard["model"] += 1

    def on_tool_start(self, serialized, input_str, **kwargs):
        self.heard["tool"] += 1


def test_each_row_of_section_2_attaches_the_handler_the_way_its_label_says(fake_server):
    """The rows' counts alone cannot tell `agent.with_config` from a run-time handler: both
    hear 4/2/1. So the lesson's own `ways` are built here, and each row's handler must
    travel the way its label says: in the run-time config only for the first row, and in
    the runnable it builds for the others."""
    tree = ast.parse((ROOT / LESSON).read_text(encoding="utf-8"))
    ways = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "ways"
    )
    server = {"base_url": fake_server.base_url, "api_key": "sk-test", "max_retries": 0}

    def chat_openai(**settings):  # the lesson's ChatOpenAI, pointed at this test's server
        return ChatOpenAI(**server, **settings)

    agent = create_agent(chat_openai(model="gpt-4o-mini"), tools=[multiply])
    names = {"agent": agent, "create_agent": create_agent, "ChatOpenAI": chat_openai}
    names.update(model="gpt-4o-mini", multiply=multiply)
    builds = eval(compile(ast.Expression(ways), LESSON, "eval"), names)
    heard = {}
    for way, build in builds.items():
        handler = Starts()
        runnable, run_config = build(handler)
        at_run_time = run_config.get("callbacks") == [handler]
        where = "in the run-time config" if at_run_time else "in what the row builds"
        assert at_run_time == way.startswith("agent.invoke(config="), f"{way}: handler {where}"
        assert (runnable is agent) == at_run_time, f"{way}: handler {where}"
        runnable.invoke(QUESTION, config=run_config)
        heard[way] = tuple(handler.heard.values())
    assert list(heard.values()) == [(4, 2, 1), (4, 2, 1), (0, 2, 0), (0, 0, 0)]
    assert list(heard)[1] == "agent.with_config(callbacks=...)"


def test_the_agents_model_streams_only_in_messages_mode(output):
    part = section(output, 3)
    invoked = re.search(r"^agent\.invoke: a handler heard (\d+) tokens$", part, re.M)
    assert invoked and invoked[1] == "0"  # the agent's model has no streaming=True
    streamed = re.search(
        r'^agent\.stream\(stream_mode="messages"\): a handler heard (\d+) tokens$', part, re.M
    )
    chunks = re.search(r"^\[model\] (\d+) chunks: '(.*)'$", part, re.M)
    assert streamed and chunks and int(chunks[1]) > 10 and chunks[2] == ANSWER
    assert streamed[1] == chunks[1]  # each chunk from the model node is a handler's token


def test_usage_needs_stream_usage_on_chat_completions_only(output, model):
    part = section(output, 3)
    total = loop_tokens(model)
    assert f"ChatOpenAI(stream_usage=True): the agent used {total} tokens" in part
    if uses_responses_api(model, tools=True):  # the agent's calls carry tools
        assert f"ChatOpenAI(stream_usage=None): the agent used {total} tokens" in part
        assert "(Calls with tools went to the Responses API" in part
    else:
        assert "ChatOpenAI(stream_usage=None): the agent used 0 tokens" in part
        assert "(Behind a base URL, ChatOpenAI asks for usage only if told to" in part


def loop_tokens(model) -> int:
    """What the offline model bills for the loop: the tool call, then the answer."""
    question = "What is 6 * 7? Use the multiply tool."
    call = prompt_tokens([question]) + len(tokenize('multiply {"a": 6, "b": 7}'))
    history = [question, None, "42"]  # the question, the tool call (no text), the tool's result
    return call + prompt_tokens(history) + len(tokenize(ANSWER)) + 2 * reasoning_tokens(model)


def test_a_nostream_model_sends_whole_messages_yet_still_streams(output):
    part = section(output, 3)
    quiet = re.search(
        r'^A model tagged "nostream": (\d+) token chunks, (\d+) whole messages streamed,\n'
        r"  yet a handler passed in its config heard (\d+) tokens$",
        part,
        re.M,
    )
    streamed = re.search(r"^\[model\] (\d+) chunks", part, re.M)
    assert quiet and (quiet[1], quiet[2]) == ("0", "2")
    assert quiet[3] == streamed[1]  # the model streamed every token, to the handler only


def test_each_progress_api_reaches_its_own_destination_only(output):
    part = section(output, 4)
    assert "stream_mode=\"custom\" received:  ['get_stream_writer']" in part
    assert "a handler's on_custom_event got: ['dispatch_custom_event']" in part


def test_a_model_that_calls_the_tool_gets_no_skipped_tool_note(output):
    assert "[note] the model answered without" not in output
