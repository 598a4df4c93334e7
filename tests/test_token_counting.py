import ast
import re

import pytest
from failures import online_env
from langchain_community.callbacks.openai_info import MODEL_COST_PER_1K_TOKENS
from lessons import ROOT, check_clean_run, run_lesson

from tutorial_env.offline import FakeOpenAIServer, tokenize

LESSON = "token_counting.py"
USAGE = re.compile(r"usage_metadata  ([\w.-]+): (\d+) in \+ (\d+) out = (\d+) tokens")
OPENAI = re.compile(r"openai callback (\d+) tokens in (\d+) request\(s\), \$(\d+\.\d+)")
# The offline model's count for "What is 1 + 2?": 3 + (3 + 6) prompt tokens, "1 + 2 = 3." is 6.
ONE_CALL = (12, 6, 18)


@pytest.fixture(scope="module")
def output():
    return check_clean_run(run_lesson(LESSON), LESSON)


@pytest.fixture(scope="module")
def sections(output):
    return {int(m[1]): m[2] for m in re.finditer(r"== (\d)\.(.*?)(?=\n== |\Z)", output, re.S)}


def usage(part):
    return [(model, *map(int, rest)) for model, *rest in USAGE.findall(part)]


def openai_counts(part):
    return [(int(t), int(r), float(c)) for t, r, c in OPENAI.findall(part)]


def scaled(n):
    return [("gpt-4o-mini", *(n * x for x in ONE_CALL))]


def test_one_call_exact_tokens_and_priced_from_the_table(sections):
    assert usage(sections[1]) == scaled(1)
    tokens, requests, cost = openai_counts(sections[1])[0]
    prices = MODEL_COST_PER_1K_TOKENS
    expected = (12 * prices["gpt-4o-mini"] + 6 * prices["gpt-4o-mini-completion"]) / 1000
    assert (tokens, requests) == (18, 1)
    assert cost > 0 and cost == pytest.approx(expected, abs=5e-8)


def test_two_calls_exactly_double(sections):
    assert usage(sections[2]) == scaled(2)
    assert openai_counts(sections[2])[0][:2] == (36, 2)


def test_stream_with_usage_counts_and_without_counts_zero(sections):
    part = sections[3]
    assert usage(part) == scaled(1)
    counts = openai_counts(part)
    assert counts[0][:2] == (18, 1)
    assert counts[1] == (0, 0, 0.0)
    assert "(nothing counted)" in part and "stream_usage=None" in part


def test_gather_of_three_exactly_triple(sections):
    assert usage(sections[4]) == scaled(3)
    assert openai_counts(sections[4])[0][:2] == (54, 3)


def test_the_three_calls_of_section_4_really_run_at_once():
    """Three awaits one after another would count the same tokens; the server sees the
    difference. Each reply is held 0.3 s, so calls in flight together overlap for sure."""
    with FakeOpenAIServer(token_delay=0, fault="", reply_delay=0.3) as server:
        result = run_lesson(LESSON, env=online_env(server.base_url, OPENAI_MODEL="gpt-4o-mini"))
    assert result.returncode == 0, result.stdout
    assert server.peak_in_flight == 3


def test_task_created_before_the_context_is_not_counted(sections):
    assert usage(sections[5]) == scaled(1)
    assert openai_counts(sections[5])[0][:2] == (18, 1)


def test_conversation_prompt_grows_each_turn_and_adds_up(sections):
    turns = [
        tuple(map(int, t))
        for t in re.findall(r"turn \d: (\d+) in \+ (\d+) out = (\d+)", sections[6])
    ]
    assert len(turns) == 3
    inputs = [t[0] for t in turns]
    assert inputs[0] < inputs[1] < inputs[2]
    # Each prompt is the previous one plus the model's reply and the next question, each
    # framed by 3 tokens (the offline model counts like OpenAI: prompt_tokens in
    # tutorial_env/offline/replies.py).
    questions = flower_shop_questions()
    for turn in (1, 2):
        reply_tokens = turns[turn - 1][1]
        question_tokens = len(tokenize(questions[turn]))
        assert inputs[turn] == inputs[turn - 1] + (3 + reply_tokens) + (3 + question_tokens)
    total = tuple(sum(column) for column in zip(*turns, strict=True))
    assert usage(sections[6]) == [("gpt-4o-mini", *total)]
    assert openai_counts(sections[6])[0][:2] == (total[2], 3)


def test_community_sunset_is_said_once_not_swallowed(output):
    assert output.count("langchain-community, which is being sunset") == 1
    assert "DeprecationWarning" not in output


def flower_shop_questions() -> list[str]:
    """The lesson's FLOWER_SHOP list, read from its source without running it."""
    tree = ast.parse((ROOT / LESSON).read_text(encoding="utf-8"))
    (value,) = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and node.targets[0].id == "FLOWER_SHOP"
    ]
    return ast.literal_eval(value)
