"""The README shows only what is true of the code as it stands."""

import pytest
from docs import (
    READMES,
    appears_verbatim,
    broken_links,
    lesson_sections,
    output_blocks,
    python_excerpts,
)
from lessons import LESSONS, ROOT, expected_output

EXISTING = [lesson for lesson in LESSONS if (ROOT / lesson).exists()]


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
@pytest.mark.parametrize("lesson", EXISTING)
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
    notice = expected_output(EXISTING[0]).splitlines()[0]
    assert notice.startswith("[offline] ")
    assert f"\n{notice}\n" in readme.read_text(encoding="utf-8")
