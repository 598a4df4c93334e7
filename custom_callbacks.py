"""Write your own handler, and watch tokens stream into it.

A `BaseCallbackHandler` subclass overrides only the hooks it needs. With
`ChatOpenAI(streaming=True)`, `on_llm_new_token` fires once per token as it arrives;
without it, `invoke` fires no token events yet still returns the whole message, and a
streaming consumer such as `chain.stream()` makes the model stream anyway. When the model
call fails, `on_llm_error` and `on_chain_error` fire before the exception reaches you.
Reference: https://reference.langchain.com/python/langchain-core/callbacks/base/BaseCallbackHandler
Archived v0.3 how-to: https://python.langchain.com/docs/how_to/custom_callbacks/

Run: python custom_callbacks.py
"""

import os

import openai
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI

import tutorial_env

tutorial_env.load()  # in place of load_dotenv(): your .env key, or the offline model


class TokenPrinter(BaseCallbackHandler):
    """Prints each token as it arrives, with a | after it, so you see the boundaries."""

    def __init__(self):
        self.tokens = []

    def on_chat_model_start(self, serialized, messages, **kwargs):
        print(f"[on_chat_model_start] {serialized['name']} got {messages[0][-1].content!r}")

    def on_llm_new_token(self, token, *, chunk=None, **kwargs):
        # `token` is a str on Chat Completions but a list of content blocks on the Responses
        # API; chunk.text is the text on both. Chunks with no text print as "||".
        text = chunk.text if chunk is not None else token
        self.tokens.append(text)
        print(f"{text}|", end="", flush=True)

    def on_llm_end(self, response, **kwargs):
        if self.tokens:
            print()  # end the line of tokens
        print(f"[on_llm_end] on_llm_new_token was called {len(self.tokens)} times")

    def on_llm_error(self, error, **kwargs):
        if self.tokens:
            print()  # end the line of tokens the error cut short
        status = getattr(error, "status_code", None)
        print(f"[on_llm_error] {type(error).__name__}{f' (HTTP {status})' if status else ''}")

    def on_chain_error(self, error, **kwargs):
        print(f"[on_chain_error] the chain failed with {type(error).__name__}")


def main():
    prompt = ChatPromptTemplate.from_template("Tell me a joke about {animal}")
    model = os.environ["OPENAI_MODEL"]

    print("== 1. streaming=True: one on_llm_new_token call per token ==")
    printer = TokenPrinter()
    chain = prompt | ChatOpenAI(model=model, streaming=True, callbacks=[printer])
    message = chain.invoke({"animal": "cats"})
    print(f"invoke returned: {message.text}\n")

    print("== 2. Without streaming=True: invoke fires no token events, same whole message ==")
    chain = prompt | ChatOpenAI(model=model, callbacks=[TokenPrinter()])
    message = chain.invoke({"animal": "cats"})
    print(f"invoke returned: {message.text}\n")

    print("== 3. The same chain, consumed with chain.stream(): the model streams anyway ==")
    chunks = list(chain.stream({"animal": "cats"}))
    print(f"stream() yielded {len(chunks)} chunks\n")

    print("== 4. A failing model call: the error hooks fire, then the exception arrives ==")
    # Every provider rejects an unknown model: OpenAI and the offline model with HTTP 404,
    # DeepSeek with 400. Both are APIStatusErrors.
    broken = prompt | ChatOpenAI(model="no-such-model", max_retries=0)
    try:
        broken.invoke({"animal": "cats"}, config={"callbacks": [TokenPrinter()]})
    except openai.APIStatusError as error:
        print(f"Caught {type(error).__name__}; the handler saw it first.")


if __name__ == "__main__":
    main()
