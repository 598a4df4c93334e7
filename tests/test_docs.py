"""The README shows only what is true of the code as it stands."""

import re

import pytest
from claims import all_claims
from lessons import (
    CLOCKED,
    LESSONS,
    ROOT,
    expected_output,
    same_structure,
    sample_path,
    shown_output,
)

from docs import (
    ARCHIVED_WORDS,
    READMES,
    appears_verbatim,
    broken_links,
    claim_markers,
    lesson_sections,
    listed_links,
    lockstep_problems,
    output_blocks,
    page_excerpts,
    python_excerpts,
    used_links,
)


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
    for excerpt in page_excerpts(section):
        page = ROOT / "pages" / lesson.replace(".py", ".html")
        assert page.exists() and appears_verbatim(excerpt, page.read_text(encoding="utf-8")), (
            f"{readme.name}: this JavaScript under {lesson} is not in {page.name}:\n{excerpt}"
        )
    blocks = [body for name, body in output_blocks(section) if name == lesson]
    assert blocks, f"{readme.name}: the {lesson} section has no output block"
    for body in blocks:
        assert body == shown_output(lesson), (
            f"{readme.name}: the output shown for {lesson} is stale; run `make expected`"
        )


@pytest.mark.parametrize("lesson", sorted(CLOCKED))
def test_the_real_run_shown_for_a_clocked_lesson_has_the_expected_structure(lesson):
    assert same_structure(sample_path(lesson), lesson), (
        f"{sample_path(lesson).name} is not a run of {lesson} as it stands: run `make expected`"
    )


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_relative_links_point_at_files(readme):
    assert broken_links(readme) == []


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_offline_notice_shown_is_the_one_lessons_print(readme):
    notice = expected_output(LESSONS[0]).splitlines()[0]
    assert notice.startswith("[offline] ")
    assert f"\n{notice}\n" in readme.read_text(encoding="utf-8")


TRANSLATIONS = READMES[1:]


@pytest.mark.parametrize("edition", TRANSLATIONS, ids=lambda p: p.name)
def test_every_edition_is_in_lockstep_with_the_english_one(edition):
    english = READMES[0].read_text(encoding="utf-8")
    problems = lockstep_problems(english, edition.read_text(encoding="utf-8"))
    assert not problems, f"{edition.name} is out of step with README.md: {problems}"


def test_a_block_changed_in_one_edition_only_breaks_the_lockstep():
    english = READMES[0].read_text(encoding="utf-8")
    edited = english.replace("make demo    #", "make  demo   #", 1)
    assert edited != english
    assert any("block 1 differs" in p for p in lockstep_problems(english, edited))
    dropped = english.replace("<!-- claim: run-name-root-only -->", "", 1)
    assert lockstep_problems(english, dropped) == [
        "different claim markers, or in a different order"
    ]
    marker = re.search(r"<!-- exercise: [\w.-]+ -->", english)[0]
    assert lockstep_problems(english, english.replace(marker, "", 1)) == [
        "different exercise markers, or in a different order"
    ]


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_every_edition_links_to_all_the_others_at_the_top(readme):
    top = readme.read_text(encoding="utf-8").split("\n## ")[0]
    for other in READMES:
        if other != readme:
            assert f"]({other.name})" in top, f"{readme.name} has no link to {other.name}"


@pytest.mark.parametrize("glossary", ["ja", "ko", "zh-CN"])
def test_each_translation_has_a_glossary_that_links_back_to_it(glossary):
    text = (ROOT / "docs" / f"glossary.{glossary}.md").read_text(encoding="utf-8")
    assert f"](../README.{glossary}.md)" in text
    assert len(re.findall(r"^\| [a-z]", text, flags=re.M)) >= 20  # English term | translation


