"""Keep README.md true to the code: excerpts, outputs and links.

Output blocks follow a marker and are rewritten from tests/expected/ by `make expected`
(lesson 10's from one real run, <lesson>.sample.txt, since its times are the point):

    <!-- output: callbacks_runtime.py -->
    ```text
    ...
    ```
"""

from __future__ import annotations

import ast
import re
import sys
import textwrap
from pathlib import Path

from lessons import LESSONS, ROOT, shown_output

# The English edition first: every other edition is held in lockstep with it.
READMES = [ROOT / name for name in ("README.md", "README.ja.md", "README.ko.md", "README.zh-CN.md")]
# How each edition says that a link goes to LangChain's unmaintained v0.3 docs.
ARCHIVED_WORDS = ("archived", "アーカイブ", "아카이브", "存档")
OUTPUT_BLOCK = re.compile(
    r"(<!-- output: (?P<lesson>[\w.]+) -->\n```text\n)(?P<body>.*?)(```)", re.S
)
FENCE = re.compile(r"^```(?P<lang>\w*)\n(?P<body>.*?)^```", re.S | re.M)
LINK = re.compile(r"\]\((?!https?://|#|mailto:)(?P<target>[^)#\s]+)")
WEB_LINK = re.compile(r"\]\((?P<url>https?://[^)\s]+)\)")
DOCSTRING_URL = re.compile(r"https?://\S+")
CLAIM = re.compile(r"<!-- claim: (?P<id>[\w-]+) -->")
EXERCISE = re.compile(r"<!-- exercise: (?P<id>[\w.-]+) -->")  # tests/exercises.py
LINKS = ROOT / "tests" / "links.txt"


def lesson_sections(text: str) -> dict[str, str]:
    """Each `## ...` section whose heading names a lesson file, keyed by that file."""
    sections = {}
    for part in re.split(r"^(?=## )", text, flags=re.M):
        heading = part.split("\n", 1)[0]
        for lesson in LESSONS:
            if heading.startswith("## ") and f"`{lesson}`" in heading:
                sections[lesson] = part
    return sections


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """Every fenced block as (language, body), in order."""
    return [(m["lang"], m["body"]) for m in FENCE.finditer(text)]


def python_excerpts(section: str) -> list[str]:
    return [m["body"] for m in FENCE.finditer(section) if m["lang"] == "python"]


def page_excerpts(section: str) -> list[str]:
    """JavaScript shown in a lesson's section: it comes from the lesson's page (.html)."""
    return [m["body"] for m in FENCE.finditer(section) if m["lang"] == "javascript"]


def appears_verbatim(excerpt: str, source: str) -> bool:
    """True if the excerpt is a run of whole lines of the source, give or take indentation."""
    wanted = textwrap.dedent(excerpt).splitlines()
    lines = source.splitlines()
    for start in range(len(lines) - len(wanted) + 1):
        window = lines[start : start + len(wanted)]
        if textwrap.dedent("\n".join(window)).splitlines() == wanted:
            return True
    return False


def output_blocks(text: str) -> list[tuple[str, str]]:
    return [(m["lesson"], m["body"]) for m in OUTPUT_BLOCK.finditer(text)]


def broken_links(readme: Path) -> list[str]:
    text = readme.read_text(encoding="utf-8")
    return [m["target"] for m in LINK.finditer(text) if not (readme.parent / m["target"]).exists()]


def claim_markers(text: str) -> list[tuple[str, str]]:
    """Each claim marker as (claim id, the `## ` heading of the section it sits in)."""
    markers = []
    for part in re.split(r"^(?=## )", text, flags=re.M):
        heading = part.split("\n", 1)[0].removeprefix("## ")
        markers += [(m["id"], heading) for m in CLAIM.finditer(part)]
    return markers


def lockstep_problems(english: str, edition: str) -> list[str]:
    """How an edition differs from the English one in what must be identical: the code and
    output blocks (in order, the exercises' diff blocks among them), the claim and exercise
    markers (in order), and the web links."""
    problems = []
    ours, theirs = fenced_blocks(english), fenced_blocks(edition)
    if len(ours) != len(theirs):
        problems.append(f"{len(theirs)} fenced blocks, not {len(ours)}")
    for number, (en, other) in enumerate(zip(ours, theirs, strict=False), 1):
        if en != other:
            problems.append(f"block {number} differs:\n{other[1]}")
    if [c for c, _ in claim_markers(english)] != [c for c, _ in claim_markers(edition)]:
        problems.append("different claim markers, or in a different order")
    if EXERCISE.findall(english) != EXERCISE.findall(edition):
        problems.append("different exercise markers, or in a different order")
    links = [sorted(m["url"] for m in WEB_LINK.finditer(text)) for text in (english, edition)]
    if links[0] != links[1]:
        problems.append(f"different web links: {sorted(set(links[0]) ^ set(links[1]))}")
    return problems


def listed_links() -> dict[str, bool]:
    """tests/links.txt as {url: archived?}."""
    links = {}
    for line in LINKS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            url, *label = line.split()
            links[url] = label == ["archived"]
    return links


def used_links() -> list[tuple[str, str, str]]:
    """Every web link in the READMEs and the lesson docstrings, as (url, file, its line)."""
    used = []
    for readme in READMES:
        for line in readme.read_text(encoding="utf-8").splitlines():
            used += [(m["url"], readme.name, line) for m in WEB_LINK.finditer(line)]
    for lesson in LESSONS:
        docstring = ast.get_docstring(ast.parse((ROOT / lesson).read_text(encoding="utf-8")))
        for line in docstring.splitlines():
            used += [(url, lesson, line) for url in DOCSTRING_URL.findall(line)]
    return used


def update() -> int:
    for readme in READMES:
        text = readme.read_text(encoding="utf-8")
        new = OUTPUT_BLOCK.sub(lambda m: m.group(1) + shown_output(m["lesson"]) + m.group(4), text)
        if new != text:
            readme.write_text(new, encoding="utf-8")
            print(f"updated output blocks in {readme.name}")
    return 0


if __name__ == "__main__":
    sys.exit(update())
