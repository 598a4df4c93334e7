"""The claims ledger for lesson 14, "Callbacks on an agent that pauses for a human":
HumanInTheLoopMiddleware's pause and resume, as LangGraph's GraphCallbackHandler, a plain
handler and a tracer meet them.

Each test proves one sentence of that README section, marked `<!-- claim: hitl-... -->`,
against the pinned packages and the offline model. A sentence that does not name an API is
proved on both: gpt-4o-mini's calls go to Chat Completions, gpt-6-luna's agent turns (which
carry tools) to the Responses API.
"""

import logging
from dataclasses import dataclass, field

import pytest
from claims import claim
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.callbacks import BaseCallbackHandler, BaseCallbackManager
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langchain_core.tracers import BaseTracer
from langchain_openai import ChatOpenAI
from langgraph.callbacks import GraphCallbackHandler, GraphInterruptEvent, GraphResumeEvent
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.errors import GraphBubbleUp, GraphInterrupt
from langgraph.types import Command, Interrupt
from lessons import MODELS, expected_output
from tracers import Collector, runs

SECTION = "14."
LESSON = "agent_interrupts.py"
QUESTION = {"messages": [{"role": "user", "content": "What is 6 * 7? Use the multiply tool."}]}
NODE = "HumanInTheLoopMiddleware.after_model"
APPROVE = {"type": "approve"}
EDIT = {"type": "edit", "edited_action": {"name": "multiply", "args": {"a": 6, "b": 8}}}
REJECT = {"type": "reject", "message": "not now"}
# One model per API: every agent turn carries tools, so gpt-6-luna's go to Responses.
ON_BOTH_APIS = pytest.mark.parametrize(
    "model", [pytest.param("gpt-4o-mini", id="chat"), pytest.param("gpt-6-luna", id="responses")]
)


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


class Timeline(GraphCallbackHandler):
    """Every hook in the order it fired, LangGraph's lifecycle events among them."""

    def __init__(self):
        self.events, self.names, self.tool_inputs = [], {}, []
        self.interrupts, self.resumes = [], []

    def on_chain_start(self, serialized, inputs, *, run_id, parent_run_id=None, **kwargs):
        self.names[run_id] = kwargs["name"]
        self.events.append(("chain_start", kwargs["name"], parent_run_id is None))

    def on_chain_end(self, outputs, *, run_id, parent_run_id=None, **kwargs):
        self.events.append(("chain_end", self.names[run_id], parent_run_id is None))

    def on_chain_error(self, error, *, run_id, parent_run_id=None, **kwargs):
        self.events.append(("chain_error", self.names[run_id], type(error)))

    def on_chat_model_start(self, serialized, messages, **kwargs):
        self.events.append(("chat_model_start",))

    def on_tool_start(self, serialized, input_str, *, inputs=None, **kwargs):
        self.events.append(("tool_start", serialized["name"]))
        self.tool_inputs.append(inputs)

    def on_interrupt(self, event):
        self.events.append(("on_interrupt",))
        self.interrupts.append(event)

    def on_resume(self, event):
        self.events.append(("on_resume",))
        self.resumes.append(event)


class PlainHandler(BaseCallbackHandler):
    """Not a GraphCallbackHandler, yet it defines the two lifecycle hooks, and more."""

    def __init__(self):
        self.lifecycle, self.errors = [], []

    def on_interrupt(self, event):
        self.lifecycle.append(event)

    def on_resume(self, event):
        self.lifecycle.append(event)

    def on_chain_error(self, error, **kwargs):
        self.errors.append(error)


@dataclass
class Call:
    result: dict
    timeline: Timeline = field(default_factory=Timeline)
    plain: PlainHandler = field(default_factory=PlainHandler)


@dataclass
class PauseAndResume:
    first: Call
    second: Call
    roots: list  # what one tracer, passed to both calls, received


