"""Callbacks on an agent that pauses for a human: interrupt, resume, two run trees.

`HumanInTheLoopMiddleware` pauses an agent before a tool runs. Only a `GraphCallbackHandler`
hears the pause and the resume; tracers see two calls and the pause as an error on one run.
Docs: https://docs.langchain.com/oss/python/langchain/human-in-the-loop

Run: python agent_interrupts.py
"""

import os

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.tools import tool
from langchain_core.tracers import BaseTracer
from langchain_openai import ChatOpenAI
from langgraph.callbacks import GraphCallbackHandler
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

import tutorial_env

tutorial_env.load()  # in place of load_dotenv(): your .env key, or the offline model

QUESTION = {"messages": [{"role": "user", "content": "What is 6 * 7? Use the multiply tool."}]}
DECISIONS = {
    "approve": {"type": "approve"},
    "edit": {"type": "edit", "edited_action": {"name": "multiply", "args": {"a": 6, "b": 8}}},
    "reject": {"type": "reject", "message": "not now"},
}


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


class PauseWatcher(GraphCallbackHandler):
    """LangGraph's lifecycle hooks, which only GraphCallbackHandler subclasses receive."""

    def __init__(self, show=True):
        self.show, self.interrupts, self.resumes, self.tools = show, [], [], []

    def on_interrupt(self, event):
        self.interrupts.append(event)
        if self.show:
            request = event.interrupts[0].value  # what HumanInTheLoopMiddleware asks
            action, review = request["action_requests"][0], request["review_configs"][0]
            print(f"[on_interrupt] status={event.status!r}, {len(event.interrupts)} interrupt:")
            print(f"  approve {action['name']} {action['args']}? {review['allowed_decisions']}")

    def on_resume(self, event):
        self.resumes.append(event)
        if self.show:
            same = event.checkpoint_id == self.interrupts[-1].checkpoint_id
            print(f"[on_resume] status={event.status!r}, from the pause's checkpoint: {same}")

    def on_tool_start(self, serialized, input_str, *, inputs=None, **kwargs):
        self.tools.append(f"{serialized['name']} {inputs}")  # it hears the usual hooks too


class RootAndErrorLog(BaseCallbackHandler):
    """A plain handler, as most tracers are: it logs each call's root run and every error."""

    lifecycle_calls = 0

    def on_chain_start(self, serialized, inputs, *, parent_run_id=None, **kwargs):
        if parent_run_id is None:
            print(f"[handler] on_chain_start: {kwargs['name']}, the root")

    def on_chain_end(self, outputs, *, parent_run_id=None, **kwargs):
        if parent_run_id is None:
            print("[handler] on_chain_end: the root, without an error")

    def on_chain_error(self, error, **kwargs):
        print(f"[handler] on_chain_error: {error!r:.40}...")

    def on_interrupt(self, event):  # never called: this class is no GraphCallbackHandler
        self.lifecycle_calls += 1

    on_resume = on_interrupt


class RunCollector(BaseTracer):
    """A tracer: LangChain hands it each root run when it ends, children included."""

    def __init__(self):
        super().__init__()
        self.roots = []

    def _persist_run(self, run):
        self.roots.append(run)


def print_tree(run, depth=0):
    notes = [f"step {run.metadata['langgraph_step']}"] if depth == 1 else []  # graph nodes
    if run.run_type == "tool" or isinstance(run.inputs.get("input"), Command):
        notes.append(f"inputs={run.inputs}")
    notes += [f"error: {run.error.split('(')[0]}"] if run.error else []  # repr, traceback
    print(f"[tracer] {'  ' * depth}{run.run_type} {run.name}  {'  '.join(notes)}".rstrip())
    for child in run.child_runs:
        print_tree(child, depth + 1)


def main():
    model = ChatOpenAI(model=os.environ["OPENAI_MODEL"])
    hitl = HumanInTheLoopMiddleware(interrupt_on={"multiply": True})
    agent = create_agent(model, tools=[multiply], middleware=[hitl], checkpointer=InMemorySaver())
    watcher, log, tracer = PauseWatcher(), RootAndErrorLog(), RunCollector()
    config = {"configurable": {"thread_id": "order-1"}, "callbacks": [watcher, log, tracer]}

    print("== 1. The first call stops before the tool runs ==")
    result = agent.invoke(QUESTION, config=config)
    if "__interrupt__" not in result:  # the model answered without asking for the tool
        return print(tutorial_env.SKIPPED_TOOL)
    print(f"invoke returned {sorted(result)}; the tool has not run")
    print_tree(tracer.roots[0])

    print("\n== 2. Resume with Command(resume=...): an approval ==")
    result = agent.invoke(Command(resume={"decisions": [{"type": "approve"}]}), config=config)
    print(f"Answer: {result['messages'][-1].text}")
    print(f"the plain handler's own on_interrupt and on_resume ran {log.lifecycle_calls} times")
    print_tree(tracer.roots[1])

    print("\n== 3. Two calls, two roots ==")
    one, two = tracer.roots
    print(f"roots: 2, parent_run_id: {one.parent_run_id} and {two.parent_run_id}")
    print(f"one trace id for both: {one.trace_id == two.trace_id}")
    print(f"on_interrupt's run_id is root 1's: {watcher.interrupts[0].run_id == one.id}")
    print(f"on_resume's run_id is root 2's:    {watcher.resumes[0].run_id == two.id}")
    print(f"metadata both roots carry: {dict(sorted(one.metadata.items() & two.metadata.items()))}")

    print("\n== 4. Approve, edit or reject: what each does to the callbacks ==")
    print(f"{'decision':<10}{'on_interrupt':>12}{'on_resume':>11}  the model's call  on_tool_start")
    for name, decision in DECISIONS.items():
        watcher = PauseWatcher(show=False)
        config = {"configurable": {"thread_id": f"order-{name}"}, "callbacks": [watcher]}
        agent.invoke(QUESTION, config=config)
        result = agent.invoke(Command(resume={"decisions": [decision]}), config=config)
        call, reply = result["messages"][1].tool_calls[0], result["messages"][2]
        counts = f"{len(watcher.interrupts):>12}{len(watcher.resumes):>11}"
        print(f"{name:<10}{counts}  {call['args']!s:<18}{', '.join(watcher.tools) or 'none'}")
        text = reply.text.replace(hitl.edit_notice, "<edit_notice>")  # a long paragraph
        print(f"  ToolMessage(status={reply.status!r}): {text!r}")


if __name__ == "__main__":
    main()
