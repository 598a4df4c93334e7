import re

LESSON = "callbacks_constructor.py"


def counts(output):
    rows = re.findall(r"^(on_\w+) +(\d+) +(\d+)$", output, re.MULTILINE)
    return {hook: (int(ctor), int(rt)) for hook, ctor, rt in rows}


def test_constructor_handler_saw_no_chain_events(output):
    table = counts(output)
    assert table["on_chain_start"] == (0, 3)
    assert table["on_chain_end"] == (0, 3)
    assert not re.search(r"^\[constructor\] on_chain", output, re.MULTILINE)


def test_both_handlers_saw_the_model_run(output):
    table = counts(output)
    assert table["on_chat_model_start"] == (1, 1)
    assert table["on_llm_end"] == (1, 1)


def test_constructor_handler_fires_on_a_bare_model_call(output):
    bare = output.split("== 2.")[1]
    assert "[constructor] on_chat_model_start ChatOpenAI" in bare
    assert "[runtime" not in bare
