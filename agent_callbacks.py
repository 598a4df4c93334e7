"""Follow an agent's loop with callbacks: LangChain v1's create_agent.

`create_agent` builds a LangGraph graph: a model node and a tools node that loop until the
model answers without a tool call. A runtime handler hears the whole loop, each run in it
tagged with its `langgraph_node`; where you attach a handler decides what it hears. LangGraph's
`stream_mode="messages"` streams through a callback of its own; a tool reports progress two ways.
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
    """Counts starts by kind and the model's streamed tokens, and collects custom events."""

    def __init__(self):
        self.counts, self.tokens, self.custom = {"chain": 0, "model": 0, "tool": 0}, 0, []

    def on_chain_start(self, serialized, inputs, **kwargs):
        self.counts["chain"] += 1

    def on_chat_model_start(self, serialized, messages, **kwargs):
        self.counts["model"] += 1

    def on_tool_start(self, serialized, input_str, **kwargs):
        self.counts["tool"] += 1

    def on_llm_new_token(self, token, **kwargs):
        self.tokens += 1

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

    print('\n== 3. stream_mode="messages" streams tokens through a callback ==')
    invoked, streamed, heard, tokens = EventCounter(), EventCounter(), EventCounter(), {}
    agent.invoke(QUESTION, config={"callbacks": [invoked]})
    stream = agent.stream(QUESTION, {"callbacks": [streamed]}, stream_mode="messages")
    for chunk, metadata in stream:
        tokens.setdefault(metadata["langgraph_node"], []).append(chunk.text)
    print(f"agent.invoke: a handler heard {invoked.tokens} tokens")
    print(f'agent.stream(stream_mode="messages"): a handler heard {streamed.tokens} tokens')
    for node, texts in tokens.items():
        print(f"[{node}] {len(texts)} chunks: {''.join(texts)!r}")
    for stream_usage in (None, True):
        metered = create_agent(ChatOpenAI(model=model, stream_usage=stream_usage), tools=[multiply])
        with get_usage_metadata_callback() as usage:
            list(metered.stream(QUESTION, stream_mode="messages"))
        total = sum(u["total_tokens"] for u in usage.usage_metadata.values())
        print(f"ChatOpenAI(stream_usage={stream_usage}): the agent used {total} tokens")
    if result["messages"][-1].response_metadata.get("object") == "response":
        print("(Calls with tools went to the Responses API, which always reports usage.)")
    else:
        print("(Behind a base URL, ChatOpenAI asks for usage only if told to: stream_usage=True.)")
    quiet = create_agent(ChatOpenAI(model=model, tags=["nostream"]), tools=[multiply])
    stream = quiet.stream(QUESTION, {"callbacks": [heard]}, stream_mode="messages")
    kinds = [type(chunk).__name__ for chunk, meta in stream if meta["langgraph_node"] == "model"]
    chunks, whole = kinds.count("AIMessageChunk"), kinds.count("AIMessage")
    print(f'A model tagged "nostream": {chunks} token chunks, {whole} whole messages streamed,')
    print(f"  yet a handler passed in its config heard {heard.tokens} tokens\n")

    print("== 4. Progress from inside a tool: two APIs, two destinations ==")
    counter = EventCounter()
    stream = agent.stream(QUESTION, {"callbacks": [counter]}, stream_mode="custom")
    written = [data["via"] for data in stream]
    print(f'stream_mode="custom" received:  {written}')
    print(f"a handler's on_custom_event got: {counter.custom}")
    if not written and not counter.custom:
        print(tutorial_env.SKIPPED_TOOL)


if __name__ == "__main__":
    main()
