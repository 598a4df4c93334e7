"""Cheap checks on how each edition reads: rendering, scripts and glossary terms (issue 27).

The READMEs are rendered with markdown-it-py, as CommonMark with GitHub's tables, and only
the text a reader sees as prose is checked: code blocks, inline code, HTML comments (the claim
markers) and autolinks are left out. Each check takes the text, so a test can point it at a
copy in tmp_path with a planted defect and see it fail.

- Markup: no `*`, `_` or backtick is left in the rendered prose. One that is left is an
  emphasis or inline code that did not render, as in `这是一个*待定（pending）*的弃用`, whose
  closing `*` follows a full-width parenthesis and so cannot close the emphasis.
- Scripts: the zh-CN prose holds no kana and none of the common traditional-only forms; the
  Korean prose holds no Hanja. The line that links the editions, which names 日本語 and
  简体中文, is not prose.
- Glossary: each docs/glossary.<lang>.md ends with a "## Checked terms" table of
  `| English | use | never |`; the edition's prose uses each "use" term at least once and
  none of the "never" terms (comma-separated).
"""

import bisect
import functools
import re
import unicodedata

import pytest
from markdown_it import MarkdownIt

from docs import READMES

EDITIONS = {readme.name.split(".")[1]: readme for readme in READMES[1:]}  # {"ja": README.ja.md}
DOCS = READMES[0].parent / "docs"

KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
HANJA = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Traditional forms likely in technical prose whose simplified form differs. None of them is
# in GB2312, the simplified character set (a test below holds the list to that).
TRADITIONAL_ONLY = frozenset(
    "這個們來時對說會為與發開關門過還點從裡現應實體處數據預設調錯誤檔執線網頁傳輸請讀寫測試範"
    "義類將給並無產層樹節課鍵碼標題錄記變參環態狀結構務啟動話語機異鉤雲嗎兩見覽導區別東車長書"
    "問間簡單選擇屬顯載連結報圖聽"
)
STRAY_MARKUP = re.compile(r"\*+|`+|(?<![A-Za-z0-9])_+|_+(?![A-Za-z0-9])")
EDITION_LINK = re.compile(r"README(\.[\w-]+)?\.md$")
CHECKED_TERMS = re.compile(r"^## Checked terms[ \t]*\n(?P<body>.*?)(?=^## |\Z)", re.M | re.S)
TERMS_HEADER = ["English", "use", "never"]

MARKDOWN = MarkdownIt("commonmark").enable("table")


@functools.cache
def rendered_lines(text: str) -> list[tuple[int, str, bool]]:
    """The prose a reader sees, line by line, as (line number, text, in the language switcher):
    the text of every paragraph, heading and table cell, without inline code, HTML or
    autolinks. Code blocks and HTML blocks are not inline, so they are not here at all."""
    lines = []
    for token in MARKDOWN.parse(text):
        if token.type != "inline":
            continue
        children = token.children or []
        switcher = sum(
            c.type == "link_open" and bool(EDITION_LINK.search(str(c.attrs.get("href", ""))))
            for c in children
        )
        number, parts, in_autolink = token.map[0] + 1, [], False
        for child in children:
            if child.type in ("softbreak", "hardbreak"):
                lines.append((number, "".join(parts), switcher >= 2))
                number, parts = number + 1, []
            elif child.type in ("link_open", "link_close") and child.markup == "autolink":
                in_autolink = child.type == "link_open"
            elif child.type == "text" and not in_autolink:
                parts.append(child.content)
            elif child.type == "code_inline":
                parts.append(" ")  # so that a term is never found across inline code
        lines.append((number, "".join(parts), switcher >= 2))
    return lines


def prose(text: str) -> list[tuple[int, str]]:
    """The rendered prose, language switcher left out, as (line number, text)."""
    return [(number, line) for number, line, switcher in rendered_lines(text) if not switcher]


def markup_problems(text: str) -> list[str]:
    """Each `*`, `_` or backtick left in the rendered prose, with its line."""
    problems = []
    for number, line, _ in rendered_lines(text):
        for match in STRAY_MARKUP.finditer(line):
            context = line[max(0, match.start() - 20) : match.end() + 20]
            problems.append(f"line {number}: {match[0]!r} did not render: {context.strip()}")
    return problems


COMMENTS_ONLY = re.compile(r"(<!--.*?-->\s*)+", re.S)


