"""Lessons against a model that skips the tools it is offered, as weak local models do
(TUTORIAL_OFFLINE_IGNORE_TOOLS=1): lessons 1, 2, 9 and 11 need a tool call for their point,
so each ends cleanly and says in one line that the model did not call the tool. Lessons 13
and 14 test the same in their own modules."""

import pytest
from lessons import callback_errors, offline_env, run_lesson

from tutorial_env import SKIPPED_TOOL

NEEDS_A_TOOL_CALL = [
    "callbacks_runtime.py",
    "callbacks_attach.py",
    "agent_callbacks.py",
    "otel_export.py",
]


@pytest.mark.parametrize("lesson", NEEDS_A_TOOL_CALL)
@pytest.mark.parametrize("model", ["gpt-4o-mini"])  # Chat Completions, as a local model speaks
def test_a_skipped_tool_ends_in_a_note_not_a_traceback_or_silence(lesson, model):
    result = run_lesson(
        lesson, env=offline_env(OPENAI_MODEL=model, TUTORIAL_OFFLINE_IGNORE_TOOLS="1")
    )
    assert result.returncode == 0, result.stdout
    assert "Traceback" not in result.stdout
    assert not callback_errors(result.stdout, lesson)
    assert SKIPPED_TOOL in result.stdout
    assert "the model asked for" not in result.stdout and "tool  multiply" not in result.stdout
