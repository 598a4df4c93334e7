"""Follow an agent's loop with callbacks: LangChain v1's create_agent.

`create_agent` builds a LangGraph graph: a model node and a tools node that loop until the
model answers without a tool call. A handler passed at run time hears the whole loop, and
`metadata["langgraph_node"]` says which node each run belongs to. Where you attach a
handler decides what it hears. LangGraph's own `stream_mode="messages"` is a callback too,
and a tool can report progress two ways that reach two different places.
Docs: https://docs.langchain.com/oss/python/langchain/streaming

Run: python agent_callbacks.py
"""

import os

from langchain.agents import create_agent
from langchain_core.callbacks import (
    BaseCallbackHandler,
    dispatch_custom_event,
    get_usage_metadata_callback,
)
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.config import get_stream_writer

import tutorial_env

tutorial_env.load()  # in place of load_dotenv(): your .env key, or the offline model

QUESTION = {"messages": [{"role": "user", "content": "What is 6 * 7? Use the multiply tool."}]}


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    dispatch_custom_event("progress", {"via": "dispatch_custom_event"})
    get_stream_writer()({"via": "get_stream_writer"})
    return a * b


class RunTreePrinter(BaseCallbackHandler):
    """Prints each run as it starts, indented under its parent, with its graph node."""

    def __init__(self):
        self.depth = {}

    def _start(self, kind, name, run_id, parent_run_id, metadata):
        self.depth[run_id] = self.depth.get(parent_run_id, -1) + 1
        node = metadata.get("langgraph_node", "-")
        print(f"{'  ' * self.depth[run_id]}{kind} {name}  [langgraph_node={node}]")

    def on_chain_start(self, serialized, inputs, *, run_id, parent_run_id=None, **kwargs):
        self._start("chain", kwargs["name"], run_id, parent_run_id, kwargs["metadata"])

    def on_chat_model_start(self, serialized, messages, *, run_id, parent_run_id=None, **kw):
        self._start("model", serialized["name"], run_id, parent_run_id, kw["metadata"])

    def on_tool_start(self, serialized, input_str, *, run_id, parent_run_id=None, **kwargs):
        self._start("tool ", serialized["name"], run_id, parent_run_id, kwargs["metadata"])


class EventCounter(BaseCallbackHandler):
    """Counts starts by kind, and collects custom events."""

    def __init__(self):
        self.counts = {"chain": 0, "model": 0, "tool": 0}
        self.custom = []

    def on_chain_start(self, serialized, inputs, **kwargs):
        self.counts["chain"] += 1

    def on_chat_model_start(self, serialized, messages, **kwargs):
        self.counts["model"] += 1

    def on_tool_start(self, serialized, input_str, **kwargs):
        self.counts["tool"] += 1

    def on_custom_event(self, name, data, **kwargs):
        self.custom.append(data["via"])


def main():
    model = os.environ["OPENAI_MODEL"]
    agent = create_agent(ChatOpenAI(model=model), tools=[multiply])

    print("== 1. A runtime handler hears the whole loop ==")
    config = {"callbacks": [RunTreePrinter()], "tags": ["lesson-9"], "metadata": {"user": "ada"}}
    result = agent.invoke(QUESTION, config=config)
    print(f"Answer: {result['messages'][-1].text}")
    called_tool = any(message.type == "tool" for message in result["messages"])
    print(f"{tutorial_env.SKIPPED_TOOL}\n" if not called_tool else "")

    print("== 2. Where you attach the handler decides what it hears ==")
    ways = {
        "agent.invoke(config={'callbacks': ...})": lambda h: (agent, {"callbacks": [h]}),
        "agent.with_config(callbacks=...)": lambda h: (agent.with_config(callbacks=[h]), {}),
        "ChatOpenAI(callbacks=...)": lambda h: (
            create_agent(ChatOpenAI(model=model, callbacks=[h]), tools=[multiply]),
            {},
        ),
        "ChatOpenAI(...).with_config(callbacks=...)": lambda h: (
            create_agent(ChatOpenAI(model=model).with_config(callbacks=[h]), tools=[multiply]),
            {},
        ),
    }
    print(f"{'attached with':<44}{'chain':>6}{'model':>6}{'tool':>6}")
    for way, build in ways.items():
        counter = EventCounter()
        runnable, run_config = build(counter)
        runnable.invoke(QUESTION, config=run_config)
        print(f"{way:<44}" + "".join(f"{n:>6}" for n in counter.counts.values()))
    print()

    print('== 3. stream_mode="messages" streams tokens through a callback ==')
    tokens = {}
    for chunk, metadata in agent.stream(QUESTION, stream_mode="messages"):
        tokens.setdefault(metadata["langgraph_node"], []).append(chunk.text)
    for node, texts in tokens.items():
        print(f"[{node}] {len(texts)} chunks: {''.join(texts)!r}")
    for stream_usage in (None, True):
        streaming_agent = create_agent(
            ChatOpenAI(model=model, stream_usage=stream_usage), tools=[multiply]
        )
        with get_usage_metadata_callback() as usage:
            list(streaming_agent.stream(QUESTION, stream_mode="messages"))
        total = sum(u["total_tokens"] for u in usage.usage_metadata.values())
        print(f"ChatOpenAI(stream_usage={stream_usage}): the agent used {total} tokens")
    if result["messages"][-1].response_metadata.get("object") == "response":
        print("(The agent's calls carry tools, so this model sent them to the Responses API,")
        print(" which always reports usage: stream_usage changes nothing there.)")
    else:
        print("(On Chat Completions a stream reports usage only if asked: stream_usage=True.)")
    quiet = create_agent(ChatOpenAI(model=model, tags=["nostream"]), tools=[multiply])
    kinds = [
        type(chunk).__name__
        for chunk, metadata in quiet.stream(QUESTION, stream_mode="messages")
        if metadata["langgraph_node"] == "model"
    ]
    print(
        f'A model tagged "nostream": {kinds.count("AIMessageChunk")} token chunks, '
        f"{kinds.count('AIMessage')} whole messages from the model node\n"
    )

    print("== 4. Progress from inside a tool: two APIs, two destinations ==")
    counter = EventCounter()
    written = [
        data["via"]
        for data in agent.stream(QUESTION, stream_mode="custom", config={"callbacks": [counter]})
    ]
    print(f'stream_mode="custom" received:  {written}')
    print(f"a handler's on_custom_event got: {counter.custom}")
    if not written and not counter.custom:
        print(tutorial_env.SKIPPED_TOOL)


if __name__ == "__main__":
    main()
