import ast
import re

import pytest
from failures import online_env
from genai_prices import Usage, calc_price
from langchain_community.callbacks.openai_info import MODEL_COST_PER_1K_TOKENS
from lessons import ROOT, offline_env, run_lesson, uses_responses_api

from tutorial_env.offline import FakeOpenAIServer, reasoning_tokens, tokenize

LESSON = "token_counting.py"
USAGE = re.compile(
    r"usage_metadata   ([\w.-]+): (\d+) in \+ (\d+) out = (\d+) tokens"
    r"(?: \((\d+) of them reasoning, billed as output\))?"
)
PRICE = re.compile(r"genai-prices     (?:\$(\d+\.\d+)|(no price known for .*))$", re.M)
OPENAI = re.compile(r"openai callback  (\d+) tokens in (\d+) request\(s\), \$(\d+\.\d+)")
ADDS_UP = re.compile(
    r"each call's own usage_metadata: ([\d + ]+) = (\d+) tokens;\n"
    r"  the context counted (\d+): (the same|DIFFERENT)"
)
TRAP = "[trap] get_openai_callback priced"
# The offline model's count for "What is 1 + 2?": 3 + (3 + 6) prompt tokens, "1 + 2 = 3." is 6,
# plus the reasoning tokens of a reasoning model.
ANSWER_TOKENS = 6


def one_call(model):
    output = ANSWER_TOKENS + reasoning_tokens(model)
    return (12, output, 12 + output)


@pytest.fixture(scope="module")
def sections(output):
    return split_sections(output)


def split_sections(output):
    return {int(m[1]): m[2] for m in re.finditer(r"== (\d)\.(.*?)(?=\n== |\Z)", output, re.S)}


def usage(part):
    return [(model, *map(int, rest[:3])) for model, *rest in USAGE.findall(part)]


def openai_counts(part):
    return [(int(t), int(r), float(c)) for t, r, c in OPENAI.findall(part)]


def scaled(model, n):
    return [(model, *(n * x for x in one_call(model)))]


def genai_price(model, input_tokens, output_tokens, provider="openai"):
    """genai-prices' own figure for this usage, as the lesson prints it."""
    usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
    return f"{calc_price(usage, model, provider_id=provider).total_price:.7f}"


def check_priced(part, model):
    """Every count in a section is priced by genai-prices, and the $0 trap said where it is."""
    counts = USAGE.findall(part)
    prices = PRICE.findall(part)
    assert counts and len(prices) == len(counts)
    for (name, tokens_in, tokens_out, _, reasoning), (dollars, unknown) in zip(
        counts, prices, strict=True
    ):
        assert name == model and not unknown
        assert dollars == genai_price(model, int(tokens_in), int(tokens_out))
        assert int(reasoning or 0) == int(tokens_out) // one_call(model)[1] * reasoning_tokens(
            model
        )
    assert (TRAP in part) == (model not in MODEL_COST_PER_1K_TOKENS)


def test_one_call_exact_tokens_priced_by_genai_prices_beside_the_callbacks_table(sections, model):
    assert usage(sections[1]) == scaled(model, 1)
    check_priced(sections[1], model)
    tokens, requests, cost = openai_counts(sections[1])[0]
    assert (tokens, requests) == (one_call(model)[2], 1)
    prices = MODEL_COST_PER_1K_TOKENS
    if model not in prices:  # the table stops at gpt-5: it prices a newer model at $0
        assert cost == 0
        return
    input_tokens, output_tokens, _ = one_call(model)
    expected = (input_tokens * prices[model] + output_tokens * prices[f"{model}-completion"]) / 1000
    assert cost > 0 and cost == pytest.approx(expected, abs=5e-8)


def test_two_calls_the_total_is_the_sum_of_both(sections, model):
    assert usage(sections[2]) == scaled(model, 2)
    check_priced(sections[2], model)
    assert openai_counts(sections[2])[0][:2] == (2 * one_call(model)[2], 2)
    assert ADDS_UP.findall(sections[2]) == [
        (
            f"{one_call(model)[2]} + {one_call(model)[2]}",
            *[str(2 * one_call(model)[2])] * 2,
            "the same",
        )
    ]


