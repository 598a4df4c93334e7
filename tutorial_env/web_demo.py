"""The demo of lesson 11 (`python web_streaming.py --demo`): readers that act like browsers
on the lesson's server, two at once and then the traps, printing what each received.
Support code, not a lesson; the tour and the Docker image run it.
"""

import asyncio

import httpx

from .sse_reader import read_answer

JOKE, SUM = "Tell me a joke about owls", "What is 6 * 7?"
LONG = "Tell me how a page can show the tokens of an answer as they arrive."


def answer(got):
    """The answer in a reader's `done` event; a provider's `error` event ends the demo."""
    if got["error"]:
        raise SystemExit(f"[error] {got['error']['message']}")
    return got["done"]["answer"]


async def read_like_browsers(base_url, endings, max_question):
    """Two readers at once, then the traps. `endings` grows as the server ends each stream."""
    print(f"The demo serves the page at {base_url}/ and reads from it.\n")
    async with httpx.AsyncClient(base_url=base_url) as client:
        print("== 1. Two readers at once, each with a handler made for its request ==")
        both = await asyncio.gather(read_answer(client, JOKE), read_answer(client, SUM))
        for who, got in zip("AB", both, strict=True):
            streamed = "".join(got["tokens"])
            print(f"{who} read {streamed!r} in {len(got['tokens'])} tokens")
            print(f"  callback events: {', '.join(got['hooks'])}")
            print(f"  the tokens add up to the answer in `done`: {streamed == answer(got)}")
        print("The headers that keep proxies from holding the stream back:")
        for header in ("content-type", "cache-control", "x-accel-buffering"):
            print(f"  {header}: {both[0]['headers'][header]}")

        print("\n== 2. The trap: one handler on a shared model's constructor ==")
        first = asyncio.Event()
        a = asyncio.create_task(read_answer(client, LONG, "/stream-shared", first_token=first))
        await first.wait()  # B asks while A's answer is still streaming
        b = await read_answer(client, SUM, "/stream-shared")
        for who, got in zip("AB", (await a, b), strict=True):
            mixed = "".join(got["tokens"]) != answer(got)
            print(f"{who}'s page shows tokens of the other reader's answer: {mixed}")
        print("The fix is section 1: a handler made for each request, passed at run time.")

        print("\n== 3. A reader who leaves in the middle ==")
        before = len(endings)
        await read_answer(client, LONG, leave_after=3)
        while len(endings) == before:  # the server notices the hang-up at once
            await asyncio.sleep(0.01)
        if endings[-1] == "finished":
            print("The answer was complete before the reader left: nothing to cancel.")

        print("\n== 4. Bad input gets a 400 and no model call ==")
        for question in ("", "?" * (max_question + 1)):
            response = await client.get("/stream", params={"question": question})
            print(f"{len(question)} characters: HTTP {response.status_code} {response.json()}")