def agent_for(server, model="gpt-6-luna", checkpointer=True):
    llm = ChatOpenAI(model=model, base_url=server.base_url, api_key="sk-test", max_retries=0)
    hitl = HumanInTheLoopMiddleware(interrupt_on={"multiply": True})
    saver = InMemorySaver() if checkpointer else None
    return create_agent(llm, tools=[multiply], middleware=[hitl], checkpointer=saver)


def pause_and_resume(server, model="gpt-6-luna", decision=APPROVE) -> PauseAndResume:
    """The lesson's two calls on one thread, each heard by its own handlers, one tracer."""
    agent, tracer, calls = agent_for(server, model), Collector(), []
    for payload in (QUESTION, Command(resume={"decisions": [decision]})):
        timeline, plain = Timeline(), PlainHandler()
        config = {"configurable": {"thread_id": "t-1"}, "callbacks": [timeline, plain, tracer]}
        calls.append(Call(agent.invoke(payload, config=config), timeline, plain))
    return PauseAndResume(*calls, roots=tracer.roots)


def position(events, event):
    assert events.count(event) == 1, (event, events)
    return events.index(event)


# --- The pause ----------------------------------------------------------------------------


@claim("hitl-pause-before-tool", SECTION)
@ON_BOTH_APIS
def test_the_first_call_returns_an_interrupt_before_the_tool_runs(fake, model):
    first = pause_and_resume(fake, model).first
    assert sorted(first.result) == ["__interrupt__", "messages"]
    asked = first.result["messages"][-1]
    assert isinstance(asked, AIMessage) and asked.tool_calls[0]["name"] == "multiply"
    assert not any(event[0] == "tool_start" for event in first.timeline.events)
    assert ("chain_start", "tools", False) not in first.timeline.events


@claim("hitl-on-interrupt-payload", SECTION)
@ON_BOTH_APIS
def test_on_interrupt_fires_once_with_status_checkpoint_and_what_the_human_is_asked(fake, model):
    both = pause_and_resume(fake, model)
    assert both.first.timeline.events.count(("on_interrupt",)) == 1
    assert both.second.timeline.events.count(("on_interrupt",)) == 0
    (event,) = both.first.timeline.interrupts
    assert isinstance(event, GraphInterruptEvent)
    assert event.status == "pending" and event.checkpoint_id and event.checkpoint_ns == ()
    (interrupt,) = event.interrupts
    assert isinstance(interrupt, Interrupt)
    assert interrupt.value == {
        "action_requests": [
            {
                "name": "multiply",
                "args": {"a": 6, "b": 7},
                "description": "Tool execution requires approval\n\n"
                "Tool: multiply\nArgs: {'a': 6, 'b': 7}",
            }
        ],
        "review_configs": [
            {
                "action_name": "multiply",
                "allowed_decisions": ["approve", "edit", "reject", "respond"],
            }
        ],
    }
    assert interrupt == both.first.result["__interrupt__"][0]  # what invoke returned, too


@claim("hitl-interrupt-order", SECTION)
@ON_BOTH_APIS
def test_on_interrupt_fires_after_the_node_fails_and_before_the_root_ends(fake, model):
    events = pause_and_resume(fake, model).first.timeline.events
    failed = position(events, ("chain_error", NODE, GraphInterrupt))
    paused = position(events, ("on_interrupt",))
    ended = position(events, ("chain_end", "LangGraph", True))
    assert failed < paused < ended == len(events) - 1


# --- The resume ---------------------------------------------------------------------------


@claim("hitl-resume-event", SECTION)
@ON_BOTH_APIS
def test_on_resume_fires_once_after_the_new_root_starts_from_the_pauses_checkpoint(fake, model):
    both = pause_and_resume(fake, model)
    events = both.second.timeline.events
    assert position(events, ("on_resume",)) == 1
    assert events[0] == ("chain_start", "LangGraph", True)
    assert both.first.timeline.events.count(("on_resume",)) == 0
    (event,) = both.second.timeline.resumes
    assert isinstance(event, GraphResumeEvent) and event.status == "pending"
    assert event.checkpoint_id == both.first.timeline.interrupts[0].checkpoint_id
    assert both.second.result["messages"][-1].text.endswith("the answer is 42.")


