"""Lesson 11's server, measured for `make bench` (bench/bench.py calls web_figures()):
  * the first token painted in a real browser, after pressing send  <= 150 ms
  * twenty streams at once, against one stream alone                 <= 2 x
  * the server's memory over 200 requests, 50 abandoned mid-stream   <= +10 MB
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


def web_figures(runs: int) -> dict:
    with web_server(token_delay=DEFAULT_TOKEN_DELAY) as server:
        figures = {"first_paint": first_paint(server, runs + 2)}
        one = [asyncio.run(streams(server, 1)) for _ in range(runs)]
        twenty = [asyncio.run(streams(server, 20)) for _ in range(runs)]
        figures["one_stream"] = statistics.median(one)
        figures["twenty_streams"] = statistics.median(twenty)
    with web_server(token_delay=0.002) as server:  # fast tokens: 200 requests in seconds
        figures["memory_growth_mb"] = memory_growth(server)
    return figures


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
            page.wait_for_selector("#answer[data-state=done]")
            delays.append(page.evaluate("window.firstPaint - window.sentAt"))
            page.close()
        browser.close()
    return statistics.median(delays)


async def streams(server, count: int, abandon: int = 0) -> float:
    """Seconds for `count` readers at once to finish; the first `abandon` leave early."""
    async with client_for(server, count) as client:
        start = time.perf_counter()
        await read_all(client, [QUESTION] * count, [3] * abandon + [None] * (count - abandon))
        return time.perf_counter() - start


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def memory_growth(server) -> float:
    """Resident memory after 200 requests (50 abandoned) minus after a warm-up of 40."""
    for _ in range(2):
        asyncio.run(streams(server, 20, abandon=5))
    before = rss_mb(server.process.pid)
    for _ in range(10):
        asyncio.run(streams(server, 20, abandon=5))
    time.sleep(0.5)  # let the abandoned calls finish cancelling
    return rss_mb(server.process.pid) - before
