"""Lesson 11 in a real browser: headless Chromium (Debian's package) driven by Playwright.

Without Chromium these tests skip with one line, unless TUTORIAL_REQUIRE_BROWSER=1 (CI sets
it, after installing Chromium), which makes a missing browser a failure.
`make screenshots` runs the screenshot test with SCREENSHOTS=docs, writing docs/web_streaming.png.
"""

import os
import shutil

import pytest
from lessons import ROOT
from web import WATCH_ANSWER, web_server

from tutorial_env.offline import text_reply

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TOKEN_DELAY = 0.05  # slower than the default 0.03, so "mid-answer" lasts under load


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        if os.environ.get("TUTORIAL_REQUIRE_BROWSER") == "1":
            pytest.fail("TUTORIAL_REQUIRE_BROWSER=1 but no chromium on PATH")
        pytest.skip("no Chromium: apt-get install chromium (as root) to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server():
    with web_server(token_delay=TOKEN_DELAY) as server:
        yield server


def open_page(browser, server):
    page = browser.new_page()
    page.goto(server.url + "/")
    page.evaluate(WATCH_ANSWER)
    return page


def ask(page, question):
    page.fill("#question", question)
    page.click("#send")


def wait_done(page):
    page.wait_for_selector("#answer[data-state=done]", timeout=30_000)
    return page.text_content("#answer")


def test_the_answer_grows_token_by_token_and_ends_as_the_server_sent_it(browser, server):
    page = open_page(browser, server)
    question = "Tell me a joke about browsers"
    ask(page, question)
    final = wait_done(page)
    lengths = page.evaluate("window.lengths")
    intermediate = {n for n in lengths if 0 < n < len(final)}
    assert len(intermediate) >= 3, lengths
    assert final == page.get_attribute("#answer", "data-final") == text_reply(question)
    events = page.inner_text("#events").splitlines()
    assert events == ["on_chat_model_start ChatOpenAI", "on_llm_end ChatOpenAI"]
    page.close()


def test_two_tabs_at_once_each_get_only_their_own_answer(browser, server):
    questions = ["Tell me a joke about tabs", "What is 12 * 12?"]
    pages = [open_page(browser, server) for _ in questions]
    for page, question in zip(pages, questions, strict=True):
        ask(page, question)
    for page, question in zip(pages, questions, strict=True):
        assert wait_done(page) == text_reply(question)
        page.close()


def test_a_script_in_the_question_shows_as_text_and_runs_nothing(browser, server):
    page = open_page(browser, server)
    question = '<img src=x onerror="window.pwned = true"><script>window.pwned = true</script>'
    ask(page, question)
    final = wait_done(page)
    assert "<img src=x onerror=" in final  # quoted back, as text
    assert page.evaluate("window.pwned") is None
    assert page.locator("#answer *, #events img, #events script").count() == 0
    page.close()


def test_closing_a_tab_mid_stream_makes_the_server_cancel_the_model_call(browser, server):
    page = open_page(browser, server)
    ask(page, "Tell me about closing tabs " * 3)
    page.wait_for_function("window.lengths.length >= 2", timeout=30_000)
    page.close()
    printed = server.output(lambda text: "model call cancelled" in text, timeout=10)
    assert "model call cancelled" in printed


def test_a_screenshot_mid_answer(browser, server, tmp_path):
    folder = ROOT / os.environ["SCREENSHOTS"] if os.environ.get("SCREENSHOTS") else tmp_path
    page = open_page(browser, server)
    page.set_viewport_size({"width": 900, "height": 520})
    ask(page, "Tell me a joke about callbacks")
    page.wait_for_function("document.getElementById('answer').textContent.length >= 30")
    assert page.get_attribute("#answer", "data-state") == "streaming"
    shot = folder / "web_streaming.png"
    page.screenshot(path=str(shot))
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000
    page.close()