@claim("hitl-resume-format", SECTION)
def test_the_middleware_wants_one_decision_per_paused_tool_call(fake):
    agent = agent_for(fake)
    for count, decisions in enumerate(([], [APPROVE], [APPROVE, APPROVE])):
        config = {"configurable": {"thread_id": f"t-count-{count}"}}
        agent.invoke(QUESTION, config=config)
        resume = Command(resume={"decisions": decisions})
        if count == 1:
            assert agent.invoke(resume, config=config)["messages"][-1].text.endswith("is 42.")
            continue
        with pytest.raises(ValueError, match=rf"^Number of human decisions \({count}\) does not"):
            agent.invoke(resume, config=config)


@claim("hitl-resume-means-checkpoint", SECTION)
def test_on_resume_fires_for_any_command_or_none_on_a_thread_with_a_checkpoint(fake):
    agent, fired = agent_for(fake), {}
    question = {"messages": [{"role": "user", "content": "Tell me a joke about cats"}]}
    steps = {
        "a question, new thread": question,  # answered without a tool: nothing pauses
        "a question, same thread": question,
        "None": None,
        "Command(resume=...)": Command(resume={"decisions": [APPROVE]}),
        "Command(update=...)": Command(update={"messages": []}),
    }
    for step, payload in steps.items():
        timeline = Timeline()
        agent.invoke(
            payload, config={"configurable": {"thread_id": "t-done"}, "callbacks": [timeline]}
        )
        assert timeline.interrupts == [], step
        fired[step] = len(timeline.resumes)
    assert fired == {
        "a question, new thread": 0,
        "a question, same thread": 0,
        "None": 1,
        "Command(resume=...)": 1,
        "Command(update=...)": 1,
    }
    timeline = Timeline()  # a thread with no checkpoint yet: nothing to resume from
    agent.invoke(
        Command(resume={}), config={"configurable": {"thread_id": "t-new"}, "callbacks": [timeline]}
    )
    assert timeline.resumes == []


@claim("hitl-bad-resume-kept", SECTION)
def test_a_resume_that_raised_is_kept_and_every_later_resume_raises_it_again(fake):
    agent, config = agent_for(fake), {"configurable": {"thread_id": "t-stuck"}}
    agent.invoke(QUESTION, config=config)
    for decisions in ([], [APPROVE], [APPROVE]):
        with pytest.raises(ValueError, match=r"^Number of human decisions \(0\) does not"):
            agent.invoke(Command(resume={"decisions": decisions}), config=config)
    assert agent.get_state(config).next == (NODE,)  # still paused at the same node
    kept = agent.checkpointer.get_tuple(config).pending_writes
    assert [value for _, channel, value in kept if channel == "__resume__"][-1] == [
        {"decisions": []}  # the node's own resume value: the first answer, kept
    ]


@claim("hitl-only-graph-handlers", SECTION)
@ON_BOTH_APIS
def test_a_plain_handler_never_hears_the_lifecycle_events_even_if_it_defines_them(fake, model):
    both = pause_and_resume(fake, model)
    assert both.first.plain.lifecycle == [] and both.second.plain.lifecycle == []
    assert len(both.first.timeline.interrupts) == len(both.second.timeline.resumes) == 1


# --- What a plain handler or tracer sees --------------------------------------------------


@claim("hitl-pause-as-error", SECTION)
@ON_BOTH_APIS
def test_a_tracer_sees_the_pause_as_the_nodes_error_and_a_root_that_ends_normally(fake, model):
    both = pause_and_resume(fake, model)
    (error,) = both.first.plain.errors
    assert isinstance(error, GraphInterrupt)
    assert error.args[0][0] == both.first.timeline.interrupts[0].interrupts[0]  # the payload
    root = both.roots[0]
    assert root.error is None and root.end_time is not None
    assert list(root.outputs) == ["messages"]  # no __interrupt__, unlike invoke's result
    failed = [run for run in runs(root) if run.error]
    assert [run.name for run in failed] == [NODE]
    assert failed[0].error.startswith("GraphInterrupt((Interrupt(value={'action_requests'")


