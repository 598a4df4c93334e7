"""Handlers the claims ledgers share: a tracer that keeps every root run, a walk over a run
tree, and a handler that signals the first streamed token (to cancel a call there)."""

import asyncio

from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.tracers import BaseTracer


class Collector(BaseTracer):
    """Every root run LangChain hands the tracer, in order."""

    def __init__(self):
        super().__init__()
        self.roots = []

    def _persist_run(self, run):
        self.roots.append(run)


def runs(root):
    """Every run of the tree, parents first."""
    yield root
    for child in root.child_runs:
        yield from runs(child)


class FirstToken(AsyncCallbackHandler):
    """Sets `seen` at the first streamed token that has text."""

    def __init__(self):
        self.seen = asyncio.Event()

    async def on_llm_new_token(self, token, **kwargs):
        if token:
            self.seen.set()
