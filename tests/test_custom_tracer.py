import re

import pytest
from lessons import CALLBACK_ERROR, callback_errors, check_clean_run, run_lesson, section

from tutorial_env.offline import prompt_tokens, reasoning_tokens, text_reply, tokenize

LESSON = "custom_tracer.py"
PROMPT = "Say something short about tracing."
ROW = re.compile(
    r"^(?P<label> *\w+ \w+) *\|(?P<bar>[# ]+)\| *(?P<start>\d+\.\d) ms *(?P<took>\d+\.\d) ms"
    r"(?:  (?P<input>\d+) in, (?P<output>\d+) out)?$",
    re.M,
)


@pytest.fixture(scope="module")
def result(model):
    return run_lesson(LESSON, model=model)


@pytest.fixture(scope="module")
def output(result, model):
    return check_clean_run(result, LESSON, model)


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


def test_spans_mirror_the_run_tree_in_one_trace_with_the_models_token_counts(result, output, model):
    part = section(output, 4)
    rows = waterfall(result)
    assert f"{len(rows)} spans, 1 trace id" in part
    spans = re.findall(r"^(\w+) +parent: (\S+)(.*)$", part, re.M)
    assert {name: parent for name, parent, _ in spans} == parents(rows)
    assert len(spans) == len(rows)
    input_tokens, output_tokens = model_usage(model)
    attributes = dict(re.findall(r"(gen_ai\.usage\.\w+)=(\d+)", part))
    assert attributes == {
        "gen_ai.usage.input_tokens": str(input_tokens),
        "gen_ai.usage.output_tokens": str(output_tokens),
    }
    assert "gen_ai.usage" in next(extra for name, _, extra in spans if name == "ChatOpenAI")


def test_a_raising_tracer_is_only_logged_unless_raise_error_is_set(result, output):
    part = section(output, 5)
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
