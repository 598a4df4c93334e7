"""The "Try it" exercises at the end of each lesson's README section, and their checker.

Each exercise asks the reader to change one thing in a lesson and predict what happens. Its
README block is a marker, the question, and a collapsed answer that ends in a `diff` block:

    <!-- exercise: callbacks_runtime.constructor -->
    ... the question ... <details><summary>Answer</summary> ... the answer ...
    ```diff
    - an output line that disappears
    + an output line that appears
    ```

The registry below gives each exercise its source edits (old -> new, each `old` found exactly
once in the lesson). tests/test_exercises.py applies them to a copy of the lesson, runs the
copy offline the way the suite runs lessons (forked from the warm fork server,
tests/forkserver.py, all at once), and checks every `-` and `+` line against the real outputs.

Write an answer from a real run, never by hand: `python tests/exercises.py [ID ...]` runs the
variants and prints, for each, every line that disappears and appears; copy the telling ones.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lessons import (
    DEFAULT_MODEL,
    LESSON_ENV,
    ROOT,
    expected_output,
    fork_run,
    normalise,
    offline_env,
)

from docs import EXERCISE

# Lessons whose exercises come later (one being rewritten, say): until then they need none.
LATER: set[str] = set()
# What a lesson finds next to itself (web_streaming.py serves pages/): a copy gets a link.
BESIDE_LESSONS = ("pages",)
DIFF = re.compile(r"^```diff\n(?P<body>.*?)^```", re.S | re.M)
# How many variants run at once: they mostly wait on their own offline model.
PARALLEL = 8


@dataclass(frozen=True)
class Exercise:
    id: str  # "<lesson stem>.<short id>"
    edits: tuple[tuple[str, str], ...]  # (old, new): each old occurs exactly once
    exit_code: int = 0

    @property
    def lesson(self) -> str:
        return self.id.split(".")[0] + ".py"


@dataclass
class Answer:
    removed: list[str]  # "- " lines
    added: list[str]  # "+ " lines
    kept: list[str]  # "  " lines, unchanged


class LessonChanged(Exception):
    """An exercise's edit no longer applies: the lesson changed under it."""


MODEL = 'ChatOpenAI(model=os.environ["OPENAI_MODEL"]'
EARLY = "    early = asyncio.create_task(llm.ainvoke(QUESTION))\n"
COUNTED = "    with get_usage_metadata_callback() as usage, get_openai_callback() as cost:\n"
SYNC_HANDLER = 'each non-empty token and the thread it runs on."""\n'

EXERCISES = {
    exercise.id: exercise
    for exercise in [
        Exercise(
            "callbacks_runtime.constructor",
            (
                ('        "callbacks": [handler],\n', ""),
                (
                    f"    llm = {MODEL})\n    handler = RunTreePrinter()\n",
                    f"    handler = RunTreePrinter()\n    llm = {MODEL}, callbacks=[handler])\n",
                ),
            ),
        ),
        Exercise(
            "callbacks_runtime.no-config",
            (("add.invoke(call, config).content", "add.invoke(call).content"),),
        ),
        Exercise(
            "callbacks_attach.original-chain",
            (("{watched_chain.invoke(inputs)}", "{chain.invoke(inputs)}"),),
        ),
        Exercise(
            "callbacks_constructor.chain-in-section-2",
            (("{llm.invoke('What is 2 + 2?').text}", "{chain.invoke({'a': 2, 'b': 2})}"),),
        ),
        Exercise(
            "custom_callbacks.stream-usage",
            (
                (
                    "streaming=True, callbacks=[printer]",
                    "streaming=True, stream_usage=True, callbacks=[printer]",
                ),
            ),
        ),
        Exercise(
            "callbacks_async.run-inline",
            ((SYNC_HANDLER, SYNC_HANDLER + "\n    run_inline = True\n"),),
        ),
        Exercise(
            "callbacks_custom_events.v1",
            (('astream_events("A-17", version="v2")', 'astream_events("A-17", version="v1")'),),
        ),
        Exercise(
            "file_logging.verbose-is-a-constructor-handler",
            ((f"{MODEL}, verbose=True)", f"{MODEL}, callbacks=[StdOutCallbackHandler()])"),),
        ),
        Exercise(
            "token_counting.no-stream-usage",
            ((f"asking = {MODEL}, stream_usage=True)", f"asking = {MODEL})"),),
        ),
        Exercise(
            "token_counting.task-inside",
            ((EARLY + COUNTED, COUNTED + "    " + EARLY),),
        ),
        Exercise(
            "agent_callbacks.streaming-model",
            (
                (
                    "create_agent(ChatOpenAI(model=model), tools",
                    "create_agent(ChatOpenAI(model=model, streaming=True), tools",
                ),
            ),
        ),
        Exercise(
            "agent_callbacks.the-other-api",
            (
                (
                    'get_stream_writer()({"via": "get_stream_writer"})',
                    'dispatch_custom_event("progress", {"via": "a second dispatch_custom_event"})',
                ),
            ),
        ),
        Exercise(
            "custom_tracer.no-thread",
            (
                (
                    "pool.submit(llm.invoke, message, config if pass_config else None).result()",
                    "llm.invoke(message)",
                ),
            ),
        ),
        Exercise(
            "custom_tracer.no-raise-error",
            (("    raise_error = True\n", "    raise_error = False\n"),),
        ),
        Exercise(
            "custom_tracer.debug-left-on",
            (("    set_debug(False)\n", ""),),
        ),
        Exercise(
            "otel_export.node-spans",
            (
                (
                    'if "langgraph_node" in metadata or (parent_run_id and not agent):',
                    "if parent_run_id and not agent:",
                ),
            ),
        ),
        Exercise(
            "otel_export.no-llm-error",
            (
                (
                    "on_tool_end, on_llm_error, on_tool_error = on_chain_end, on_chain_error,",
                    "on_tool_end, on_tool_error = on_chain_end,",
                ),
            ),
        ),
        Exercise(
            "web_streaming.no-streaming",
            ((f"llm = {MODEL}, streaming=True)", f"llm = {MODEL})"),),
        ),
        Exercise(
            "callbacks_stream_events.stream-usage",
            ((f"    llm = {MODEL})\n", f"    llm = {MODEL}, stream_usage=True)\n"),),
        ),
        Exercise(
            "agent_interrupts.plain-watcher",
            (("PauseWatcher(GraphCallbackHandler):", "PauseWatcher(BaseCallbackHandler):"),),
            exit_code=1,
        ),
    ]
}


