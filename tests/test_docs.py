"""The README shows only what is true of the code as it stands."""

import pytest
from docs import (
    READMES,
    appears_verbatim,
    broken_links,
    fenced_blocks,
    lesson_sections,
    output_blocks,
    python_excerpts,
)
from lessons import LESSONS, ROOT, expected_output


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_section_excerpts_and_output(readme, lesson):
    text = readme.read_text(encoding="utf-8")
    section = lesson_sections(text).get(lesson)
    assert section, f"{readme.name} has no section for {lesson}"
    source = (ROOT / lesson).read_text(encoding="utf-8")
    excerpts = python_excerpts(section)
    assert excerpts, f"{readme.name}: the {lesson} section shows no key lines"
    for excerpt in excerpts:
        assert appears_verbatim(excerpt, source), (
            f"{readme.name}: this excerpt under {lesson} is not in {lesson}:\n{excerpt}"
        )
    blocks = [body for name, body in output_blocks(section) if name == lesson]
    assert blocks, f"{readme.name}: the {lesson} section has no output block"
    for body in blocks:
        assert body == expected_output(lesson), (
            f"{readme.name}: the output shown for {lesson} is stale; run `make expected`"
        )


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_relative_links_point_at_files(readme):
    assert broken_links(readme) == []


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_offline_notice_shown_is_the_one_lessons_print(readme):
    notice = expected_output(LESSONS[0]).splitlines()[0]
    assert notice.startswith("[offline] ")
    assert f"\n{notice}\n" in readme.read_text(encoding="utf-8")


def test_both_editions_show_the_same_code_and_outputs_in_the_same_order():
    english, japanese = (fenced_blocks(r.read_text(encoding="utf-8")) for r in READMES)
    assert len(english) == len(japanese), "README.md and README.ja.md differ in block count"
    for number, (en, ja) in enumerate(zip(english, japanese, strict=True), 1):
        assert en == ja, f"block {number} differs between README.md and README.ja.md:\n{en[1]}"


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_editions_link_to_each_other(readme):
    other = next(r for r in READMES if r != readme)
    assert f"]({other.name})" in readme.read_text(encoding="utf-8").split("\n## ")[0]


# The start of each failure message tutorial_env prints (tests/test_failures_*.py run them).
FAILURE_MESSAGES = [
    "[error] HTTP 401 from <url>: the provider rejected OPENAI_API_KEY",
    "[error] HTTP 404 from <url>: no model named",
    "[error] HTTP 400 from <url>: no model named",
    "[error] HTTP 429 from <url>: rate limit or quota exceeded, still after the SDK's retries.",
    "[error] HTTP 500 from <url>: the provider failed, still after the SDK's retries.",
    "[error] Could not connect to <url> (connection refused).",
    "[error] No answer from <url> in time (timeout), still after the SDK's retries.",
    "[error] The server at <url> went silent in the middle of a streamed answer",
    "[error] The connection to <url> dropped in the middle of the answer.",
    "[error] The connection to <url> dropped before any answer came back",
    "[error] The server at <url> sent a reply that is not valid JSON",
    "[config] OPENAI_BASE_URL='...' is not a usable URL.",
    "Interrupted.",
]


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_troubleshooting_lists_every_failure_message(readme):
    text = readme.read_text(encoding="utf-8")
    for message in FAILURE_MESSAGES:
        assert f"`{message}" in text, f"{readme.name} does not explain {message!r}"
