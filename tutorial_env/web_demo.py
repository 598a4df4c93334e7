"""The demo of lesson 12 (`python web_streaming.py --demo`): readers that act like browsers
on the lesson's server, two at once and then the traps, printing what each received.
Support code, not a lesson; the tour and the Docker image run it.

Every wait has a deadline: a missed one ends the demo with one `[error]` line.
"""

import asyncio
import contextlib

import httpx

from .sse_reader import read_answer

JOKE, SUM = "Tell me a joke about owls", "What is 6 * 7?"
LONG = "Tell me how a page can show the tokens of an answer as they arrive."
ANSWER_WAIT = 60  # seconds for the answers a section reads, from a real provider too
LEFT_WAIT = 5  # seconds for the server to notice a reader who left (it does at once)
HEADERS = ("content-type", "cache-control", "x-accel-buffering")


@contextlib.asynccontextmanager
async def deadline(seconds, what):
    """Past `seconds`, end the demo with one line saying what it was waiting for."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        raise SystemExit(f"[error] The demo waited {seconds} s for {what}; stopping.") from None


def answer(got):
    """The answer in a reader's `done` event; a provider's `error` event ends the demo."""
    if got["error"]:
        raise SystemExit(f"[error] {got['error']['message']}")
    if got["done"] is None:
        raise SystemExit("[error] The stream ended with neither a `done` nor an `error` event.")
    return got["done"]["answer"]


async def read_like_browsers(base_url, endings, max_question):
    """Two readers at once, then the traps. `endings` grows as the server ends each stream."""
    print(f"The demo serves the page at {base_url}/ and reads from it.\n")
    async with httpx.AsyncClient(base_url=base_url, timeout=None) as client:  # deadlines below
        await two_readers(client)
        await shared_model_trap(client)
        await reader_leaves(client, endings)
        await bad_input(client, max_question)


async def two_readers(client):
    print("== 1. Two readers at once, each with a handler made for its request ==")
    async with deadline(ANSWER_WAIT, "two answers"):
        both = await asyncio.gather(read_answer(client, JOKE), read_answer(client, SUM))
    for who, got in zip("AB", both, strict=True):
        streamed = "".join(got["tokens"])
        print(f"{who} read {streamed!r} in {len(got['tokens'])} tokens")
        print(f"  callback events: {', '.join(got['hooks'])}")
        print(f"  the tokens add up to the answer in `done`: {streamed == answer(got)}")
    print("The headers that keep caches and proxies from holding on to the stream:")
    for header in HEADERS:
        print(f"  {header}: {both[0]['headers'].get(header, '(not sent)')}")


async def shared_model_trap(client):
    print("\n== 2. The trap: one handler on a shared model's constructor ==")
    first = asyncio.Event()
    a = asyncio.create_task(read_answer(client, LONG, "/stream-shared", first_token=first))
    async with deadline(ANSWER_WAIT, "the first token of A's answer"):
        await first.wait()  # B asks while A's answer is still streaming
    async with deadline(ANSWER_WAIT, "two answers"):
        b = await read_answer(client, SUM, "/stream-shared")
        got_a = await a
    for who, got in zip("AB", (got_a, b), strict=True):
        mixed = "".join(got["tokens"]) != answer(got)
        print(f"{who}'s page shows tokens of the other reader's answer: {mixed}")
    print("The fix is section 1: a handler made for each request, passed at run time.")


async def reader_leaves(client, endings):
    print("\n== 3. A reader who leaves in the middle ==")
    before = len(endings)
    async with deadline(ANSWER_WAIT, "three tokens of an answer"):
        await read_answer(client, LONG, leave_after=3)
    async with deadline(LEFT_WAIT, "the server to notice that the reader left"):
        while len(endings) == before:  # the server notices the hang-up at once
            await asyncio.sleep(0.01)
    if endings[-1] == "finished":
        print("The answer was complete before the reader left: nothing to cancel.")


async def bad_input(client, max_question):
    print("\n== 4. Bad input gets a 400 and no model call ==")
    for question in ("", "?" * (max_question + 1)):
        async with deadline(LEFT_WAIT, "the answer to a bad question"):
            response = await client.get("/stream", params={"question": question})
        print(f"{len(question)} characters: HTTP {response.status_code} {response.json()}")
