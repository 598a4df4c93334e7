""".ci/phoenix-check's comparison of the probe's spans with Phoenix's, and Phoenix's own lock.

CI runs the check against a real Phoenix; these tests need no Phoenix: they show that the
comparison fails on each kind of difference it is there to catch, and passes on the same tree
with the attributes Phoenix derives of its own.
"""

import hashlib
import importlib.util
import re

from lessons import ROOT
from packaging.requirements import Requirement

_spec = importlib.util.spec_from_file_location("phoenix_check", ROOT / ".ci" / "phoenix_check.py")
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)

CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-6-luna",
    "gen_ai.response.finish_reasons": ["tool_calls"],
    "gen_ai.usage.input_tokens": 20,
    "gen_ai.usage.output_tokens": 7,
}
TOOL = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather"}
AGENT = {"gen_ai.operation.name": "invoke_agent", "gen_ai.provider.name": "openai"}
DERIVED = {"llm.model_name": "gpt-6-luna", "llm.token_count.total": 27, "tool.name": "get_weather"}


def probe(*spans):
    """The probe's JSON: (name, kind, parent, attributes) each."""
    return [dict(name=n, kind=k, parent=p, attributes=a) for n, k, p, a in spans]


def phoenix(*spans):
    """Phoenix's REST `data` items: (span id, name, parent id, attributes) each."""
    return [
        {"name": name, "context": {"span_id": span_id}, "parent_id": parent, "attributes": attrs}
        for span_id, name, parent, attrs in spans
    ]


SENT = probe(
    ("invoke_agent agent", "INTERNAL", None, AGENT),
    ("chat gpt-6-luna", "CLIENT", "invoke_agent agent", CHAT),
    ("execute_tool get_weather", "INTERNAL", "invoke_agent agent", TOOL),
    ("chat gpt-6-luna", "CLIENT", "invoke_agent agent", CHAT | {"gen_ai.usage.input_tokens": 35}),
)


def stored(**changes):
    """What Phoenix gives back for SENT, with its derived attributes, in another order."""
    spans = {
        "chat2": ("chat gpt-6-luna", "a", CHAT | {"gen_ai.usage.input_tokens": 35} | DERIVED),
        "tool": ("execute_tool get_weather", "a", TOOL | {"tool.name": "get_weather"}),
        "chat1": ("chat gpt-6-luna", "a", CHAT | DERIVED),
        "a": ("invoke_agent agent", None, AGENT),
    }
    spans.update(changes)
    return phoenix(*((span_id, *span) for span_id, span in spans.items() if span))


def problems(spans):
    return check.compare_trees(check.probe_tree(SENT), check.phoenix_tree(spans))


def test_the_same_tree_with_attributes_phoenix_derives_passes():
    assert problems(stored()) == []
    derived = check.derived_keys(check.probe_tree(SENT), check.phoenix_tree(stored()))
    assert derived == sorted(DERIVED)


def test_a_span_under_another_parent_fails():
    moved = stored(tool=("execute_tool get_weather", "chat1", TOOL))
    assert problems(moved) == [
        "'execute_tool get_weather' under 'invoke_agent agent': the probe sent 1, Phoenix has 0",
        "'execute_tool get_weather' under 'chat gpt-6-luna': the probe sent 0, Phoenix has 1",
    ]


def test_a_parent_phoenix_does_not_have_fails():
    orphan = stored(tool=("execute_tool get_weather", "gone", TOOL))
    assert any("under '<missing gone>'" in problem for problem in problems(orphan))


def test_a_missing_span_an_extra_span_and_a_renamed_span_fail():
    assert problems(stored(tool=None)) == [
        "'execute_tool get_weather' under 'invoke_agent agent': the probe sent 1, Phoenix has 0"
    ]
    extra = stored(extra=("execute_tool other", "a", TOOL))
    assert problems(extra) == [
        "'execute_tool other' under 'invoke_agent agent': the probe sent 0, Phoenix has 1"
    ]
    renamed = stored(a=("invoke_agent other", None, AGENT))
    assert "'invoke_agent agent' (a root): the probe sent 1, Phoenix has 0" in problems(renamed)