@claim("hitl-bubble-up", SECTION)
def test_graph_interrupt_is_a_graph_bubble_up():
    assert issubclass(GraphInterrupt, GraphBubbleUp)


@claim("hitl-two-roots", SECTION)
@ON_BOTH_APIS
def test_each_call_is_a_root_of_its_own_and_each_lifecycle_event_names_its_root(fake, model):
    both = pause_and_resume(fake, model)
    first, second = both.roots
    assert first.parent_run_id is None and second.parent_run_id is None
    assert first.id != second.id and first.trace_id != second.trace_id
    assert both.first.timeline.interrupts[0].run_id == first.id
    assert both.second.timeline.resumes[0].run_id == second.id


def tree(root):
    return [(run.run_type, run.name) for run in runs(root)]


@claim("hitl-resumed-tree", SECTION)
@ON_BOTH_APIS
def test_the_resumed_tree_reruns_the_paused_node_then_the_tool_and_the_model(fake, model):
    first, second = pause_and_resume(fake, model).roots
    assert tree(first) == [
        ("chain", "LangGraph"),
        ("chain", "model"),
        ("llm", "ChatOpenAI"),
        ("chain", NODE),
    ]
    assert tree(second) == [
        ("chain", "LangGraph"),
        ("chain", NODE),
        ("chain", "tools"),
        ("tool", "multiply"),
        ("chain", "model"),
        ("llm", "ChatOpenAI"),
        ("chain", NODE),
    ]
    paused, rerun = first.child_runs[-1], second.child_runs[0]
    assert paused.metadata["langgraph_step"] == rerun.metadata["langgraph_step"] == 2
    assert rerun.error is None and rerun.inputs == paused.inputs  # the same node, from its start
    assert second.inputs == {"input": Command(resume={"decisions": [APPROVE]})}


@claim("hitl-thread-id-metadata", SECTION)
@ON_BOTH_APIS
def test_every_run_of_both_calls_carries_the_thread_id_in_its_metadata(fake, model):
    first, second = pause_and_resume(fake, model).roots
    shared = dict(first.metadata.items() & second.metadata.items())
    assert shared == {"thread_id": "t-1", "ls_integration": "langchain_create_agent"}
    for root in (first, second):
        assert all(run.metadata["thread_id"] == "t-1" for run in runs(root))


# --- The decisions ------------------------------------------------------------------------


@claim("hitl-every-decision-once", SECTION)
@ON_BOTH_APIS
def test_whatever_the_decision_each_lifecycle_event_fires_once(fake, model):
    for decision in (APPROVE, EDIT, REJECT):
        both = pause_and_resume(fake, model, decision)
        assert both.first.timeline.events.count(("on_interrupt",)) == 1, decision
        assert both.second.timeline.events.count(("on_resume",)) == 1, decision
        assert both.first.timeline.events.count(("on_resume",)) == 0, decision
        assert both.second.timeline.events.count(("on_interrupt",)) == 0, decision


@claim("hitl-approve", SECTION)
@ON_BOTH_APIS
def test_an_approval_runs_the_tool_with_the_models_arguments(fake, model):
    second = pause_and_resume(fake, model, APPROVE).second
    assert second.timeline.tool_inputs == [{"a": 6, "b": 7}]
    assert second.result["messages"][2].text == "42"


@claim("hitl-edit", SECTION)
@ON_BOTH_APIS
def test_an_edit_runs_the_tool_with_the_edited_arguments_and_a_notice(fake, model):
    second = pause_and_resume(fake, model, EDIT).second
    assert second.timeline.tool_inputs == [{"a": 6, "b": 8}]
    asked, reply = second.result["messages"][1:3]
    assert asked.tool_calls[0]["args"] == {"a": 6, "b": 7}  # the model's own call stays
    notice = HumanInTheLoopMiddleware(interrupt_on={}).edit_notice
    assert isinstance(reply, ToolMessage) and reply.status == "success"
    assert reply.text.startswith(notice) and reply.text.endswith("\n48")