# The start of each failure message tutorial_env prints (tests/test_failures_*.py run them).
FAILURE_MESSAGES = [
    "[error] HTTP 401 from <url>: the provider rejected OPENAI_API_KEY",
    "[error] HTTP 404 from <url>: no model named",
    "[error] HTTP 400 from <url>: no model named",
    "[error] HTTP 404 from <url>: this server has no Responses API (/v1/responses).",
    "[error] HTTP 400 from <url>: the conversation is longer than the model's context window.",
    "[error] HTTP 429 from <url>: rate limit or quota exceeded, still after the SDK's retries.",
    "[error] HTTP 500 from <url>: the provider failed, still after the SDK's retries.",
    "[error] Could not connect to <url> (connection refused).",
    "[error] No answer from <url> in time (timeout), still after the SDK's retries.",
    "[error] The server at <url> went silent in the middle of a streamed answer",
    "[error] The connection to <url> dropped in the middle of the answer.",
    "[error] The connection to <url> dropped before any answer came back",
    "[error] The server at <url> sent a reply that is not valid JSON",
    "[config] OPENAI_BASE_URL='...' is not a usable URL.",
    "[config] cannot listen on 127.0.0.1:8000 (Address already in use).",
    "Interrupted.",
]


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_troubleshooting_lists_every_failure_message(readme):
    text = readme.read_text(encoding="utf-8")
    for message in FAILURE_MESSAGES:
        assert f"`{message}" in text, f"{readme.name} does not explain {message!r}"


def test_every_claim_has_a_ledger_test_and_every_ledger_test_a_claim():
    english = claim_markers(READMES[0].read_text(encoding="utf-8"))
    claims = all_claims()
    marked = [claim_id for claim_id, _ in english]
    assert set(marked) == set(claims), (
        f"claims without a test: {sorted(set(marked) - set(claims))}; "
        f"tests without a claim in the README: {sorted(set(claims) - set(marked))}"
    )
    first_section = {}
    for claim_id, heading in english:
        first_section.setdefault(claim_id, heading)
    for claim_id, section in claims.items():
        assert first_section[claim_id].startswith(section), (
            f"claim {claim_id} is first made under '## {first_section[claim_id]}', "
            f"but its test says '{section}'"
        )


def test_every_web_link_is_listed_once_and_archived_pages_say_so():
    listed, used = listed_links(), used_links()
    unlisted = sorted({url for url, _, _ in used} - set(listed))
    assert not unlisted, f"add these to tests/links.txt (or fix them): {unlisted}"
    unused = sorted(set(listed) - {url for url, _, _ in used})
    assert not unused, f"tests/links.txt lists links nothing uses: {unused}"
    for url, place, line in used:
        if listed[url]:
            assert any(word in line.lower() for word in ARCHIVED_WORDS), (
                f"{place}: this link to an unmaintained v0.3 page must say it is archived:\n{line}"
            )
    for url, archived in listed.items():
        assert archived == url.startswith("https://python.langchain.com/docs/"), url


# Names the lessons and their support code read from the environment.
SETTING = re.compile(r"[\"'](?P<name>(?:OPENAI|TUTORIAL)_[A-Z_]+)[\"']")


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_settings_table_lists_every_setting_the_code_reads(readme):
    read = set()
    for script in [*ROOT.glob("*.py"), *ROOT.glob("tutorial_env/**/*.py")]:
        read |= {m["name"] for m in SETTING.finditer(script.read_text(encoding="utf-8"))}
    assert {"OPENAI_API_BASE", "TUTORIAL_OFFLINE_FAULT", "TUTORIAL_TOKEN_DELAY"} <= read
    text = readme.read_text(encoding="utf-8")
    rows = {m[1] for m in re.finditer(r"^\| `([A-Z_]+)` \|", text, flags=re.M)}
    assert read <= rows, f"{readme.name}: settings missing from the table: {read - rows}"


RETIRED_MODELS = ["deepseek-chat", "deepseek-reasoner"]


@pytest.mark.parametrize("path", [*READMES, ROOT / ".env.example"], ids=lambda p: p.name)
def test_retired_model_names_appear_only_where_they_are_called_retired(path):
    for line in path.read_text(encoding="utf-8").splitlines():
        for name in RETIRED_MODELS:
            if name in line:
                assert "retired" in line or "廃止" in line, f"{path.name}: {line}"


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_each_provider_row_says_where_and_when_it_was_checked(readme):
    text = readme.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if "`OPENAI_MODEL=" in line and "|" in line]
    assert len(rows) == 6, rows
    for row in rows:
        checked = row.rstrip(" |").rsplit("|", 1)[1]
        assert re.search(r"\b20\d\d-\d\d-\d\d\b", checked), f"{readme.name}: {row}"
