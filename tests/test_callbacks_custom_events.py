import ast
import json
import re

from lessons import ROOT, section

from tutorial_env.offline import text_reply, tokenize

LESSON = "callbacks_custom_events.py"
ANSWER = text_reply("What is 6 * 7?")


def case_report_in_lesson():
    tree = ast.parse((ROOT / LESSON).read_text(encoding="utf-8"))
    assign = next(
        node
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "CASE_REPORT"
    )
    return ast.literal_eval(assign.value)


def test_async_events_arrive_in_dispatch_order_with_japanese_intact(output):
    events = re.findall(r"^on_custom_event: (\w+) (.*)$", section(output, 1), re.MULTILINE)
    assert [name for name, _ in events] == ["case_opened", "case_report", "case_closed"]
    report = case_report_in_lesson()
    assert events[1][1] == json.dumps(report, ensure_ascii=False)
    assert json.loads(events[1][1]) == report
    assert "容疑者" in events[1][1] and "\\u" not in events[1][1]


def test_sync_dispatch_reaches_the_handler(output):
    part = section(output, 2)
    assert (
        '[on_custom_event] words_counted: {"text": "callbacks are just events", "words": 4}' in part
    )
    assert "Result: 4 words" in part


def test_custom_and_model_events_share_one_stream(output):
    lines = section(output, 3).splitlines()
    order = [
        line.split(":")[0].split(" x")[0] + (":" + line.split()[1] if "custom" in line else "")
        for line in lines
        if line.startswith("on_")
    ]
    assert order == [
        "on_custom_event:question_received",
        "on_chat_model_start",
        "on_chat_model_stream",
        "on_chat_model_end",
        "on_custom_event:answer_reviewed",
    ]
    streamed = re.search(r"^on_chat_model_stream x(\d+): (\[.*\])$", "\n".join(lines), re.M)
    texts = ast.literal_eval(streamed[2])
    assert int(streamed[1]) == len(texts) > len(tokenize(ANSWER))
    assert "".join(texts) == ANSWER
