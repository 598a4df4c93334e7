import pytest
from failures import assert_one_message, on_both_apis, online_env
from lessons import callback_errors, offline_env, run_lesson, section

from tutorial_env import SKIPPED_TOOL

LESSON = "agent_interrupts.py"
NODE = "HumanInTheLoopMiddleware.after_model"


def tree(part):
    """The tracer's run tree printed in a section, without the [tracer] prefix."""
    return [line.removeprefix("[tracer] ") for line in part.splitlines() if line[:8] == "[tracer]"]


def test_on_interrupt_fires_once_with_the_tool_calls_payload(output):
    part = section(output, 1)
    assert output.count("[on_interrupt]") == 1 and "[on_resume]" not in part
    lines = part.splitlines()
    at = lines.index("[on_interrupt] status='pending', 1 interrupt:")
    assert lines[at + 1] == "  approve multiply {'a': 6, 'b': 7}? " + str(
        ["approve", "edit", "reject", "respond"]
    )
    # after the paused node's error, before the root's end
    assert lines[at - 1].startswith("[handler] on_chain_error: GraphInterrupt((Interrupt(value=")
    assert lines[at + 2] == "[handler] on_chain_end: the root, without an error"
    assert "invoke returned ['__interrupt__', 'messages']" in part


def test_on_resume_fires_once_on_resume_from_the_pauses_checkpoint(output):
    part = section(output, 2)
    assert output.count("[on_resume]") == 1 and "[on_interrupt]" not in part
    assert part.splitlines()[1:4] == [
        "[handler] on_chain_start: LangGraph, the root",
        "[on_resume] status='pending', from the pause's checkpoint: True",
        "[handler] on_chain_end: the root, without an error",
    ]
    assert "Answer: The multiply tool returned 42, so the answer is 42." in part


def test_the_first_calls_tree_stops_at_the_paused_node(output):
    assert tree(section(output, 1)) == [
        "chain LangGraph",
        "  chain model  step 1",
        "    llm ChatOpenAI",
        f"  chain {NODE}  step 2  error: GraphInterrupt",
    ]


def test_the_resumed_calls_tree_reruns_the_node_then_runs_the_tool_and_the_model(output):
    assert tree(section(output, 2)) == [
        "chain LangGraph  inputs={'input': Command(resume={'decisions': [{'type': 'approve'}]})}",
        f"  chain {NODE}  step 2",
        "  chain tools  step 3",
        "    tool multiply  inputs={'a': 6, 'b': 7}",
        "  chain model  step 4",
        "    llm ChatOpenAI",
        f"  chain {NODE}  step 5",
    ]


def test_a_plain_handler_hears_no_lifecycle_event(output):
    assert "the plain handler's own on_interrupt and on_resume ran 0 times" in section(output, 2)
    assert "[handler] on_interrupt" not in output


def test_the_two_calls_are_two_roots_tied_by_the_thread_id(output):
    assert section(output, 3).splitlines()[1:] == [
        "roots: 2, parent_run_id: None and None",
        "one trace id for both: False",
        "on_interrupt's run_id is root 1's: True",
        "on_resume's run_id is root 2's:    True",
        "metadata both roots carry: "
        "{'ls_integration': 'langchain_create_agent', 'thread_id': 'order-1'}",
    ]


def test_each_decision_fires_both_events_once_and_only_approve_and_edit_run_the_tool(output):
    rows = {line.split()[0]: line.split(None, 3) for line in section(output, 4).splitlines()[2::2]}
    assert rows["approve"] == ["approve", "1", "1", "{'a': 6, 'b': 7}  multiply {'a': 6, 'b': 7}"]
    assert rows["edit"] == ["edit", "1", "1", "{'a': 6, 'b': 7}  multiply {'a': 6, 'b': 8}"]
    assert rows["reject"] == ["reject", "1", "1", "{'a': 6, 'b': 7}  none"]
    replies = section(output, 4).splitlines()[3::2]
    assert replies[0] == "  ToolMessage(status='success'): '42'"
    assert replies[1].startswith("  ToolMessage(status='success'): '<edit_notice> Executed inst")
    assert replies[1].endswith("\\n48'")
    assert replies[2] == (
        "  ToolMessage(status='error'): "
        "'User rejected the tool call for `multiply` with reason: not now'"
    )


@on_both_apis
@pytest.mark.parametrize("faulty_server", ["401"], indirect=True)
def test_an_invalid_key_ends_in_one_clear_line(faulty_server, model):
    result = run_lesson(LESSON, env=online_env(faulty_server.base_url, OPENAI_MODEL=model))
    assert_one_message(result, 1, "HTTP 401", "OPENAI_API_KEY", "sk-...abcd")


@on_both_apis
@pytest.mark.parametrize("faulty_server", ["disconnect"], indirect=True)
def test_a_dropped_connection_ends_in_one_clear_line(faulty_server, model):
    result = run_lesson(LESSON, env=online_env(faulty_server.base_url, OPENAI_MODEL=model))
    message = assert_one_message(result, 1, "dropped before any answer came back")
    assert "Could not connect" not in message


def test_a_model_that_skips_the_tool_ends_in_the_note_not_a_traceback():
    env = offline_env(OPENAI_MODEL="gpt-4o-mini", TUTORIAL_OFFLINE_IGNORE_TOOLS="1")
    result = run_lesson(LESSON, env=env)
    assert result.returncode == 0, result.stdout
    assert "Traceback" not in result.stdout and not callback_errors(result.stdout, LESSON)
    assert result.stdout.rstrip().endswith(SKIPPED_TOOL)
    assert "[on_interrupt]" not in result.stdout and "== 2." not in result.stdout