def apply_edits(exercise: Exercise, source: str) -> str:
    for old, new in exercise.edits:
        found = source.count(old)
        if found != 1:
            raise LessonChanged(
                f"the lesson changed under exercise {exercise.id}: {old!r} occurs {found} "
                f"times in {exercise.lesson}, not once. Update the exercise in tests/exercises.py "
                "and its answer in the READMEs."
            )
        source = source.replace(old, new)
    return source


def answers(text: str) -> dict[str, Answer]:
    """Every exercise in a README, by id: the lines of the diff block after its marker (and
    before the next one)."""
    found = {}
    markers = list(EXERCISE.finditer(text))
    for marker, following in zip(markers, [*markers[1:], None], strict=False):
        block = DIFF.search(text, marker.end(), following.start() if following else len(text))
        assert block, f"exercise {marker['id']} has no diff block"
        lines = block["body"].splitlines()
        bad = [line for line in lines if not re.match(r"[-+ ] ", line)]
        assert not bad, f"exercise {marker['id']}: lines not marked '- ', '+ ' or '  ': {bad}"
        found[marker["id"]] = Answer(
            *([line[2:] for line in lines if line[0] == sign] for sign in "-+ ")
        )
    return found


def wrong_lines(answer: Answer, original: str, variant: str) -> list[str]:
    """How an answer fails to describe the change from the original output to the variant's.
    A `-` line is printed fewer times by the variant than by the original (usually: no longer
    at all), a `+` line more times (usually: now, and not before), a `  ` line as many times,
    and at least once. An answer with no `-` or `+` line says the output stays the same."""
    before, after = Counter(original.splitlines()), Counter(variant.splitlines())
    problems = [f"- {line}" for line in answer.removed if not before[line] > after[line]]
    problems += [f"+ {line}" for line in answer.added if not after[line] > before[line]]
    problems += [f"  {line}" for line in answer.kept if not before[line] == after[line] > 0]
    if not answer.removed + answer.added and before != after:
        problems.append("the answer says the output stays the same, and it changes")
    if not answer.removed + answer.added + answer.kept:
        problems.append("the diff block is empty")
    return problems


def run_variants(exercises: list[Exercise], timeout: float = 60) -> dict[str, tuple]:
    """Each exercise's lesson copy, edited and run offline on the default model, as
    {id: (exit status, normalised output)}: the status is "timeout" for a run killed at its
    timeout, and None for an edit that no longer applies, whose "output" then says why. A
    copy keeps the lesson's file name (the tour's arguments go by it) in a folder of its
    own, which is also its working directory."""
    results, runnable = {}, []
    with tempfile.TemporaryDirectory() as scratch:
        requests = []
        for exercise in exercises:
            source = (ROOT / exercise.lesson).read_text(encoding="utf-8")
            try:
                variant = apply_edits(exercise, source)
            except LessonChanged as error:
                results[exercise.id] = (None, str(error))
                continue
            runnable.append(exercise)
            folder = Path(scratch) / exercise.id
            folder.mkdir()
            (folder / exercise.lesson).write_text(variant, encoding="utf-8")
            for name in BESIDE_LESSONS:
                (folder / name).symlink_to(ROOT / name)
            env = offline_env(OPENAI_MODEL=DEFAULT_MODEL, **LESSON_ENV.get(exercise.lesson, {}))
            request = {"lesson": str(folder / exercise.lesson), "args": None, "env": env}
            requests.append(request | {"cwd": str(folder), "output": str(folder / "output.txt")})
        with ThreadPoolExecutor(PARALLEL) as pool:  # the fork server runs them at once
            statuses = list(pool.map(lambda request: fork_run(request, timeout), requests))
        for exercise, request, status in zip(runnable, requests, statuses, strict=True):
            status = "timeout" if status is None else status
            printed = Path(request["output"]).read_text(encoding="utf-8")
            results[exercise.id] = (status, normalise(printed))
        return results


def show(ids: list[str]) -> None:
    """Print each variant's changed lines, to write an answer from: a line printed more or
    fewer times than by the lesson, once for each time."""
    chosen = [EXERCISES[i] for i in ids] if ids else list(EXERCISES.values())
    results = run_variants(chosen)
    for exercise in chosen:
        status, output = results[exercise.id]
        before = Counter(expected_output(exercise.lesson).splitlines())
        after = Counter(output.splitlines())
        print(f"<!-- exercise: {exercise.id} -->  (exit {status})\n```diff")
        print("\n".join(f"- {line}" for line in (before - after).elements()))
        print("\n".join(f"+ {line}" for line in (after - before).elements()))
        print("```\n")


if __name__ == "__main__":
    show(sys.argv[1:])