@claim("hitl-reject", SECTION)
@ON_BOTH_APIS
def test_a_rejection_runs_no_tool_and_gives_the_model_an_error_tool_message(fake, model):
    second = pause_and_resume(fake, model, REJECT).second
    events = second.timeline.events
    assert not any(event[0] == "tool_start" for event in events)
    assert ("chain_start", "tools", False) not in events
    assert events.count(("chat_model_start",)) == 1  # the model answers the rejection
    reply = second.result["messages"][2]
    assert isinstance(reply, ToolMessage) and reply.status == "error"
    assert reply.text == "User rejected the tool call for `multiply` with reason: not now"


@claim("hitl-same-on-both-apis", SECTION)
def test_the_callbacks_and_trees_are_the_same_on_both_apis(fake):
    heard = {}
    for model in ("gpt-4o-mini", "gpt-6-luna", "gpt-5.6-sol"):
        both = pause_and_resume(fake, model)
        events = [call.timeline.events for call in (both.first, both.second)]
        heard[model] = (events, [tree(root) for root in both.roots])
    assert heard["gpt-4o-mini"] == heard["gpt-6-luna"] == heard["gpt-5.6-sol"]
    printed = {expected_output(LESSON, model) for model in MODELS}
    assert len(printed) == 1 and len(MODELS) == 3


# --- Gotchas ------------------------------------------------------------------------------


class BareTracer(BaseTracer):
    """A tracer without on_interrupt or on_resume, as OpenInference's was."""

    def _persist_run(self, run):
        pass


class FixedTracer(BareTracer):
    """The fix: the two hooks, doing nothing."""

    def on_interrupt(self, event):
        pass

    def on_resume(self, event):
        pass


@claim("hitl-missing-hook-logged", SECTION)
@pytest.mark.parametrize("tracer_class", [BareTracer, FixedTracer])
def test_a_tracer_handed_the_lifecycle_events_without_the_methods_is_logged(
    fake, monkeypatch, caplog, tracer_class
):
    """OpenInference's instrumentor added its tracer to every callback manager, by wrapping
    BaseCallbackManager.__init__; LangGraph's graph callback manager is one too."""
    tracer = tracer_class()
    original = BaseCallbackManager.__init__

    def with_tracer(self, handlers, *args, **kwargs):
        original(self, handlers, *args, **kwargs)
        if tracer not in self.handlers:
            self.add_handler(tracer)

    monkeypatch.setattr(BaseCallbackManager, "__init__", with_tracer)
    with caplog.at_level(logging.WARNING, "langchain_core.callbacks.manager"):
        for _ in range(2):  # two pauses, two resumes
            pause_and_resume(fake)
    logged = [r.getMessage() for r in caplog.records]
    if tracer_class is FixedTracer:
        assert logged == []
        return
    for hook in ("on_interrupt", "on_resume"):
        line = (
            f"Error in BareTracer.{hook} callback: "
            f"AttributeError(\"'BareTracer' object has no attribute '{hook}'\")"
        )
        assert logged.count(line) == 2, logged
    assert len(logged) == 4


@claim("hitl-needs-checkpointer", SECTION)
def test_without_a_checkpointer_the_agent_pauses_but_cannot_resume(fake):
    agent, timeline = agent_for(fake, checkpointer=False), Timeline()
    paused = agent.invoke(QUESTION, config={"callbacks": [timeline]})
    assert "__interrupt__" in paused and len(timeline.interrupts) == 1
    with pytest.raises(RuntimeError, match=r"^Cannot use Command\(resume=\.\.\.\) without"):
        agent.invoke(Command(resume={"decisions": [APPROVE]}))
    with pytest.raises(ValueError, match="Checkpointer requires .* 'configurable' keys: thread_id"):
        agent_for(fake).invoke(QUESTION)
