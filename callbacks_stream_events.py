"""Callbacks on the v3 event stream: on_stream_event, beside the v1 hooks.

`stream_events(version="v3")`, in beta, streams a chat model's answer as protocol events, and
a handler's `on_stream_event` receives each one: v1 `stream()` never fires it. The message
starts, each content block starts, grows by deltas and finishes, and the message finishes.
Docs: https://docs.langchain.com/oss/python/langgraph/event-streaming
Reference: https://reference.langchain.com/python/langchain-core/language_models/chat_models/BaseChatModel/stream_events

Run: python callbacks_stream_events.py
"""

import os
import warnings
from pathlib import Path

from langchain.agents import create_agent
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.graph import START, MessagesState, StateGraph

import tutorial_env

tutorial_env.load()  # in place of load_dotenv(): your .env key, or the offline model

TEXT = "What is 6 * 7?"
TOOL = "What is 6 * 7? Use the multiply tool."
HOOKS = ("on_chat_model_start", "on_llm_new_token", "on_stream_event", "on_llm_end")


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def describe(event):
    """One protocol event in a line: its type, the block's index and type, and the delta."""
    if event["event"].startswith("message-"):
        usage = event.get("usage")
        return event["event"] + (f"  usage: {usage['total_tokens']} tokens" if usage else "")
    part = event.get("delta") or event["content"]  # a delta, or the block as it starts/ends
    shown = [part["type"], part.get("name"), repr(part.get("text") or part.get("args") or "")]
    return f"{event['event']:<21} block {event['index']}  " + " ".join(filter(None, shown))


class StreamEventPrinter(BaseCallbackHandler):
    """Prints each protocol event it receives, and counts every hook that fires."""

    def __init__(self, quiet=False):
        self.quiet, self.fired = quiet, dict.fromkeys(HOOKS, 0)
        self.tokens, self.usage = set(), None  # the token types seen; on_llm_end's usage

    def on_chat_model_start(self, serialized, messages, **kwargs):
        self.fired["on_chat_model_start"] += 1
        self.quiet or print(f"[on_chat_model_start] {serialized['name']}")

    def on_llm_new_token(self, token, **kwargs):
        self.fired["on_llm_new_token"] += 1
        self.tokens.add("str" if isinstance(token, str) else type(token).__name__)

    def on_stream_event(self, event, **kwargs):
        self.fired["on_stream_event"] += 1
        self.quiet or print(f"[on_stream_event] {describe(event)}")

    def on_llm_end(self, response, **kwargs):
        self.fired["on_llm_end"] += 1
        message = response.generations[0][0].message
        self.usage = message.usage_metadata
        self.quiet or print(f"[on_llm_end] {type(message).__name__} {message.text!r}")


def stream_v3(runnable, question, printer):
    """runnable.stream_events(version="v3"), and the warnings that call gave, printed."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stream = runnable.stream_events(question, version="v3", config={"callbacks": [printer]})
    print(f"stream_events(version='v3') on {runnable.get_name()}: {len(caught)} warnings")
    for w in caught:  # the file that warned, e.g. langgraph/pregel/main.py
        print(f"  {w.category.__name__} from {'/'.join(Path(w.filename).parts[-3:])}: {w.message}")
    return stream


def main():
    llm = ChatOpenAI(model=os.environ["OPENAI_MODEL"])
    calls = {"text answer": (llm, TEXT), "tool call": (llm.bind_tools([multiply]), TOOL)}
    printers = {f"{c} {v}": StreamEventPrinter(v == "v1") for c in calls for v in ("v3", "v1")}
    streams = {}
    for number, (label, (runnable, question)) in enumerate(calls.items(), 1):
        print(f"\n== {number}. v3, a {label}: {question!r} ==")
        streams[label] = stream_v3(runnable, question, printers[f"{label} v3"])
        list(streams[label])  # iterating the events drives the call; the handler prints them
    text, call = streams.values()

    print("\n== 3. The same calls through v1 stream(): which hooks fire ==")
    for label, (runnable, question) in calls.items():
        list(runnable.stream(question, config={"callbacks": [printers[f"{label} v1"]]}))
    rows = {"": list(printers), **{h: [p.fired[h] for p in printers.values()] for h in HOOKS}}
    rows["  its token is a"] = ["|".join(sorted(p.tokens)) for p in printers.values()]
    for row, cells in rows.items():
        print(f"{row:<20}" + "".join(f"{cell:>16}" for cell in cells))

    print("\n== 4. What the typed projections give the consumer ==")
    print(f".text: {str(text.text)!r}, from the deltas {list(text.text)}")
    made = [{key: c[key] for key in ("name", "args", "id")} for c in call.tool_calls.get()]
    print(f".tool_calls.get(): {made}" if made else tutorial_env.SKIPPED_TOOL)
    blocks = [[block["type"] for block in stream.output.content] for stream in (text, call)]
    print(f".output: {type(call.output).__name__}s with the content blocks {blocks}")

    print("\n== 5. Token usage in on_llm_end, v3 and v1 ==")
    metered = ChatOpenAI(model=os.environ["OPENAI_MODEL"], stream_usage=True)  # see lesson 8
    v3, v1 = StreamEventPrinter(quiet=True), StreamEventPrinter(quiet=True)
    list(metered.stream_events(TEXT, version="v3", config={"callbacks": [v3]}))
    list(metered.stream(TEXT, config={"callbacks": [v1]}))
    print(f"v3: {v3.usage}\nv1 stream() got the same: {v1.usage == v3.usage}")

    print("\n== 6. An agent's stream_events(version='v3') returns a GraphRunStream ==")
    agent = create_agent(llm, tools=[multiply])
    question = {"messages": [{"role": "user", "content": TOOL}]}
    v3, v1 = StreamEventPrinter(quiet=True), StreamEventPrinter(quiet=True)
    run = stream_v3(agent, question, v3)
    print(f"{type(run).__name__}, with the projections {list(run.extensions)}")
    for name, item in run.interleave("values", "messages"):  # each, as it arrives
        if name == "values":
            print(f"  .values:   a state of {len(item['messages'])} message(s)")
        else:  # one ChatModelStream per model call, with the projections of section 4
            names = [c["name"] for c in item.tool_calls.get()]
            print(f"  .messages: ChatModelStream, .text {str(item.text)!r}, .tool_calls {names}")
    print(f".output['messages'][-1].text: {run.output['messages'][-1].text!r}")
    list(agent.stream(question, {"callbacks": [v1]}, stream_mode="messages"))
    print(f"A handler on the agent, v3: {v3.fired}")
    print(f'A handler on the agent, v1 stream_mode="messages": {v1.fired}')

    print('\n== 7. A v1 stream_mode="messages" consumer inside a v3 run ==')
    chunks = []

    def relay(state):  # a node that streams the agent itself, the v1 way
        stream = agent.stream(state, stream_mode="messages")
        chunks.append(sum(meta["langgraph_node"] == "model" for _chunk, meta in stream))
        return {}

    outer = StateGraph(MessagesState).add_node(relay).add_edge(START, "relay").compile()
    outer.invoke(question)
    outer_streams = list(outer.stream_events(question, version="v3").messages)
    print(f"The node's consumer got {chunks[0]} token chunks in outer.invoke, {chunks[1]} in v3")
    print(f"The v3 run's own .messages got {len(outer_streams)} model streams")


if __name__ == "__main__":
    main()