def test_an_attribute_changed_dropped_or_retyped_fails():
    cases = {
        "gen_ai.usage.input_tokens: sent 20, Phoenix has 21": {"gen_ai.usage.input_tokens": 21},
        "gen_ai.usage.output_tokens: sent 7, Phoenix has '7'": {"gen_ai.usage.output_tokens": "7"},
        "gen_ai.usage.output_tokens: sent 7, Phoenix has 7.0": {"gen_ai.usage.output_tokens": 7.0},
        "gen_ai.response.finish_reasons: sent ['tool_calls'], Phoenix has 'tool_calls'": {
            "gen_ai.response.finish_reasons": "tool_calls"
        },
    }
    for expected, change in cases.items():
        found = problems(stored(chat1=("chat gpt-6-luna", "a", CHAT | change)))
        assert found == [
            f"'chat gpt-6-luna' under 'invoke_agent agent': attributes differ: {expected}"
        ]
    dropped = {k: v for k, v in CHAT.items() if k != "gen_ai.request.model"}
    (found,) = problems(stored(chat1=("chat gpt-6-luna", "a", dropped)))
    assert found.endswith("gen_ai.request.model missing (sent 'gpt-6-luna')")


def test_true_is_not_1():
    assert not check.same_value(True, 1) and not check.same_value(1, True)
    assert check.same_value([1, "a"], [1, "a"]) and not check.same_value([1], [1, 2])


def test_an_attribute_phoenix_added_outside_its_derived_ones_fails():
    added = stored(a=("invoke_agent agent", None, AGENT | {"gen_ai.system": "openai"}))
    (found,) = problems(added)
    assert found.endswith("attributes differ: gen_ai.system='openai' added, not derived")


def test_spans_with_the_same_name_and_parent_pair_up_by_their_attributes():
    swapped = stored(
        chat1=("chat gpt-6-luna", "a", CHAT | {"gen_ai.usage.input_tokens": 35}),
        chat2=("chat gpt-6-luna", "a", CHAT),
    )
    assert problems(swapped) == []
    both_first = stored(chat2=("chat gpt-6-luna", "a", CHAT))
    assert problems(both_first) == [
        "'chat gpt-6-luna' under 'invoke_agent agent': attributes differ: "
        "gen_ai.usage.input_tokens: sent 35, Phoenix has 20"
    ]


def test_phoenix_has_its_own_lock_compiled_from_its_own_requirements():
    lock = (ROOT / "requirements-phoenix.txt").read_text(encoding="utf-8").splitlines()
    recorded = re.fullmatch(r"# requirements-phoenix.in sha256: ([0-9a-f]{64})", lock[0])
    assert recorded, "requirements-phoenix.txt was not written by `make lock-phoenix`"
    wanted = (ROOT / "requirements-phoenix.in").read_bytes()
    assert recorded[1] == hashlib.sha256(wanted).hexdigest(), "run `make lock-phoenix` again"
    pins = {Requirement(line).name: line for line in lock if line and line[0] not in " #"}
    assert pins["arize-phoenix"] == "arize-phoenix==20.26.1"
    lessons_lock = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert "arize-phoenix" not in lessons_lock  # it stays out of the lessons' lock


def test_where_the_probe_gives_ids_each_span_must_be_in_phoenix_under_its_own():
    sent = [
        dict(name="invoke_agent agent", span_id="a", trace_id="t", parent_span_id=None),
        dict(name="chat gpt-6-luna", span_id="c", trace_id="t", parent_span_id="a"),
    ]

    def phoenix_span(span_id, name, parent, trace="t"):
        return dict(name=name, context=dict(span_id=span_id, trace_id=trace), parent_id=parent)

    same = [
        phoenix_span("a", "invoke_agent agent", None),
        phoenix_span("c", "chat gpt-6-luna", "a"),
    ]
    assert check.compare_ids(sent, same) == []
    assert check.compare_ids(sent, [same[0], phoenix_span("c", "chat gpt-6-luna", None)]) == [
        "span c: parent_span_id 'a', Phoenix None"
    ]
    assert check.compare_ids(sent, [same[0], phoenix_span("c", "chat gpt-6-luna", "a", "u")]) == [
        "span c: trace_id 't', Phoenix 'u'"
    ]
    assert check.compare_ids(sent, [same[0], phoenix_span("d", "chat gpt-6-luna", "a")]) == [
        "span c ('chat gpt-6-luna') not in Phoenix",
        "span d ('chat gpt-6-luna') only in Phoenix",
    ]
