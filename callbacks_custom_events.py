"""Dispatch your own events from a chain, and receive them like built-in ones.

`adispatch_custom_event` (async) and `dispatch_custom_event` (sync) send a named event
with any data from inside a running step. `astream_events(version="v2")` yields it as an
`on_custom_event`, and a handler receives it in its `on_custom_event` hook. Inside a chain
that calls the chat model, your events and the model's events arrive in one stream.
Reference: https://reference.langchain.com/python/langchain-core/callbacks/manager/adispatch_custom_event
Archived v0.3 how-to: https://python.langchain.com/docs/how_to/callbacks_custom_events/

Run: python callbacks_custom_events.py
"""

import asyncio
import json
import os

from langchain_core.callbacks import (
    BaseCallbackHandler,
    adispatch_custom_event,
    dispatch_custom_event,
)
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_openai import ChatOpenAI

import tutorial_env

tutorial_env.load()  # in place of load_dotenv(): your .env key, or the offline model

CASE_REPORT = {
    "事件": "窃盗",
    "容疑者": "山田太郎",
    "被害者": "佐藤花子",
    "被害額": "5万円",
    "発生日時": "2024年5月1日 14時30分",
}


def show(data):
    return json.dumps(data, ensure_ascii=False)  # keep the Japanese readable, not \u escapes


async def investigate(case_id: str) -> str:
    await adispatch_custom_event("case_opened", {"case_id": case_id})
    await adispatch_custom_event("case_report", CASE_REPORT)
    await adispatch_custom_event("case_closed", {"case_id": case_id, "status": "solved"})
    return f"case {case_id} closed"


def count_words(text: str) -> int:
    words = len(text.split())
    dispatch_custom_event("words_counted", {"text": text, "words": words})
    return words


class CustomEventPrinter(BaseCallbackHandler):
    def on_custom_event(self, name, data, **kwargs):
        print(f"[on_custom_event] {name}: {show(data)}")


async def announce(question: str) -> str:
    await adispatch_custom_event("question_received", {"question": question})
    return question


async def review(answer: str) -> str:
    await adispatch_custom_event("answer_reviewed", {"characters": len(answer)})
    return answer


async def main():
    print("== 1. adispatch_custom_event, observed with astream_events(version='v2') ==")
    async for event in RunnableLambda(investigate).astream_events("A-17", version="v2"):
        if event["event"] == "on_custom_event":
            print(f"on_custom_event: {event['name']} {show(event['data'])}")

    print("\n== 2. dispatch_custom_event in a sync step, received by a handler ==")
    words = RunnableLambda(count_words).invoke(
        "callbacks are just events", config={"callbacks": [CustomEventPrinter()]}
    )
    print(f"Result: {words} words")

    print("\n== 3. Custom events and model events in one stream ==")
    llm = ChatOpenAI(model=os.environ["OPENAI_MODEL"])
    chain = (
        RunnableLambda(announce)
        | ChatPromptTemplate.from_template("{question}")
        | llm
        | StrOutputParser()
        | RunnableLambda(review)
    )
    tokens = []
    async for event in chain.astream_events("What is 6 * 7?", version="v2"):
        kind = event["event"]
        if kind == "on_custom_event":
            print(f"{kind}: {event['name']} {show(event['data'])}")
        elif kind == "on_chat_model_start":
            print(f"{kind}: {event['name']}")
        elif kind == "on_chat_model_stream":
            tokens.append(event["data"]["chunk"].text)
        elif kind == "on_chat_model_end":
            print(f"on_chat_model_stream x{len(tokens)}: {tokens}")
            print(f"{kind}: {event['data']['output'].text!r}")


if __name__ == "__main__":
    asyncio.run(main())