def test_stream_with_usage_counts_and_without_it_only_on_the_responses_api(sections, model):
    part = sections[3]
    counts = openai_counts(part)
    assert counts[0][:2] == (one_call(model)[2], 1)
    assert "stream_usage=None" in part
    check_priced(part, model)
    if uses_responses_api(model, tools=False):  # it always sends usage
        assert usage(part) == scaled(model, 1) * 2
        assert counts[1][:2] == (one_call(model)[2], 1)
    else:
        assert usage(part) == scaled(model, 1)
        assert counts[1] == (0, 0, 0.0)
        assert "(nothing counted)" in part


def test_gather_of_three_the_total_is_the_sum_of_the_three(sections, model):
    assert usage(sections[4]) == scaled(model, 3)
    check_priced(sections[4], model)
    assert openai_counts(sections[4])[0][:2] == (3 * one_call(model)[2], 3)
    assert ADDS_UP.findall(sections[4])[0][3] == "the same"


def test_the_three_calls_of_section_4_really_run_at_once():
    """Three awaits one after another would count the same tokens; the server sees the
    difference. Each reply is held until three calls are in flight at once, for at most 0.5 s,
    so calls in flight together overlap for sure, even when a busy machine starts the third a
    tenth of a second after the first; one after another, they never would."""
    with FakeOpenAIServer(token_delay=0, fault="", reply_delay=0.5, hold_until=3) as server:
        result = run_lesson(LESSON, env=online_env(server.base_url, OPENAI_MODEL="gpt-4o-mini"))
    assert result.returncode == 0, result.stdout
    assert server.peak_in_flight == 3


def test_task_created_before_the_context_is_not_counted(sections, model):
    assert usage(sections[5]) == scaled(model, 1)
    assert ADDS_UP.findall(sections[5])[0][3] == "the same"
    assert openai_counts(sections[5])[0][:2] == (one_call(model)[2], 1)


def test_conversation_prompt_grows_each_turn_and_adds_up(sections, model):
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
        reply_tokens = turns[turn - 1][1] - reasoning_tokens(model)  # the visible reply
        question_tokens = len(tokenize(questions[turn]))
        assert inputs[turn] == inputs[turn - 1] + (3 + reply_tokens) + (3 + question_tokens)
    total = tuple(sum(column) for column in zip(*turns, strict=True))
    assert usage(sections[6]) == [(model, *total)]
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


def test_answers_that_vary_from_call_to_call_still_add_up():
    """A real model answers the same question differently each time; the lesson promises
    only what holds then: each context's total is the sum of its calls' own usage."""
    result = run_lesson(LESSON, env=offline_env(TUTORIAL_OFFLINE_VARY="1"))
    assert result.returncode == 0, result.stdout
    parts = split_sections(result.stdout)
    for number in (2, 4):
        own, summed, counted, verdict = ADDS_UP.findall(parts[number])[0]
        calls = [int(n) for n in own.split(" + ")]
        assert len(set(calls)) == len(calls)  # the answers really varied
        assert sum(calls) == int(summed) == int(counted) and verdict == "the same"
    assert "DIFFERENT" not in result.stdout


def test_a_model_with_no_known_price_says_so_and_never_prices_it_at_zero():
    result = run_lesson(LESSON, env=offline_env(OPENAI_MODEL="llama3.2"))
    assert result.returncode == 0, result.stdout
    prices = PRICE.findall(result.stdout)
    assert prices and all(
        unknown == "no price known for llama3.2 at api.openai.com" for _, unknown in prices
    )
    assert TRAP not in result.stdout


PRICED_AT_DEEPSEEK = """
import token_counting as lesson
print(lesson.PRICED_AT)
print(lesson.price("deepseek-flash", {"input_tokens": 1000, "output_tokens": 500}))
print(lesson.price("qwen-plus", {"input_tokens": 1000, "output_tokens": 500}))
"""


def test_a_provider_model_is_priced_under_the_provider_its_base_url_names(tmp_path):
    script = tmp_path / "price_at_deepseek.py"
    script.write_text(PRICED_AT_DEEPSEEK, encoding="utf-8")
    env = online_env("https://api.deepseek.com", OPENAI_MODEL="deepseek-flash")
    result = run_lesson(str(script), env=env)  # sends no request: it only imports the lesson
    assert result.returncode == 0, result.stdout
    priced_at, deepseek, qwen = result.stdout.split()
    assert priced_at == "https://api.deepseek.com"
    expected = calc_price(
        Usage(input_tokens=1000, output_tokens=500), "deepseek-flash", provider_id="deepseek"
    )
    assert deepseek == str(expected.total_price)
    assert qwen == "None"  # DeepSeek does not serve it: no price, not $0
