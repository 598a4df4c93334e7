"""Attach callbacks once with with_config, and they fire on every invoke.

`chain.with_config(callbacks=[handler])` returns a new runnable that carries the handler,
so each invoke fires it without passing config again. A runtime handler given to the same
invoke is added to it: both fire. The trap: `with_config` must come after `bind_tools`.
Reference: https://reference.langchain.com/python/langchain-core/runnables/base/Runnable/with_config
Archived v0.3 how-to: https://python.langchain.com/docs/how_to/callbacks_attach/

Run: python callbacks_attach.py
"""

import os

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

import tutorial_env

tutorial_env.load()  # in place of load_dotenv(): your .env key, or the offline model


class StartPrinter(BaseCallbackHandler):
    """Prints each run that starts, under its own label, and counts every event."""

    def __init__(self, label):
        self.label = label
        self.events = 0

    def on_chain_start(self, serialized, inputs, **kwargs):
        self.events += 1
        print(f"  [{self.label}] chain start: {kwargs['name']}  tags={kwargs['tags']}")

    def on_chat_model_start(self, serialized, messages, **kwargs):
        self.events += 1
        print(f"  [{self.label}] chat model start: {serialized['name']}  tags={kwargs['tags']}")

    def on_chain_end(self, outputs, **kwargs):
        self.events += 1

    def on_llm_end(self, response, **kwargs):
        self.events += 1


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def main():
    llm = ChatOpenAI(model=os.environ["OPENAI_MODEL"])
    chain = ChatPromptTemplate.from_template("What is {a} + {b}?") | llm | StrOutputParser()

    print("== 1. Attached once, the handler fires on every invoke ==")
    attached = StartPrinter("attached")
    watched_chain = chain.with_config(callbacks=[attached], tags=["attached-tag"])
    for inputs in ({"a": 1, "b": 2}, {"a": 2, "b": 2}):
        print(f"invoke({inputs}) with no config:")
        print(f"  -> {watched_chain.invoke(inputs)}")
    print(f"The attached handler saw {attached.events} events over 2 invokes.\n")

    print("== 2. Attached plus runtime callbacks: both fire ==")
    runtime = StartPrinter("runtime")
    watched_chain.invoke({"a": 3, "b": 4}, config={"callbacks": [runtime], "tags": ["rt-tag"]})
    print(
        f"The runtime handler saw {runtime.events} events; the attached one now has "
        f"{attached.events}.\n"
    )

    print("== 3. The trap: with_config before bind_tools drops the callbacks ==")
    wrong, right = StartPrinter("wrong order"), StartPrinter("right order")
    dropped = llm.with_config(callbacks=[wrong]).bind_tools([add])
    kept = llm.bind_tools([add]).with_config(callbacks=[right])
    calls = [
        call for model in (dropped, kept) for call in model.invoke("What is 2 + 3?").tool_calls
    ]
    for call in calls:
        print(f"  the model asked for {call['name']}({call['args']})")
    if len(calls) < 2:
        print(tutorial_env.SKIPPED_TOOL)
    print(f"llm.with_config(callbacks=...).bind_tools(...): {wrong.events} events (silently lost)")
    print(f"llm.bind_tools(...).with_config(callbacks=...): {right.events} events")


if __name__ == "__main__":
    main()
