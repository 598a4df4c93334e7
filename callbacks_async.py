"""Use async handlers, and see that they don't block the event loop.

An `AsyncCallbackHandler` runs its hooks as coroutines on the event loop, so its
`await asyncio.sleep(...)` lets other tasks run meanwhile. A plain sync handler given to an
async call runs in the loop's thread pool instead, off the loop. Two model calls and a
countdown run together under `asyncio.gather`; the countdown keeps ticking throughout.
Reference: https://reference.langchain.com/python/langchain-core/callbacks/base/AsyncCallbackHandler
Archived v0.3 how-to: https://python.langchain.com/docs/how_to/callbacks_async/

Run: python callbacks_async.py
"""

import asyncio
import os
import sys
import threading
import time

from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_openai import ChatOpenAI

import tutorial_env

tutorial_env.load()  # in place of load_dotenv(): your .env key, or the offline model

START_SLEEP = 0.3  # seconds the async handler awaits in on_chat_model_start
END_SLEEP = 0.3  # ... and in on_llm_end
TICK = 0.1  # seconds between countdown ticks
TICKS = 10
QUESTIONS = ["What is 1 + 2?", "What is 3 + 4?"]


def say(line):
    # One write per line: print() writes the text and the newline separately, so lines
    # printed at once from the loop and from a pool thread could run together.
    sys.stdout.write(f"{line}\n")


class SlowAsyncHandler(AsyncCallbackHandler):
    """Awaits a short sleep at the start and end of each model call."""

    async def on_chat_model_start(self, serialized, messages, **kwargs):
        question = messages[0][-1].content
        say(f"[async] model start for {question!r}: awaiting {START_SLEEP} s")
        await asyncio.sleep(START_SLEEP)

    async def on_llm_end(self, response, **kwargs):
        say(f"[async] model end with {response.generations[0][0].text!r}: awaiting {END_SLEEP} s")
        await asyncio.sleep(END_SLEEP)


class ThreadNamePrinter(BaseCallbackHandler):
    """A sync handler: prints each non-empty token and the thread it runs on."""

    def on_llm_new_token(self, token, *, chunk, tags, **kwargs):
        if text := chunk.text:  # the text on both of OpenAI's APIs; `token` may be a list
            say(f"[sync]  {tags[0]}: token {text!r} on thread {threading.current_thread().name}")


async def countdown():
    for tick in range(TICKS, 0, -1):
        say(f"[countdown] {tick}")
        await asyncio.sleep(TICK)


async def main():
    llm = ChatOpenAI(
        model=os.environ["OPENAI_MODEL"],
        streaming=True,
        callbacks=[SlowAsyncHandler(), ThreadNamePrinter()],
    )
    say(f"The event loop runs on thread {threading.current_thread().name}.")
    started = time.perf_counter()
    calls = [llm.ainvoke(q, config={"tags": [f"call {n}"]}) for n, q in enumerate(QUESTIONS, 1)]
    answers = await asyncio.gather(*calls, countdown())
    elapsed = time.perf_counter() - started

    say(f"Answers: {[answer.text for answer in answers[:-1]]}")
    slept = len(QUESTIONS) * (START_SLEEP + END_SLEEP) + TICKS * TICK
    say(f"All the sleeps add up to {slept:.1f} s; everything together took {elapsed:.1f} s.")


if __name__ == "__main__":
    asyncio.run(main())
