"""Keep README.md true to the code: excerpts, outputs and links.

Output blocks follow a marker and are rewritten from tests/expected/ by `make expected`:

    <!-- output: callbacks_runtime.py -->
    ```text
    ...
    ```
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

from lessons import LESSONS, ROOT, expected_output

READMES = [ROOT / "README.md", ROOT / "README.ja.md"]
OUTPUT_BLOCK = re.compile(
    r"(<!-- output: (?P<lesson>[\w.]+) -->\n```text\n)(?P<body>.*?)(```)", re.S
)
FENCE = re.compile(r"^```(?P<lang>\w*)\n(?P<body>.*?)^```", re.S | re.M)
LINK = re.compile(r"\]\((?!https?://|#|mailto:)(?P<target>[^)#\s]+)")


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


def update() -> int:
    for readme in READMES:
        text = readme.read_text(encoding="utf-8")
        new = OUTPUT_BLOCK.sub(
            lambda m: m.group(1) + expected_output(m["lesson"]) + m.group(4), text
        )
        if new != text:
            readme.write_text(new, encoding="utf-8")
            print(f"updated output blocks in {readme.name}")
    return 0


if __name__ == "__main__":
    sys.exit(update())
