"""Lesson 12's server, measured for `make bench` (bench/bench.py calls web_figures()):
  * the first token painted in a real browser, after pressing send      <= 150 ms
  * a hundred readers at once, against one reader alone                  <= 2 x
  * the server's memory over 1,000 requests, 250 abandoned mid-answer    <= +10 MB
All offline, with the fake model's default token delay unless said otherwise.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import time
from pathlib import Path

from web import WATCH_ANSWER, client_for, read_all, web_server

from tutorial_env.offline import DEFAULT_TOKEN_DELAY

QUESTION = "Tell me a joke about owls"
READERS = 100  # at once, against one
ROUNDS, ABANDONED = 10, 25  # memory: ROUNDS x READERS requests, ABANDONED of each round leave
WARM_UP = 2  # rounds before the first reading of the server's memory


def web_figures(runs: int) -> dict:
    with web_server(token_delay=DEFAULT_TOKEN_DELAY) as server:
        figures = {"first_paint": first_paint(server, runs + 2)}
        figures |= readers_at_once(server, runs)
    with web_server(token_delay=0.002) as server:  # fast tokens: 1,000 requests in seconds
        figures["memory_growth_mb"] = memory_growth(server)
    return figures


def readers_at_once(server, runs: int) -> dict:
    """Median seconds for one reader's whole answer, and for READERS readers at once; and
    the most model calls the provider streamed at one time (READERS: all of them at once)."""
    one = [asyncio.run(streams(server, 1)) for _ in range(runs)]
    server.fake.peak_in_flight = 0
    many = [asyncio.run(streams(server, READERS)) for _ in range(runs)]
    return {
        "one_reader": statistics.median(one),
        "readers_at_once": statistics.median(many),
        "peak_model_calls_at_once": server.fake.peak_in_flight,
    }


def first_paint(server, runs: int) -> float | None:
    """Median ms from the send button's submit to the first answer text on screen."""
    chromium = shutil.which("chromium")
    if not chromium:
        return None
    from playwright.sync_api import sync_playwright

    delays = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        for _ in range(runs):
            page = browser.new_page()
            page.goto(server.url + "/")
            page.evaluate(WATCH_ANSWER)
            page.fill("#question", QUESTION)
            page.click("#send")
            page.wait_for_selector("#answer[data-state=done]", timeout=30_000)
            delays.append(page.evaluate("window.firstPaint - window.sentAt"))
            page.close()
        browser.close()
    return statistics.median(delays)


async def streams(server, count: int, abandon: int = 0) -> float:
    """Seconds for `count` readers at once to finish; the first `abandon` leave after 3
    tokens. Every reader that stays must get its whole answer."""
    async with client_for(server, count) as client:
        start = time.perf_counter()
        leave = [3] * abandon + [None] * (count - abandon)
        got = await read_all(client, [QUESTION] * count, leave)
        took = time.perf_counter() - start
    stayed = got[abandon:]
    complete = [g for g in stayed if g["done"] and "".join(g["tokens"]) == g["done"]["answer"]]
    assert len(complete) == len(stayed), f"{len(stayed) - len(complete)} readers lost answers"
    return took


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def memory_growth(server) -> float:
    """Resident memory after ROUNDS x READERS requests (ROUNDS x ABANDONED of them abandoned
    mid-answer) minus after a warm-up of WARM_UP rounds like them."""
    for _ in range(WARM_UP):
        asyncio.run(streams(server, READERS, abandon=ABANDONED))
    before, requests = rss_mb(server.process.pid), server.fake.request_count
    for _ in range(ROUNDS):
        asyncio.run(streams(server, READERS, abandon=ABANDONED))
    deadline = time.monotonic() + 5  # the abandoned calls end at once: the provider stops
    while server.fake.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.fake.in_flight == 0, "abandoned model calls still streaming after 5 s"
    assert server.fake.request_count - requests == ROUNDS * READERS
    return rss_mb(server.process.pid) - before
