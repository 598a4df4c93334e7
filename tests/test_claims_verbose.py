"""The claims ledger for `verbose`, in lesson 7's README section ("Log to files"): what
`verbose=True` and `set_verbose(True)` do to a chat model and a `prompt | model` chain
today, why, and what prints instead.

Each test proves one sentence of that section, marked `<!-- claim: ... -->`, against the
pinned packages and the offline model, on every model setting the lessons are tested on
(lessons.MODELS: Chat Completions, the Responses API, and the default that uses both).
"""

import gc
import logging
import re
import warnings
from pathlib import Path

import langchain
import langchain_classic
import langchain_core
import langchain_openai
import langgraph
import pytest
from claims import claim
from langchain_classic.chains import LLMChain
from langchain_core.callbacks import (
    BaseCallbackHandler,
    CallbackManager,
    StdOutCallbackHandler,
)
from langchain_core.globals import set_debug, set_verbose
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableSequence
from langchain_openai import ChatOpenAI
from lessons import MODELS

SECTION = "7."
PROMPT = ChatPromptTemplate.from_template("Tell me a joke about {topic}")
TOPIC = {"topic": "parrots"}
CHAT_MODEL_HOOKS = ("on_chat_model_start", "on_llm_start", "on_llm_new_token", "on_llm_end")
ON_EVERY_MODEL = pytest.mark.parametrize("name", MODELS)


def chat_model(fake, name, **settings) -> ChatOpenAI:
    return ChatOpenAI(
        model=name, base_url=fake.base_url, api_key="sk-test", max_retries=0, **settings
    )


class ModelEvents(BaseCallbackHandler):
    def __init__(self):
        self.starts = []

    def on_chat_model_start(self, serialized, messages, **kwargs):
        self.starts.append(serialized["name"])


@claim("verbose-model-prints-nothing", SECTION)
@ON_EVERY_MODEL
def test_a_verbose_chat_model_prints_nothing_alone_or_in_a_chain(fake, capsys, caplog, name):
    loud = chat_model(fake, name, verbose=True)
    assert loud.verbose is True
    caplog.set_level(logging.WARNING)  # a warning logged, not raised, would land here
    # Garbage that earlier tests left is finalized now, not inside the block: a collection
    # there could warn about their unclosed sockets.
    gc.collect()
    gc.disable()
    try:
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            assert loud.invoke("What is 1 + 2?").text
            assert (PROMPT | loud).invoke(TOPIC).text
    finally:
        gc.enable()
    assert warned == [], [f"{w.category.__name__}: {w.message}" for w in warned]
    assert caplog.records == []
    assert capsys.readouterr().out == ""
    (PROMPT | loud).invoke(TOPIC, config={"callbacks": [StdOutCallbackHandler()]})
    assert capsys.readouterr().out, "this capture would have seen a handler's printing"


@claim("verbose-adds-stdout-handler", SECTION)
@ON_EVERY_MODEL
def test_verbose_only_adds_an_uninherited_stdout_handler_with_no_chat_model_hooks(
    fake, monkeypatch, name
):
    manager = CallbackManager.configure(None, None, verbose=True)
    quiet = CallbackManager.configure(None, None, verbose=False)  # a process may have others,
    kinds = lambda handlers: sorted(type(h).__name__ for h in handlers)  # noqa: E731 - tracers
    assert kinds(manager.handlers) == sorted([*kinds(quiet.handlers), "StdOutCallbackHandler"])
    assert kinds(manager.inheritable_handlers) == kinds(quiet.inheritable_handlers)  # no child
    assert not any(isinstance(h, StdOutCallbackHandler) for h in quiet.handlers)
    for hook in CHAT_MODEL_HOOKS:  # the base class's do-nothing hooks, not its own
        assert getattr(StdOutCallbackHandler, hook) is getattr(BaseCallbackHandler, hook), hook

    added = []  # and that is the handler a verbose model's run gets: seen being made
    real_init = StdOutCallbackHandler.__init__
    monkeypatch.setattr(
        StdOutCallbackHandler,
        "__init__",
        lambda self, *a, **k: (added.append(self), real_init(self, *a, **k))[1],
    )
    chat_model(fake, name, verbose=True).invoke("What is 1 + 2?")
    assert len(added) == 1
    chat_model(fake, name).invoke("What is 1 + 2?")
    assert len(added) == 1


