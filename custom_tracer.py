"""Build a tracer on callbacks, and see the run tree that tracing tools draw.

LangSmith, Langfuse and Phoenix trace LangChain with callback handlers. A `BaseTracer`
subclass gets each finished root run with its children, times, inputs, outputs and errors.
Here: that tree as a waterfall, a worker thread that loses a child or splits a trace, and a
broken tracer, only logged unless it sets `raise_error`. Spans come in the next lesson.
Reference: https://reference.langchain.com/python/langchain-core/tracers/base/BaseTracer

Run: python custom_tracer.py
"""

import contextlib
import io
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar

from langchain_core.globals import set_debug
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.runnables.config import ContextThreadPoolExecutor
from langchain_core.tools import tool
from langchain_core.tracers import BaseTracer
from langchain_core.tracers.context import register_configure_hook
from langchain_openai import ChatOpenAI

import tutorial_env
from tutorial_env.waterfall import print_waterfall

tutorial_env.load()  # in place of load_dotenv(): your .env key, or the offline model


@tool
def word_count(text: str) -> int:
    """Count the words in a text."""
    return len(text.split())


class RunCollector(BaseTracer):
    """A tracer: LangChain hands it each root run when it ends, children included."""

    def __init__(self):
        super().__init__()
        self.roots = []

    def _persist_run(self, run):
        self.roots.append(run)


class AlwaysOnTracer(BaseTracer):
    """Like LangSmith's tracer: LangChain makes one for every run while MY_TRACING is on."""

    backend = []  # where every instance sends its runs, as a tracing service would

    def _persist_run(self, run):
        AlwaysOnTracer.backend.append(run)


register_configure_hook(ContextVar("my_tracer", default=None), True, AlwaysOnTracer, "MY_TRACING")
POOLS = (ThreadPoolExecutor, False), (ThreadPoolExecutor, True), (ContextThreadPoolExecutor, False)


def outline(run):
    return f"{run.name}({', '.join(outline(child) for child in run.child_runs)})"


class BrokenExporter(BaseTracer):
    """A hand-made exporter that posts each run to a collector that is down."""

    def _persist_run(self, run):
        raise ConnectionError("no collector listening on localhost:4318")


class StrictBrokenExporter(BrokenExporter):
    raise_error = True


class ShowLogged(logging.Handler):
    def emit(self, record):
        print(f"[logged on purpose] {record.getMessage()}")


def main():
    llm = ChatOpenAI(model=os.environ["OPENAI_MODEL"])
    prompt = ChatPromptTemplate.from_template("Say something short about {topic}.")
    chain = (prompt | llm | StrOutputParser() | word_count).with_config(run_name="count_words")
    question = {"topic": "tracing"}

    print("== 1. The built-in tracer: set_debug(True) ==")
    set_debug(True)
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        chain.invoke(question)
    set_debug(False)
    lines = printed.getvalue().splitlines()
    headers = [line for line in lines if "] Entering " in line or "] Exiting " in line]
    print("\n".join(f"{line}\x1b[0m" for line in headers))  # end the bold each header leaves on
    print(f"... and {len(lines) - len(headers)} more lines of inputs and outputs\n")

    print("== 2. Your own tracer: the run tree as a waterfall ==")
    tracer = RunCollector()
    print(f"count_words returned {chain.invoke(question, config={'callbacks': [tracer]})}")
    print(f"the tracer received {len(tracer.roots)} root run")
    print_waterfall(tracer.roots[0])

    print("\n== 3. A model call from a worker thread: the lost child and the split trace ==")

    def ask_in_thread(pool_class, pass_config):
        def ask(topic, config):
            with pool_class(max_workers=1) as pool:
                message = f"One line on {topic}."
                return pool.submit(llm.invoke, message, config if pass_config else None).result()

        return RunnableLambda(ask, name="ask_in_thread")

    os.environ["MY_TRACING"] = "true"  # like LANGSMITH_TRACING=true
    for pool_class, pass_config in POOLS:
        run_time, AlwaysOnTracer.backend = RunCollector(), []
        ask_in_thread(pool_class, pass_config).invoke("threads", config={"callbacks": [run_time]})
        print(f"{pool_class.__name__}{', config passed on' if pass_config else ''}:")
        for name, roots in [("run-time", run_time.roots), ("always-on", AlwaysOnTracer.backend)]:
            trees = ", ".join(map(outline, roots))
            lost = not roots[0].child_runs  # the step's model call is not inside it
            verdict = "split trace" if len(roots) > 1 else "child lost" if lost else "whole"
            print(f"  {name + ' tracer:':<18} roots: {len(roots)}  {trees:<30} {verdict}")
    del os.environ["MY_TRACING"]

    print("\n== 4. A tracer that raises ==")
    logging.getLogger("langchain_core.callbacks.manager").addHandler(ShowLogged())
    result = chain.invoke(question, config={"callbacks": [BrokenExporter()]})
    print(f"without raise_error the chain still returned {result}")
    try:
        chain.invoke(question, config={"callbacks": [StrictBrokenExporter()]})
    except ConnectionError as error:
        print(f"with raise_error = True the caller got {error!r}")


if __name__ == "__main__":
    main()
