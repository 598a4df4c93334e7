"""Log a chain's events to files with FileCallbackHandler, StdOut and loguru.

`FileCallbackHandler` writes the same "Entering new ... chain" lines to a file that
`StdOutCallbackHandler` prints on screen. A small custom handler feeds loguru, which
writes levelled, coloured lines, whole even when many threads log at once; ansi2html turns
that coloured log into a web page. Twenty concurrent invocations share the same logs.
Last, why `verbose=True`, which older tutorials teach, prints nothing for a chat model.
Reference: https://reference.langchain.com/python/langchain-core/callbacks/file/FileCallbackHandler

Run: python file_logging.py   (files go to ./logs, or to $TUTORIAL_LOG_DIR)
"""

import contextlib
import io
import os
import re
from pathlib import Path

from ansi2html import Ansi2HTMLConverter
from langchain_core.callbacks import (
    BaseCallbackHandler,
    FileCallbackHandler,
    StdOutCallbackHandler,
)
from langchain_core.globals import set_verbose
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI
from loguru import logger

import tutorial_env

tutorial_env.load()  # in place of load_dotenv(): your .env key, or the offline model

LOG_DIR = Path(os.environ.get("TUTORIAL_LOG_DIR", "logs"))
RUNS = 20


class LoguruHandler(BaseCallbackHandler):
    """Sends one loguru line per event: the level says how much it matters."""

    def on_chain_start(self, serialized, inputs, *, parent_run_id=None, **kwargs):
        if parent_run_id is None:  # the whole chain, not each of its steps
            logger.info("chain start {} input={}", kwargs["name"], inputs)

    def on_chat_model_start(self, serialized, messages, **kwargs):
        logger.debug("model start {} prompt={!r}", serialized["name"], messages[0][-1].content)

    def on_llm_end(self, response, **kwargs):
        logger.debug("model end answer={!r}", response.generations[0][0].text)

    def on_chain_end(self, outputs, *, parent_run_id=None, **kwargs):
        if parent_run_id is None:
            logger.success("chain end output={!r}", outputs)

    def on_chain_error(self, error, **kwargs):
        logger.error("chain error {!r}", error)


def printed_by(call) -> str:
    """What a call prints on the screen, caught so the lesson can say what it was."""
    with contextlib.redirect_stdout(io.StringIO()) as screen:
        call()
    return screen.getvalue()


def main():
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    chain_log, event_log = LOG_DIR / "chain.log", LOG_DIR / "events.log"
    logger.remove()  # no default stderr sink: the screen belongs to StdOutCallbackHandler
    logger.add(
        event_log,
        mode="w",  # a fresh file each run
        encoding="utf-8",
        enqueue=True,  # a log call returns at once; a writer thread does the disk I/O
        colorize=True,
        format="<green>{time:HH:mm:ss.SSS}</green> | <level>{level: <7}</level> | {message}",
        level="DEBUG",
    )
    llm = ChatOpenAI(model=os.environ["OPENAI_MODEL"])
    prompt = ChatPromptTemplate.from_template("Tell me a joke about {topic}")
    chain = prompt | llm | StrOutputParser()

    with FileCallbackHandler(chain_log, mode="w") as file_handler:
        print("== 1. One invoke: StdOutCallbackHandler on screen, the same lines in chain.log ==")
        handlers = [StdOutCallbackHandler(), file_handler, LoguruHandler()]
        print(chain.invoke({"topic": "寿司"}, config={"callbacks": handlers}))

        print(f"\n== 2. {RUNS} invocations at once, into the same two logs ==")
        configs = [
            {"callbacks": [file_handler, LoguruHandler()], "run_name": f"Joke{n:02d}"}
            for n in range(1, RUNS + 1)
        ]
        topics = [{"topic": f"topic number {n}"} for n in range(1, RUNS + 1)]
        answers = chain.batch(topics, config=configs, max_concurrency=RUNS)
        print(f"{len(answers)} answers came back; nothing was printed, all of it went to the logs.")
    logger.complete()  # wait until the enqueued lines are written
    logger.remove()

    print("\n== 3. A bare model call gives FileCallbackHandler nothing to write ==")
    bare_log = LOG_DIR / "bare_model.log"
    with FileCallbackHandler(bare_log, mode="w") as file_handler:
        llm.invoke("What is 1 + 2?", config={"callbacks": [file_handler]})
    print(f"{bare_log}: {bare_log.stat().st_size} bytes (it logs chains, not model calls)")

    html = LOG_DIR / "events.html"
    html.write_text(Ansi2HTMLConverter().convert(event_log.read_text("utf-8")), "utf-8")
    entering = chain_log.read_text("utf-8").count("> Entering new")
    print(f"\n{chain_log}: {entering} 'Entering new ... chain' lines (3 per run, {RUNS + 1} runs)")
    print(f"{event_log}: {len(event_log.read_text('utf-8').splitlines())} loguru lines")
    print(f"{html}: the coloured loguru lines as a web page")

    print("\n== 4. verbose=True, as older tutorials teach it, prints nothing ==")
    loud = ChatOpenAI(model=os.environ["OPENAI_MODEL"], verbose=True)
    topic = {"topic": "parrots"}
    shown = {
        "ChatOpenAI(verbose=True).invoke()": printed_by(lambda: loud.invoke("What is 1 + 2?")),
        "prompt | ChatOpenAI(verbose=True)": printed_by(lambda: (prompt | loud).invoke(topic)),
    }
    set_verbose(True)  # the default for every model created from now on
    try:
        made_after = ChatOpenAI(model=os.environ["OPENAI_MODEL"])
        shown["set_verbose(True), prompt | ChatOpenAI()"] = printed_by(
            lambda: (prompt | made_after).invoke(topic)
        )
    finally:
        set_verbose(False)
    at_run_time = {"callbacks": [StdOutCallbackHandler()]}
    shown["prompt | ChatOpenAI(), StdOutCallbackHandler at run time"] = printed_by(
        lambda: (prompt | llm).invoke(topic, config=at_run_time)
    )
    for way, text in shown.items():
        chains = re.findall(r"Entering new (\w+) chain", text)
        print(f"{way:<56} " + (f"entered {', '.join(chains)}" if text else "printed nothing"))
    print("verbose gives only the model's own run a StdOutCallbackHandler: no chat-model hooks.")


if __name__ == "__main__":
    main()