@claim("set-verbose-prints-nothing", SECTION)
@ON_EVERY_MODEL
def test_set_verbose_is_the_default_for_models_made_after_it_and_prints_nothing(fake, capsys, name):
    before = chat_model(fake, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LLMChain is deprecated
        legacy_before = LLMChain(prompt=PROMPT, llm=before)
    set_verbose(True)
    try:
        after = chat_model(fake, name)
        assert (PROMPT | after).invoke(TOPIC).text
        assert after.invoke("What is 1 + 2?").text
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            legacy_after = LLMChain(prompt=PROMPT, llm=before)
    finally:
        set_verbose(False)
    assert (before.verbose, after.verbose) == (False, True)
    assert capsys.readouterr().out == ""
    assert (legacy_before.verbose, legacy_after.verbose) == (False, True)  # legacy chains too
    assert not hasattr(PROMPT | after, "verbose")
    readers = set()  # and nothing else reads it: the modules that call get_verbose()
    for package in (langchain_core, langchain, langchain_classic, langchain_openai, langgraph):
        for root in package.__path__:
            for module in Path(root).rglob("*.py"):
                if module.name != "globals.py" and re.search(
                    r"\bget_verbose\(\)", module.read_text(encoding="utf-8")
                ):
                    readers.add(module.relative_to(Path(root).parent).as_posix())
    assert readers == {
        "langchain_core/language_models/base.py",  # BaseLanguageModel.verbose's default
        "langchain_classic/chains/base.py",  # the legacy Chain.verbose's default
    }


@claim("sequence-takes-no-verbose", SECTION)
def test_a_runnable_sequence_takes_no_verbose(fake):
    llm = chat_model(fake, MODELS[0])
    with pytest.raises(TypeError, match="unexpected keyword argument 'verbose'"):
        RunnableSequence(PROMPT, llm, verbose=True)
    assert type(PROMPT | llm) is RunnableSequence
    assert "verbose" not in RunnableSequence.model_fields


@claim("stdout-handler-at-run-time-prints-the-chain", SECTION)
@ON_EVERY_MODEL
def test_stdout_handler_at_run_time_prints_the_chain_and_its_prompt_not_the_model(
    fake, capsys, name
):
    llm = chat_model(fake, name)
    (PROMPT | llm).invoke(TOPIC, config={"callbacks": [StdOutCallbackHandler()]})
    screen = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    lines = [line for line in screen.splitlines() if line]
    assert lines == [
        "> Entering new RunnableSequence chain...",
        "> Entering new ChatPromptTemplate chain...",
        "> Finished chain.",
        "> Finished chain.",
    ]
    assert "ChatOpenAI" not in screen and "parrots" not in screen


@claim("debug-or-own-handler-hears-the-model", SECTION)
@ON_EVERY_MODEL
def test_set_debug_prints_the_model_run_and_an_own_handler_hears_it(fake, capsys, name):
    llm = chat_model(fake, name)
    set_debug(True)
    try:
        (PROMPT | llm).invoke(TOPIC)
    finally:
        set_debug(False)
    screen = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)  # set_debug's colours
    for kind in ("llm/start", "llm/end", "chain/start", "chain/end"):
        assert re.search(rf"\[{kind}\] \[chain:RunnableSequence", screen), kind
    for run in ("prompt:ChatPromptTemplate] Entering Prompt", "llm:ChatOpenAI] Entering LLM"):
        assert f"[chain:RunnableSequence > {run} run" in screen, run

    own = ModelEvents()
    (PROMPT | llm).invoke(TOPIC, config={"callbacks": [own]})
    assert own.starts == ["ChatOpenAI"]