def comment_problems(text: str) -> list[str]:
    """Each hidden marker (`<!-- claim: ... -->`) that breaks the text around it. A line that
    starts with `<!--` starts an HTML block: placed inside a paragraph, it cuts the paragraph
    in two, and the rest of its line shows raw, backticks and all. A marker belongs at the
    end of a line of prose, or alone between blank lines."""
    problems, lines = [], text.splitlines()
    for token in MARKDOWN.parse(text):
        if token.type != "html_block" or not token.content.startswith("<!--"):
            continue
        start = token.map[0]
        if not COMMENTS_ONLY.fullmatch(token.content.strip()):
            problems.append(f"line {start + 1}: text after a marker shows raw: {lines[start]}")
        elif start > 0 and lines[start - 1].strip():
            problems.append(f"line {start + 1}: a marker on its own line cuts its paragraph")
    return problems


WIDE_PUNCTUATION = set("。、，：；！？（）「」『』【】〔〕《》・…“”‘’")


def wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF" or char in WIDE_PUNCTUATION


def cjk_break_problems(text: str) -> list[str]:
    """Each line break inside a paragraph between two Japanese or Chinese characters: a
    browser shows it as a space (GitHub keeps the break), so such a paragraph is not wrapped
    there. Korean writes spaces between words and may break at any of them."""
    problems = []
    for token in MARKDOWN.parse(text):
        children = token.children or [] if token.type == "inline" else []
        for before, brk, after in zip(children, children[1:], children[2:], strict=False):
            if brk.type != "softbreak" or before.type != "text" or after.type != "text":
                continue
            if (
                before.content
                and after.content
                and wide(before.content[-1])
                and wide(after.content[0])
            ):
                problems.append(
                    f"line {token.map[0] + 1}: a break shows as a space: "
                    f"{before.content[-10:]}⏎{after.content[:10]}"
                )
    return problems


def script_problems(text: str, lang: str) -> list[str]:
    """Characters from the wrong script in an edition's prose: kana or traditional-only forms
    in zh-CN, Hanja in ko. Other editions have no script check."""
    wrong = {
        "zh-CN": lambda c: bool(KANA.match(c)) or c in TRADITIONAL_ONLY,
        "ko": lambda c: bool(HANJA.match(c)),
    }.get(lang)
    if wrong is None:
        return []
    return [
        f"line {number}: {''.join(bad)} in: {line.strip()}"
        for number, line in prose(text)
        if (bad := [c for c in line if wrong(c)])
    ]


def checked_terms(glossary: str) -> list[tuple[str, str, list[str]]]:
    """The glossary's "## Checked terms" table as (English, use, [never, ...]) rows.
    AssertionError if the section or its table is missing or malformed."""
    section = CHECKED_TERMS.search(glossary)
    assert section, "no '## Checked terms' section"
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section["body"].splitlines()
        if line.lstrip().startswith("|")
    ]
    assert rows and rows[0] == TERMS_HEADER, f"no '| English | use | never |' table: {rows[:1]}"
    terms = []
    for row in rows[2:]:  # after the header and its |---| line
        assert len(row) == 3 and row[1], f"a checked-terms row needs 3 cells and a term: {row}"
        never = [term for term in re.split(r"\s*,\s*", row[2]) if term not in ("", "-", "—")]
        terms.append((row[0], row[1], never))
    assert terms, "the '## Checked terms' table has no rows"
    return terms


@functools.cache
def joined_prose(text: str, glue: str) -> tuple[str, list[int], list[int]]:
    """All the prose as one string, with each line's offset in it and its line number. The
    lines of a paragraph are joined with glue, so that a term wrapped onto the next line is
    still found; paragraphs are set apart by a blank line."""
    parts, offsets, numbers, offset, previous = [], [], [], 0, -1
    for number, line in prose(text):
        separator = "" if not parts else glue if number == previous + 1 else "\n\n"
        offset += len(separator)
        parts += [separator, line]
        offsets.append(offset)
        numbers.append(number)
        offset, previous = offset + len(line), number
    return "".join(parts), offsets, numbers


def glossary_problems(text: str, glossary: str) -> list[str]:
    """Each checked term the edition does not use, and each rejected term it uses. A term is
    found as it stands, also when wrapped: a paragraph's lines are joined both with nothing
    (Japanese and Chinese wrap inside a word) and with a space (Korean)."""
    versions = [joined_prose(text, glue) for glue in ("", " ")]
    problems = []
    for english, use, never in checked_terms(glossary):
        if not any(use in all_prose for all_prose, _, _ in versions):
            problems.append(f"{english}: the chosen term {use!r} is not used in the prose")
        for term in never:
            lines = {
                numbers[bisect.bisect_right(offsets, match.start()) - 1]
                for all_prose, offsets, numbers in versions
                for match in re.finditer(re.escape(term), all_prose)
            }
            problems += [f"line {n}: {english} as {term!r}, not {use!r}" for n in sorted(lines)]
    return problems


