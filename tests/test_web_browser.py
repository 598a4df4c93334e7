"""Lesson 12 in a real browser: headless Chromium (Debian's package) driven by Playwright.

Without Chromium these tests skip with one line, unless TUTORIAL_REQUIRE_BROWSER=1 (CI sets
it, after installing Chromium), which makes a missing browser a failure.
`make screenshots` runs the screenshot test with SCREENSHOTS=docs, writing docs/web_streaming.png.

Some tests serve the real page from tests/web.py's CraftedServer, which sends the page events
the offline model never would: a whole HTML tag in one token, HTML in a callback's name and
in an error message.
"""

import os
import time

import pytest
from lessons import ROOT
from web import WATCH_ANSWER, CraftedServer, chromium, wait_in_page, web_server

from tutorial_env.offline import text_reply

TOKEN_DELAY = 0.05  # slower than the default 0.03, so "mid-answer" lasts under load
# Each sets window.pwned if it ever runs as HTML.
TAG = '<img src="/x" onerror="window.pwned = (window.pwned || []).concat(\'{}\')">'
# Resolves once an image that fails like TAG's has fired its error: TAG's own handlers, had
# they been made into HTML earlier, have fired by then too. Then returns window.pwned.
PWNED_AFTER_AN_ERROR = """() => new Promise((resolve) => {
  const control = new Image();
  control.onerror = () => setTimeout(() => resolve(window.pwned ?? null), 50);
  control.src = "/x?control";
})"""


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def server():
    with web_server(token_delay=TOKEN_DELAY) as server:
        yield server


def open_page(browser, url):
    page = browser.new_page()
    page.goto(url + "/")
    page.evaluate(WATCH_ANSWER)
    return page


def ask(page, question):
    page.fill("#question", question)
    page.click("#send")


def wait_state(page, state, seconds=30):
    wait_in_page(
        page,
        f"document.getElementById('answer').dataset.state === '{state}'",
        f"the page's answer in state {state!r}",
        seconds,
    )
    return page.text_content("#answer")


def test_the_answer_grows_token_by_token_and_ends_as_the_server_sent_it(browser, server):
    page = open_page(browser, server.url)
    question = "Tell me a joke about browsers"
    ask(page, question)
    final = wait_state(page, "done")
    lengths = page.evaluate("window.lengths")
    intermediate = {n for n in lengths if 0 < n < len(final)}
    assert len(intermediate) >= 3, lengths
    assert final == page.get_attribute("#answer", "data-final") == text_reply(question)
    events = page.inner_text("#events").splitlines()
    assert events == ["on_chat_model_start ChatOpenAI", "on_llm_end ChatOpenAI"]
    page.close()


def test_two_tabs_at_once_each_get_only_their_own_answer(browser, server):
    questions = ["Tell me a joke about tabs", "What is 12 * 12?"]
    pages = [open_page(browser, server.url) for _ in questions]
    for page, question in zip(pages, questions, strict=True):
        ask(page, question)
    for page, question in zip(pages, questions, strict=True):
        assert wait_state(page, "done") == text_reply(question)
        page.close()


def test_a_tag_in_the_question_comes_back_from_the_lesson_as_text(browser, server):
    page = open_page(browser, server.url)
    question = "<img src=/x onerror=\"window.pwned = ['lesson']\">"  # quoted back whole
    ask(page, question)
    final = wait_state(page, "done")
    assert final == text_reply(question) and question in final  # as text
    assert page.locator("#answer *").count() == 0
    assert page.evaluate(PWNED_AFTER_AN_ERROR) is None
    page.close()


def crafted(path, question):
    """A whole tag in one token, and HTML wherever else the page shows what it was sent."""
    return [
        ("callback", {"hook": TAG.format("hook"), "name": "<b>ChatOpenAI</b>"}),
        ("token", TAG.format("token")),
        ("token", " <b>and</b> <script>window.pwned = ['script']</script>"),
        ("error", {"message": TAG.format("error") + " <i>failed</i>"}),
    ]


def test_html_in_a_token_a_callback_event_or_an_error_shows_as_text_and_runs_nothing(browser):
    with CraftedServer(crafted) as server:
        page = open_page(browser, server.url)
        ask(page, "anything")
        shown = wait_state(page, "error", 10)
        assert (
            shown == TAG.format("token") + " <b>and</b> <script>window.pwned = ['script']</script>"
        )
        assert page.locator("#events li").all_text_contents() == [
            f"{TAG.format('hook')} <b>ChatOpenAI</b>",
            TAG.format("error") + " <i>failed</i>",
        ]
        assert page.locator("#answer *, #events li *").count() == 0  # no element was made
        assert page.evaluate(PWNED_AFTER_AN_ERROR) is None
        page.close()


@pytest.mark.parametrize("last", ["done", "error"])
def test_the_page_closes_its_event_source_after_the_last_event(browser, last):
    """A server that keeps the stream open after `done` or `error`: the page hangs up itself.
    (Left open, an EventSource reconnects when the server closes, and asks the question again.)"""
    ending = ("done", {"answer": "42"}) if last == "done" else ("error", {"message": "Failed."})
    with CraftedServer(lambda path, question: [("token", "42"), ending], hold_open=True) as server:
        page = open_page(browser, server.url)
        ask(page, "What is 6 * 7?")
        wait_state(page, last, 10)
        deadline = time.monotonic() + 5
        while server.streams()[0].hung_up_after is None and time.monotonic() < deadline:
            time.sleep(0.01)
        (stream,) = server.streams()
        assert stream.hung_up_after is not None, f"the page kept the stream open after `{last}`"
        assert stream.hung_up_after < 1
        assert page.get_attribute("#answer", "data-state") == last  # no second error
        page.close()


def test_closing_a_tab_mid_stream_makes_the_server_cancel_the_model_call(browser, server):
    page = open_page(browser, server.url)
    ask(page, "Tell me about closing tabs " * 3)
    wait_in_page(page, "window.lengths.length >= 2", "two tokens on the page")
    page.close()
    printed = server.output(lambda text: "model call cancelled" in text, timeout=10)
    assert "model call cancelled" in printed


def test_a_screenshot_mid_answer(browser, server, tmp_path):
    folder = ROOT / os.environ["SCREENSHOTS"] if os.environ.get("SCREENSHOTS") else tmp_path
    page = open_page(browser, server.url)
    page.set_viewport_size({"width": 900, "height": 520})
    ask(page, "Tell me a joke about callbacks")
    wait_in_page(
        page, "document.getElementById('answer').textContent.length >= 30", "30 characters"
    )
    assert page.get_attribute("#answer", "data-state") == "streaming"
    shot = folder / "web_streaming.png"
    page.screenshot(path=str(shot))
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000
    page.close()
