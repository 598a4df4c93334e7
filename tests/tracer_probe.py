"""Lesson 10's tracer and waterfall on two trees the lesson does not build,
for tests/test_custom_tracer.py: a chain nested four levels deep, and a chain whose model
call was cancelled, so that the model's run never ended. Run as a lesson is (offline, with
the lesson's own imports); prints one line, `PROBE <json>`, and asserts nothing itself."""

import asyncio
import contextlib
import io
import json
import logging
import os
from datetime import UTC, datetime, timedelta

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_openai import ChatOpenAI

import custom_tracer as lesson  # its tutorial_env.load() starts the offline model
from tests.tracers import FirstToken  # run as a lesson is: the repository is on sys.path

EPOCH, MICROSECOND = datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)
DEADLINE = 10  # seconds for the first token of the call that is then cancelled


def ns(moment):
    """A run's time in integer nanoseconds since the epoch, exactly (None stays None)."""
    return None if moment is None else (moment - EPOCH) // MICROSECOND * 1000


def runs(run, parent="-", depth=0):
    """The tree flattened, parents first."""
    row = dict(name=run.name, type=run.run_type, parent=parent, depth=depth)
    row |= dict(start=ns(run.start_time), end=ns(run.end_time), error=run.error)
    return [row] + [r for child in run.child_runs for r in runs(child, run.name, depth + 1)]


def waterfall(root):
    """What the lesson's print_waterfall printed for the tree, or the error it raised."""
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        try:
            lesson.print_waterfall(root)
        except Exception as error:  # noqa: BLE001 - the tests report it
            return f"raised {error!r}"
    return printed.getvalue()


class Logged(logging.Handler):
    """What LangChain logs when a handler raises: a tracer that fails shows up here."""

    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def trace(chain, question, invoke):
    """Run `chain` once with the lesson's collector attached."""
    collector, logged = lesson.RunCollector(), Logged()
    logging.getLogger("langchain_core.callbacks.manager").addHandler(logged)
    try:
        invoke(chain, question, {"callbacks": [collector]})
    finally:
        logging.getLogger("langchain_core.callbacks.manager").removeHandler(logged)
    return dict(
        logged=logged.lines,
        collector=[runs(root) for root in collector.roots],
        waterfall=[waterfall(root) for root in collector.roots],
    )


def cancel_after_first_token(chain, question, config):
    async def run():
        first = FirstToken()
        config["callbacks"].append(first)
        task = asyncio.create_task(chain.ainvoke(question, config))
        try:
            await asyncio.wait_for(first.seen.wait(), DEADLINE)
        except TimeoutError:
            raise SystemExit(f"no token within {DEADLINE} s: nothing to cancel") from None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run())


def main():
    prompt = ChatPromptTemplate.from_template("Say something short about {topic}.")
    llm = ChatOpenAI(model=os.environ["OPENAI_MODEL"])
    inner = (prompt | llm | StrOutputParser()).with_config(run_name="inner")
    middle = (RunnableLambda(lambda x: x, name="prepare") | inner).with_config(run_name="middle")
    outer = (middle | lesson.word_count).with_config(run_name="outer")
    streaming = ChatOpenAI(model=os.environ["OPENAI_MODEL"], streaming=True)
    cancelled = (prompt | streaming | StrOutputParser()).with_config(run_name="cancelled")
    question = {"topic": "tracing"}
    result = dict(
        nested=trace(outer, question, lambda chain, q, config: chain.invoke(q, config)),
        cancelled=trace(cancelled, question, cancel_after_first_token),
    )
    print("PROBE " + json.dumps(result))


if __name__ == "__main__":
    main()