def read(path) -> str:
    return path.read_text(encoding="utf-8")


def planted(tmp_path, source, addition: str):
    """A copy of source under tmp_path with a paragraph added at its end."""
    copy = tmp_path / source.name
    copy.write_text(read(source).rstrip("\n") + f"\n\n{addition}\n", encoding="utf-8")
    return copy


def glossary_of(lang: str):
    return DOCS / f"glossary.{lang}.md"


# The checks on the editions as they stand.


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_emphasis_and_inline_code_render(readme):
    assert markup_problems(read(readme)) == []


@pytest.mark.parametrize("lang", ["zh-CN", "ko"])
def test_prose_is_in_the_editions_script(lang):
    assert script_problems(read(EDITIONS[lang]), lang) == []


@pytest.mark.parametrize("lang", EDITIONS)
def test_edition_uses_its_glossarys_checked_terms(lang):
    try:
        checked_terms(read(glossary_of(lang)))
    except AssertionError as error:
        raise AssertionError(f"{glossary_of(lang).name}: {error}") from None
    assert glossary_problems(read(EDITIONS[lang]), read(glossary_of(lang))) == []


@pytest.mark.parametrize("lang", ["ja", "zh-CN"])
def test_no_line_break_between_two_characters_shows_as_a_space(lang):
    assert cjk_break_problems(read(EDITIONS[lang])) == []


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.name)
def test_hidden_markers_leave_the_prose_around_them_whole(readme):
    assert comment_problems(read(readme)) == []


# Each check fails on a defect planted in a copy.


def test_the_break_check_finds_a_break_between_two_characters():
    assert cjk_break_problems("中文段落，\n继续。\n\nEnglish\nwraps.\n\n日本語 `code`\nです。") == [
        "line 1: a break shows as a space: 中文段落，⏎继续。"
    ]


def test_the_marker_check_finds_a_marker_that_starts_a_line_of_prose(tmp_path):
    source = READMES[0]
    before = comment_problems(read(source))
    copy = planted(tmp_path, source, "A handler hears it.\n<!-- claim: x --> So `it` shows raw.")
    (tmp_path / "alone").mkdir()
    alone = planted(tmp_path / "alone", source, "A handler hears it.\n<!-- claim: x -->\nThen.")
    new = [p for p in comment_problems(read(copy)) if p not in before]
    assert len(new) == 1 and "shows raw" in new[0], new
    new = [p for p in comment_problems(read(alone)) if p not in before]
    assert len(new) == 1 and "cuts its paragraph" in new[0], new
    fine = "A handler hears it. <!-- claim: x -->\nNext line.\n\n<!-- exercise: y -->\n\nText."
    assert comment_problems(fine) == []


def test_the_markup_check_finds_the_emphasis_that_renders_as_asterisks(tmp_path):
    source = EDITIONS["zh-CN"]
    before = markup_problems(read(source))
    copy = planted(tmp_path, source, "警告：这是一个*待定（pending）*的弃用，尚无替代。")
    new = [p for p in markup_problems(read(copy)) if p not in before]
    assert len(new) == 2 and all("待定" in problem for problem in new), new


def test_the_markup_check_finds_a_stray_backtick_and_underscore(tmp_path):
    source = READMES[0]
    copy = planted(tmp_path, source, "Pass `config to the call, and a _single handler.")
    before = markup_problems(read(source))
    new = [p for p in markup_problems(read(copy)) if p not in before]
    assert len(new) == 2 and "'`' did not render" in new[0] and "'_' did not render" in new[1], new


def test_the_markup_check_passes_markup_that_renders():
    text = """# A *title*

**Bold**, *em*, _em_, `**kwargs`, ``a ` b``, run_id, 这是一个*待定*的弃用, **待定**（pending）。
<https://example.com/a_b*c> <!-- claim: a_b -->

| hook | note |
|---|---|
| `on_llm_*` | **all** |

```python
def f(*args, **kwargs): return `x`
```

    indented *code* block_
<!-- a *comment* -->
"""
    assert markup_problems(text) == []


def test_the_script_check_finds_kana_and_traditional_forms_in_zh_cn_prose(tmp_path):
    source = EDITIONS["zh-CN"]
    before = script_problems(read(source), "zh-CN")
    copy = planted(tmp_path, source, "处理器会收到レスポンス。\n\n這個处理器收到事件。")
    new = [p for p in script_problems(read(copy), "zh-CN") if p not in before]
    assert len(new) == 2, new
    assert "レスポンス in: 处理器会收到レスポンス。" in new[0]
    assert "這個 in: 這個处理器收到事件。" in new[1]


