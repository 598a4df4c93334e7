import json
import re

import pytest
from lessons import (
    CALLBACK_ERROR,
    callback_errors,
    offline_env,
    run_lesson,
    section,
)

from tutorial_env.offline import prompt_tokens, reasoning_tokens, text_reply, tokenize

LESSON = "custom_tracer.py"
PROMPT = "Say something short about tracing."
ROW = re.compile(
    r"^(?P<label> *\w+ \w+) *\|(?P<bar>[# ]+)\| *(?P<start>\d+\.\d) ms *(?P<took>\d+\.\d) ms"
    r"(?:  (?P<input>\d+) in, (?P<output>\d+) out)?$",
    re.M,
)


def waterfall(result):
    """The rows of section 2 as dicts, with depth, kind, name and the bar's cells."""
    rows = []
    for match in ROW.finditer(section(result.stdout, 2)):
        label, bar = match["label"], match["bar"]
        kind, name = label.split()
        cells = [i for i, c in enumerate(bar) if c == "#"]
        rows.append(
            dict(match.groupdict(), depth=(len(label) - len(label.lstrip())) // 2, kind=kind)
            | dict(name=name, cells=cells, width=len(bar))
        )
    return rows


def parents(rows):
    """Each row's parent name, from the indentation."""
    stack, parent_of = [], {}
    for row in rows:
        del stack[row["depth"] :]
        parent_of[row["name"]] = stack[-1]["name"] if stack else "-"
        stack.append(row)
    return parent_of


def model_usage(model):
    """What the offline model reports for the chain's one call, by its counting rule."""
    return prompt_tokens([PROMPT]), len(tokenize(text_reply(PROMPT))) + reasoning_tokens(model)


def test_set_debug_prints_each_run_start_and_end_without_handler_code(output):
    part = section(output, 1)
    for kind, path in [
        ("chain", "chain:count_words"),
        ("llm", "chain:count_words > llm:ChatOpenAI"),
        ("tool", "chain:count_words > tool:word_count"),
    ]:
        assert f"[{kind}/start] [{path}] Entering" in part
        assert f"[{kind}/end] [{path}] [TIME] Exiting" in part
    assert int(re.search(r"\.\.\. and (\d+) more lines", part)[1]) > 20


def test_set_debug_is_off_again_after_section_1(result):
    after = result.stdout.split("== 2.", 1)[1]  # raw: a debug line would carry a run id
    debug = re.findall(r"^.*\[(?:chain|llm|tool|retriever)/(?:start|end|error)\].*$", after, re.M)
    assert debug == [], "set_debug printed runs after section 1: it was never turned off"


def test_the_tracer_receives_one_root_with_the_model_and_tool_under_it(result, output, model):
    assert "the tracer received 1 root run" in section(output, 2)
    rows = waterfall(result)
    assert [(r["depth"], r["kind"], r["name"]) for r in rows] == [
        (0, "chain", "count_words"),
        (1, "prompt", "ChatPromptTemplate"),
        (1, "llm", "ChatOpenAI"),
        (1, "parser", "StrOutputParser"),
        (1, "tool", "word_count"),
    ]
    llm = next(r for r in rows if r["kind"] == "llm")
    assert (int(llm["input"]), int(llm["output"])) == model_usage(model)
    assert f"count_words returned {len(text_reply(PROMPT).split())}" in output


def test_waterfall_rows_run_in_start_order_and_each_bar_lies_inside_its_parents(result):
    rows = waterfall(result)
    starts = [float(r["start"]) for r in rows]
    assert starts == sorted(starts)
    root = rows[0]
    assert root["cells"] == list(range(root["width"]))  # the root spans the whole scale
    by_name = {r["name"]: r for r in rows}
    for name, parent in parents(rows).items():
        cells = by_name[name]["cells"]
        assert cells and cells == list(range(cells[0], cells[-1] + 1))  # one unbroken bar
        if parent != "-":
            assert set(cells) <= set(by_name[parent]["cells"]), f"{name} outside {parent}"
    total = float(root["took"])
    for row in rows:  # the bar is the clock: where it starts and how long it is
        start, took, width = float(row["start"]), float(row["took"]), row["width"]
        rounding = width * 0.1 / total  # the times are printed to 0.1 ms
        assert abs(row["cells"][0] - start / total * width) <= 1 + rounding, row
        assert abs(len(row["cells"]) - max(took / total * width, 1)) <= 2 + rounding, row
    took = {r["name"]: float(r["took"]) for r in rows}
    assert sum(took[name] for name in by_name if name != "count_words") <= took["count_words"]


def roots(output, heading, tracer):
    part = section(output, 3).split(f"{heading}:\n")[1]
    line = next(line for line in part.splitlines() if line.strip().startswith(tracer))
    count, trees, verdict = re.search(r"roots: (\d+)  (.*?) +(\w[\w ]*)$", line).groups()
    return int(count), trees, verdict


def test_a_plain_thread_loses_the_child_or_splits_the_trace_and_both_fixes_work(output):
    assert roots(output, "ThreadPoolExecutor", "run-time") == (1, "ask_in_thread()", "child lost")
    assert roots(output, "ThreadPoolExecutor", "always-on") == (
        2,
        "ChatOpenAI(), ask_in_thread()",
        "split trace",
    )
    for fix in ("ThreadPoolExecutor, config passed on", "ContextThreadPoolExecutor"):
        for tracer in ("run-time", "always-on"):
            whole = (1, "ask_in_thread(ChatOpenAI())", "whole")
            assert roots(output, fix, tracer) == whole, fix


def test_a_raising_tracer_is_only_logged_unless_raise_error_is_set(result, output):
    part = section(output, 4)
    answer = len(text_reply(PROMPT).split())
    assert f"without raise_error the chain still returned {answer}" in part
    assert "with raise_error = True the caller got ConnectionError(" in part
    deliberate = [line for line in result.stdout.splitlines() if CALLBACK_ERROR.search(line)]
    assert [line.split(" callback")[0] for line in deliberate] == [
        "[logged on purpose] Error in BrokenExporter.on_chain_end",
        "[logged on purpose] Error in StrictBrokenExporter.on_chain_end",
    ]


def test_the_harness_still_flags_an_unmarked_or_foreign_callback_error():
    stray = "Error in BrokenExporter.on_chain_end callback: ConnectionError('x')"
    marked = f"[logged on purpose] {stray}"
    foreign = "[logged on purpose] Error in Printer.on_llm_end callback: KeyError('x')"
    assert callback_errors(marked, LESSON) == []
    assert callback_errors(stray, LESSON) == [stray]
    assert callback_errors(foreign, LESSON) == [foreign]
    assert callback_errors(marked, "custom_callbacks.py") == [marked]


SGR = re.compile(r"\x1b\[([0-9;]*)m")  # Select Graphic Rendition: colours, bold, ...
SWITCHED_OFF_BY = {22: {1, 2}, 23: {3}, 24: {4, 21}, 25: {5, 6}, 27: {7}, 28: {8}, 29: {9}}


def attributes_left_on(output):
    """Replay the output's SGR codes as a terminal does. Returns (line number, line, what is
    still on) for each line at whose end an attribute is still switched on."""
    on, left = {}, []  # attribute -> the code that switched it on
    for number, line in enumerate(output.split("\n"), 1):
        for match in SGR.finditer(line):
            codes = [int(code or 0) for code in match[1].split(";")]
            while codes:
                code = codes.pop(0)
                if code == 0:
                    on.clear()
                elif code in SWITCHED_OFF_BY:
                    for switched in SWITCHED_OFF_BY[code]:
                        on.pop(switched, None)
                elif code in (39, 49):  # the default foreground, background colour
                    on.pop("foreground" if code == 39 else "background", None)
                elif 30 <= code <= 38 or 90 <= code <= 97:
                    on["foreground"] = code
                elif 40 <= code <= 48 or 100 <= code <= 107:
                    on["background"] = code
                else:  # bold, italic, ... and any code this replay does not know
                    on[code] = code
                if code in (38, 48):  # 38;5;N or 38;2;R;G;B: skip the colour's own numbers
                    del codes[: {5: 2, 2: 4}.get(codes[0] if codes else None, 0)]
        if on:
            left.append((number, line, dict(on)))
    return left


def test_the_attribute_replay_sees_a_header_that_leaves_bold_on():
    header = "\x1b[32;1m\x1b[1;3m[chain/start]\x1b[0m \x1b[1m[chain:count_words] Entering Chain"
    assert attributes_left_on(header) == [(1, header, {1: 1})]
    assert attributes_left_on("\x1b[3mtext\nmore\x1b[23m") == [(1, "\x1b[3mtext", {3: 3})]
    assert attributes_left_on("\x1b[38;5;196mred\x1b[39m \x1b[1;4mbold\x1b[22;24m") == []
    assert attributes_left_on("\x1b[48;2;1;2;3mbg") == [
        (1, "\x1b[48;2;1;2;3mbg", {"background": 48})
    ]
    assert attributes_left_on("\x1b[1ma\x1b[0m\n\x1b[1mb") == [(2, "\x1b[1mb", {1: 1})]


def test_no_terminal_attribute_stays_on_past_a_line_the_lesson_prints(result):
    raw = result.stdout  # colour codes included
    assert SGR.search(section(raw, 1)), "set_debug's headers should keep their colours"
    assert attributes_left_on(raw) == []


@pytest.fixture(scope="module")
def probe(model):
    """tests/tracer_probe.py's trees: the lesson's tracer and waterfall, run on a
    chain nested four levels deep, and on a chain whose model call was cancelled."""
    env = offline_env(OPENAI_MODEL=model, TUTORIAL_TOKEN_DELAY="0.05")
    result = run_lesson("tests/tracer_probe.py", env=env, args=[])
    assert result.returncode == 0, result.stdout
    return json.loads(result.stdout.split("PROBE ", 1)[1])


NESTED = [
    ("outer", "-", 0),
    ("middle", "outer", 1),
    ("prepare", "middle", 2),
    ("inner", "middle", 2),
    ("ChatPromptTemplate", "inner", 3),
    ("ChatOpenAI", "inner", 3),
    ("StrOutputParser", "inner", 3),
    ("word_count", "outer", 1),
]


def test_on_a_nested_chain_the_tracer_gets_one_root_with_every_run_under_its_parent(probe):
    nested = probe["nested"]
    assert nested["logged"] == []  # no handler raised
    [runs] = nested["collector"]
    assert [(r["name"], r["parent"], r["depth"]) for r in runs] == NESTED
    for run in runs:  # every run ended, inside its parent's time
        assert run["end"] is not None and run["error"] is None, run["name"]
    by_name = {run["name"]: run for run in runs}
    for run in runs[1:]:
        parent = by_name[run["parent"]]
        assert parent["start"] <= run["start"] <= run["end"] <= parent["end"], run["name"]


def test_on_a_nested_chain_the_waterfall_draws_every_run_under_its_parent(probe):
    [runs] = probe["nested"]["collector"]
    assert [(r["name"], r["parent"], r["depth"]) for r in runs] == NESTED
    [drawn] = probe["nested"]["waterfall"]
    assert not drawn.startswith("raised"), drawn
    rows = list(ROW.finditer(drawn))
    label_depth = [((len(r["label"]) - len(r["label"].lstrip())) // 2, r["label"]) for r in rows]
    assert label_depth == [
        (r["depth"], f"{'  ' * r['depth']}{r['type']} {r['name']}") for r in runs
    ]
    for run, row in zip(runs, rows, strict=True):  # the times printed are the run's own
        assert abs(float(row["start"]) - (run["start"] - runs[0]["start"]) / 1e6) <= 0.051
        assert abs(float(row["took"]) - (run["end"] - run["start"]) / 1e6) <= 0.051


def test_a_cancelled_model_call_is_drawn_as_unfinished(probe):
    cancelled = probe["cancelled"]
    assert cancelled["logged"] == []  # the waterfall's tracer did not raise
    [runs] = cancelled["collector"]  # the root still reached the tracer: it ended, in error
    assert runs[0]["name"] == "cancelled" and runs[0]["error"].startswith("CancelledError")
    assert [(r["name"], r["end"] is None) for r in runs] == [
        ("cancelled", False),
        ("ChatPromptTemplate", False),
        ("ChatOpenAI", True),  # the model's run never ended
    ]
    [drawn] = cancelled["waterfall"]
    assert not drawn.startswith("raised"), drawn
    table = drawn.splitlines()[1:]
    assert [line.endswith("unfinished") for line in table] == [False, False, True], table
    assert table[2].split("|")[1].endswith("#")  # drawn on to the end of its parent
