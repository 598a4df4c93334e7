"""Count the tokens a run uses, and what it costs, with context-manager callbacks.

`get_usage_metadata_callback` (langchain-core, any provider) sums tokens per model for
every call made inside its `with` block, including calls in tasks created there.
`get_openai_callback` (langchain-community) also prices them from its OpenAI price table.
Streaming counts only when usage is requested, and a task created earlier is not counted.
Docs: https://docs.langchain.com/oss/python/langchain/models#token-usage
Reference: https://reference.langchain.com/python/langchain-core/callbacks/usage
Archived v0.3 how-to: https://python.langchain.com/docs/how_to/chat_token_usage_tracking/

Run: python token_counting.py
"""

import asyncio
import os
import warnings

from langchain_core.callbacks import get_usage_metadata_callback
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

import tutorial_env

# langchain-community is being sunset and says so on import. Its get_openai_callback still
# works and is the one with a price table, so we filter that warning and print a note instead.
warnings.filterwarnings("ignore", "`langchain-community` is being sunset", DeprecationWarning)
from langchain_community.callbacks import get_openai_callback  # noqa: E402

tutorial_env.load()  # in place of load_dotenv(): your .env key, or the offline model

QUESTION = "What is 1 + 2?"
FLOWER_SHOP = [
    "Hi! I'd like a birthday bouquet for my sister.",
    "She loves pink roses. How many should I get?",
    "Lovely. Please add a card that says Happy Birthday!",
]


def report(usage, cost):
    for model, tokens in usage.usage_metadata.items():
        print(
            f"  usage_metadata  {model}: {tokens['input_tokens']} in + "
            f"{tokens['output_tokens']} out = {tokens['total_tokens']} tokens"
        )
    if not usage.usage_metadata:
        print("  usage_metadata  (nothing counted)")
    print(
        f"  openai callback {cost.total_tokens} tokens in {cost.successful_requests} request(s),"
        f" ${cost.total_cost:.7f}"
    )


async def main():
    print(
        "[note] get_openai_callback comes from langchain-community, which is being sunset;"
        " get_usage_metadata_callback is the maintained langchain-core way to count tokens."
    )
    llm = ChatOpenAI(model=os.environ["OPENAI_MODEL"])

    print("== 1. One call ==")
    with get_usage_metadata_callback() as usage, get_openai_callback() as cost:
        llm.invoke(QUESTION)
    report(usage, cost)

    print("== 2. Two calls in one context: exactly twice the tokens ==")
    with get_usage_metadata_callback() as usage, get_openai_callback() as cost:
        llm.invoke(QUESTION)
        llm.invoke(QUESTION)
    report(usage, cost)

    print("== 3. Streaming, with and without stream_usage=True ==")
    asking = ChatOpenAI(model=os.environ["OPENAI_MODEL"], stream_usage=True)
    with get_usage_metadata_callback() as usage, get_openai_callback() as cost:
        "".join(chunk.text for chunk in asking.stream(QUESTION))
    report(usage, cost)
    print(f"  ...and the same stream with ChatOpenAI's default, stream_usage={llm.stream_usage}:")
    with get_usage_metadata_callback() as usage, get_openai_callback() as cost:
        "".join(chunk.text for chunk in llm.stream(QUESTION))
    report(usage, cost)
    print(
        "  (On Chat Completions, ChatOpenAI asks for usage in streams by itself only when no"
        " base URL, proxy or custom client is set; otherwise pass stream_usage=True. The"
        " Responses API always sends usage and ignores stream_usage.)"
    )

    print("== 4. asyncio.gather of three calls: exactly three times the tokens ==")
    with get_usage_metadata_callback() as usage, get_openai_callback() as cost:
        await asyncio.gather(*(llm.ainvoke(QUESTION) for _ in range(3)))
    report(usage, cost)

    print("== 5. A task created before the context is not counted, even if awaited inside ==")
    early = asyncio.create_task(llm.ainvoke(QUESTION))
    with get_usage_metadata_callback() as usage, get_openai_callback() as cost:
        await early
        await llm.ainvoke(QUESTION)
    report(usage, cost)

    print("== 6. A three-turn conversation resends its history, so prompts grow ==")
    messages = [SystemMessage("You are a friendly florist.")]
    with get_usage_metadata_callback() as usage, get_openai_callback() as cost:
        for turn, text in enumerate(FLOWER_SHOP, 1):
            messages.append(HumanMessage(text))
            reply = await llm.ainvoke(messages)
            messages.append(reply)
            tokens = reply.usage_metadata
            print(
                f"  turn {turn}: {tokens['input_tokens']} in + {tokens['output_tokens']} out"
                f" = {tokens['total_tokens']} tokens"
            )
    report(usage, cost)


if __name__ == "__main__":
    asyncio.run(main())