def test_the_script_check_finds_hanja_in_korean_prose(tmp_path):
    source = EDITIONS["ko"]
    before = script_problems(read(source), "ko")
    copy = planted(tmp_path, source, "핸들러가 이벤트를 受信합니다.")
    new = [p for p in script_problems(read(copy), "ko") if p not in before]
    assert len(new) == 1 and "受信" in new[0], new


def test_the_script_check_leaves_out_code_and_the_language_switcher():
    text = """[English](README.md) | [日本語](README.ja.md) | **한국어** |
[简体中文](README.zh-CN.md)

출력은 `容疑者: 山田太郎`입니다.

```text
容疑者: 山田太郎 ですか 這個
```
"""
    assert script_problems(text, "ko") == []
    assert script_problems(text, "zh-CN") == []
    assert script_problems("本节的容疑者。", "ja") == []


def test_no_traditional_only_form_is_also_a_simplified_character():
    simplified = []
    for character in TRADITIONAL_ONLY:
        try:
            character.encode("gb2312")
            simplified.append(character)
        except UnicodeEncodeError:
            pass
    assert simplified == []


FAKE_GLOSSARY = """# 用語集

| English | 日本語 | メモ |
|---|---|---|
| run | 実行 | |

## Checked terms

Each edition's prose uses the "use" term and never a "never" term.

| English | use | never |
|---|---|---|
| run | 実行 | ラン, ランの木 |
| handler | ハンドラー | |
"""
FAKE_README = """# コールバック

コールバックハンドラーは実行を受け取ります。

```python
run = "ラン"  # code is not prose
```

`ラン` もコードです。
"""


def test_the_glossary_check_passes_an_edition_that_keeps_to_it():
    assert checked_terms(FAKE_GLOSSARY) == [
        ("run", "実行", ["ラン", "ランの木"]),
        ("handler", "ハンドラー", []),
    ]
    assert glossary_problems(FAKE_README, FAKE_GLOSSARY) == []


def test_the_glossary_check_finds_a_rejected_term_or_a_missing_chosen_one(tmp_path):
    rejected = tmp_path / "rejected.md"
    rejected.write_text(FAKE_README + "\n子ランを数えます。\n", encoding="utf-8")
    assert glossary_problems(read(rejected), FAKE_GLOSSARY) == [
        "line 11: run as 'ラン', not '実行'"
    ]
    missing = tmp_path / "missing.md"
    missing.write_text(FAKE_README.replace("実行", "処理"), encoding="utf-8")
    assert glossary_problems(read(missing), FAKE_GLOSSARY) == [
        "run: the chosen term '実行' is not used in the prose"
    ]
    wrapped = tmp_path / "wrapped.md"  # a term split by a line break is still found
    wrapped.write_text(FAKE_README + "\n子ラ\nンを数えます。\n", encoding="utf-8")
    assert glossary_problems(read(wrapped), FAKE_GLOSSARY) == ["line 11: run as 'ラン', not '実行'"]


def test_the_glossary_check_fails_without_a_checked_terms_section():
    with pytest.raises(AssertionError, match="no '## Checked terms' section"):
        glossary_problems(FAKE_README, FAKE_GLOSSARY.split("## Checked terms")[0])
    with pytest.raises(AssertionError, match=re.escape("no '| English | use | never |' table")):
        checked_terms("## Checked terms\n\n| English | 日本語 |\n|---|---|\n| run | 実行 |\n")


@pytest.mark.parametrize("lang", EDITIONS)
def test_the_glossary_check_finds_planted_defects_in_a_real_edition(tmp_path, lang):
    """Needs the real glossary's "## Checked terms" table, like the check on the edition."""
    glossary = read(glossary_of(lang))
    english, use, never = next((row for row in checked_terms(glossary) if row[2]), (None,) * 3)
    assert english, f"{glossary_of(lang).name}: no checked term has a rejected one"
    source = EDITIONS[lang]
    before = glossary_problems(read(source), glossary)
    copy = planted(tmp_path, source, f"{never[0]}。")
    new = [p for p in glossary_problems(read(copy), glossary) if p not in before]
    assert any(f"{english} as {never[0]!r}" in problem for problem in new), new
    removed = tmp_path / f"removed.{source.name}"
    removed.write_text(read(source).replace(use, "□"), encoding="utf-8")
    assert f"{english}: the chosen term {use!r} is not used in the prose" in glossary_problems(
        read(removed), glossary
    )
