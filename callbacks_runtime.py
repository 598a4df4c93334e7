"""Pass callbacks at invoke time, and they reach every child run.

`config={"callbacks": [handler]}` on one call hands the handler to every run inside that
call: the prompt, the chat model, the output parser, and a tool the model asks for. The
tags and metadata in the same config reach every one of those runs; run_name names only
the run you invoke. The next call without the config fires nothing.
Docs: https://docs.langchain.com/oss/python/langchain/models#invocation-config
Archived v0.3 how-to: https://python.langchain.com/docs/how_to/callbacks_runtime/

Run: python callbacks_runtime.py
"""

import os

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

import tutorial_env

tutorial_env.load()  # in place of load_dotenv(): your .env key, or the offline model


class RunTreePrinter(BaseCallbackHandler):
    """Prints every run as it starts and ends, indented under its parent run."""

    def __init__(self):
        self.runs = {}  # run_id -> (name, depth, tags, metadata)
        self.events = 0

    def _start(self, hook, name, run_id, parent_run_id, kwargs):
        depth = self.runs[parent_run_id][1] + 1 if parent_run_id in self.runs else 0
        self.events += 1
        # LangChain adds its own ls_* and lc_* metadata keys; show only ours.
        metadata = {k: v for k, v in kwargs["metadata"].items() if not k.startswith(("ls_", "lc_"))}
        self.runs[run_id] = (name, depth, kwargs["tags"], metadata)
        print(f"{'  ' * depth}{hook}: {name}  tags={kwargs['tags']} metadata={metadata}")

    def _end(self, hook, run_id, output):
        name, depth, _, _ = self.runs[run_id]
        self.events += 1
        print(f"{'  ' * depth}{hook}: {name} -> {output!r}")

    def on_chain_start(self, serialized, inputs, *, run_id, parent_run_id=None, **kwargs):
        self._start("on_chain_start", kwargs["name"], run_id, parent_run_id, kwargs)

    def on_chat_model_start(self, serialized, messages, *, run_id, parent_run_id=None, **kwargs):
        self._start("on_chat_model_start", serialized["name"], run_id, parent_run_id, kwargs)

    def on_tool_start(self, serialized, input_str, *, run_id, parent_run_id=None, **kwargs):
        self._start("on_tool_start", serialized["name"], run_id, parent_run_id, kwargs)

    def on_chain_end(self, outputs, *, run_id, **kwargs):
        # The prompt step outputs a ChatPromptValue; to_string() makes it readable.
        self._end("on_chain_end", run_id, getattr(outputs, "to_string", lambda: outputs)())

    def on_llm_end(self, response, *, run_id, **kwargs):
        message = response.generations[0][0].message
        self._end("on_llm_end", run_id, message.tool_calls or message.text)

    def on_tool_end(self, output, *, run_id, **kwargs):
        self._end("on_tool_end", run_id, output.content)


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def call_tools(message, config):
    # Passing config on makes the tool a child run of this step (automatic on Python 3.11+).
    return [add.invoke(call, config).content for call in message.tool_calls]


def main():
    llm = ChatOpenAI(model=os.environ["OPENAI_MODEL"])
    handler = RunTreePrinter()
    config = {
        "callbacks": [handler],
        "tags": ["lesson-1"],
        "metadata": {"user": "ada"},
        "run_name": "JokeChain",
    }

    print("== 1. One invoke with config: the handler sees every child run ==")
    chain = (
        ChatPromptTemplate.from_template("Tell me a joke about {topic}") | llm | StrOutputParser()
    )
    answer = chain.invoke({"topic": "parrots"}, config=config)
    print(f"Answer: {answer}")
    runs = list(handler.runs.values())
    print(f"run_name named only the run you invoked: {runs[0][0]}. Its children kept their")
    print(f"own names: {', '.join(name for name, *_ in runs[1:])}.")
    reached = sum("lesson-1" in tags and meta == {"user": "ada"} for *_, tags, meta in runs)
    print(f"tags and metadata reached {reached} of the {len(runs)} runs.\n")

    print("== 2. The same config reaches a tool that the model asks for ==")
    tool_chain = (
        ChatPromptTemplate.from_template("What is {a} + {b}? Use the add tool.")
        | llm.bind_tools([add])
        | call_tools
    )
    results = tool_chain.invoke({"a": 2, "b": 3}, config=dict(config, run_name="ToolChain"))
    print(f"Tool results: {results}")
    print(f"{tutorial_env.SKIPPED_TOOL}\n" if not results else "")

    print("== 3. The next invoke without config: the handler hears nothing ==")
    before = handler.events
    chain.invoke({"topic": "parrots"})
    print(f"Events the handler received during that call: {handler.events - before}")


if __name__ == "__main__":
    main()
