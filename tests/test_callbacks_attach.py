from lessons import section

LESSON = "callbacks_attach.py"


def test_attached_handler_fires_on_every_invoke(output):
    part = section(output, 1)
    assert part.count("[attached] chain start: RunnableSequence  tags=['attached-tag']") == 2
    assert "The attached handler saw 16 events over 2 invokes." in part


def test_attached_and_runtime_handlers_both_fire(output):
    part = section(output, 2)
    for label in ("attached", "runtime"):
        assert f"[{label}] chat model start: ChatOpenAI" in part
    assert "The runtime handler saw 8 events; the attached one now has 24." in part


def test_with_config_before_bind_tools_drops_callbacks(output):
    part = section(output, 3)
    assert "[wrong order]" not in part
    assert "llm.with_config(callbacks=...).bind_tools(...): 0 events (silently lost)" in part
    assert "llm.bind_tools(...).with_config(callbacks=...): 2 events" in part


def test_a_model_that_calls_the_tool_gets_no_skipped_tool_note(output):
    assert "[note] the model answered without" not in output
