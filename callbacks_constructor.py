"""Constructor callbacks belong to one object, and its child runs never see them.

`ChatOpenAI(callbacks=[handler])` fires on every call of that model, but only for the
model's own run: `on_chat_model_start` and `on_llm_end`. Put the model in a chain and the
handler still never hears `on_chain_start` or `on_chain_end`. A runtime handler passed to
the same invoke sees the whole chain. This lesson runs both side by side.
Reference: https://reference.langchain.com/python/langchain-core/language_models/base/BaseLanguageModel/callbacks
Archived v0.3 how-to: https://python.langchain.com/docs/how_to/callbacks_constructor/

Run: python callbacks_constructor.py
"""

import os
from collections import Counter

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI

import tutorial_env

tutorial_env.load()  # in place of load_dotenv(): your .env key, or the offline model

HOOKS = ("on_chain_start", "on_chat_model_start", "on_llm_end", "on_chain_end")


class EventRecorder(BaseCallbackHandler):
    """Prints and counts each event, labelled with where the handler was given."""

    def __init__(self, label):
        self.label = label
        self.seen = Counter()

    def _record(self, hook, name):
        self.seen[hook] += 1
        print(f"[{self.label:<11}] {hook:<19} {name}".rstrip())

    def on_chain_start(self, serialized, inputs, **kwargs):
        self._record("on_chain_start", kwargs["name"])

    def on_chat_model_start(self, serialized, messages, **kwargs):
        self._record("on_chat_model_start", serialized["name"])

    def on_llm_end(self, response, **kwargs):
        self._record("on_llm_end", repr(response.generations[0][0].text))

    def on_chain_end(self, outputs, **kwargs):
        self._record("on_chain_end", "")


def main():
    constructor = EventRecorder("constructor")
    runtime = EventRecorder("runtime")
    llm = ChatOpenAI(model=os.environ["OPENAI_MODEL"], callbacks=[constructor])
    chain = ChatPromptTemplate.from_template("What is {a} + {b}?") | llm | StrOutputParser()

    print(
        "== 1. One chain invoke: constructor handler on the model, runtime handler on the call =="
    )
    answer = chain.invoke({"a": 1, "b": 2}, config={"callbacks": [runtime]})
    print(f"Answer: {answer}\n")

    print(f"{'hook':<21}{'constructor':>12}{'runtime':>10}")
    for hook in HOOKS:
        print(f"{hook:<21}{constructor.seen[hook]:>12}{runtime.seen[hook]:>10}")
    print("The constructor handler saw no chain start or end: it is scoped to the model's run.\n")

    print("== 2. A bare model call: the constructor handler fires on every call of this model ==")
    print(f"Answer: {llm.invoke('What is 2 + 2?').text}")


if __name__ == "__main__":
    main()
