"""Count the tokens a run uses, and price them with maintained price data.

`get_usage_metadata_callback` (langchain-core, any provider) sums tokens per model for
every call made inside its `with` block, including calls in tasks created there. It counts
tokens, never money, so the lesson prices them with genai-prices, pydantic's maintained
price data, which works offline. `get_openai_callback` (langchain-community, which older
tutorials use) prices from a table that stops at gpt-5, and prices newer models at $0.
Docs: https://docs.langchain.com/oss/python/langchain/models#token-usage
Reference: https://reference.langchain.com/python/langchain-core/callbacks/usage

Run: python token_counting.py
"""

import asyncio
import os
import warnings
from urllib.parse import urlsplit

from genai_prices import Usage, calc_price
from langchain_core.callbacks import get_usage_metadata_callback
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

import tutorial_env

# langchain-community is being sunset and says so on import. Its get_openai_callback still
# works, and older tutorials use it, so we filter that warning and print a note instead.
warnings.filterwarnings("ignore", "`langchain-community` is being sunset", DeprecationWarning)
from langchain_community.callbacks import get_openai_callback  # noqa: E402

BACKEND = tutorial_env.load()  # in place of load_dotenv(): your .env key, or the offline model
# genai-prices finds the provider from its API address. The offline model stands in for
# OpenAI, so its usage is priced at OpenAI's prices.
OPENAI_URL = "https://api.openai.com/v1"
PRICED_AT = OPENAI_URL if BACKEND == "offline" else os.environ.get("OPENAI_BASE_URL", OPENAI_URL)
QUESTION = "What is 1 + 2?"
FLOWER_SHOP = [
    "Hi! I'd like a birthday bouquet for my sister.",
    "She loves pink roses. How many should I get?",
    "Lovely. Please add a card that says Happy Birthday!",
]


def price(model, tokens):
    """What these tokens cost at the provider that served them, by genai-prices."""
    cached = tokens.get("input_token_details", {}).get("cache_read", 0)
    usage = Usage(
        input_tokens=tokens["input_tokens"],  # cached ones included, as in usage_metadata
        cache_read_tokens=cached,
        output_tokens=tokens["output_tokens"],  # reasoning included: it is billed as output
    )
    try:
        return calc_price(usage, model, provider_api_url=PRICED_AT).total_price
    except LookupError:
        return None


def report(usage, cost):
    for model, tokens in usage.usage_metadata.items():
        reasoning = tokens.get("output_token_details", {}).get("reasoning", 0)
        print(
            f"  usage_metadata   {model}: {tokens['input_tokens']} in + "
            f"{tokens['output_tokens']} out = {tokens['total_tokens']} tokens"
            + (f" ({reasoning} of them reasoning, billed as output)" if reasoning else "")
        )
        dollars = price(model, tokens)
        unknown = f"no price known for {model} at {urlsplit(PRICED_AT).hostname}"
        print(f"  genai-prices     {unknown if dollars is None else f'${dollars:.7f}'}")
        if dollars and not cost.total_cost:
            print(f"  [trap] get_openai_callback priced {model} at $0, without a warning")
    if not usage.usage_metadata:
        print("  usage_metadata   (nothing counted)")
    print(
        f"  openai callback  {cost.total_tokens} tokens in {cost.successful_requests} "
        f"request(s), ${cost.total_cost:.7f}"
    )


def adds_up(usage, replies):
    """The context's total against the sum of each call's own usage_metadata."""
    own = [reply.usage_metadata["total_tokens"] for reply in replies]
    total = sum(u["total_tokens"] for u in usage.usage_metadata.values())
    print(f"  each call's own usage_metadata: {' + '.join(map(str, own))} = {sum(own)} tokens;")
    print(f"  the context counted {total}: {'the same' if total == sum(own) else 'DIFFERENT'}")


async def main():
    print(
        "[note] get_openai_callback comes from langchain-community, which is being sunset;"
        " get_usage_metadata_callback is the maintained langchain-core way to count tokens,"
        " and genai-prices (pydantic) the maintained price data."
    )
    llm = ChatOpenAI(model=os.environ["OPENAI_MODEL"])

    print("== 1. One call, priced ==")
    with get_usage_metadata_callback() as usage, get_openai_callback() as cost:
        llm.invoke(QUESTION)
    report(usage, cost)

    print("== 2. Two calls in one context: the total is the sum of both calls ==")
    with get_usage_metadata_callback() as usage, get_openai_callback() as cost:
        replies = [llm.invoke(QUESTION), llm.invoke(QUESTION)]
    report(usage, cost)
    adds_up(usage, replies)

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

    print("== 4. asyncio.gather of three calls: the total is the sum of the three ==")
    with get_usage_metadata_callback() as usage, get_openai_callback() as cost:
        replies = await asyncio.gather(*(llm.ainvoke(QUESTION) for _ in range(3)))
    report(usage, cost)
    adds_up(usage, replies)

    print("== 5. A task created before the context is not counted, even if awaited inside ==")
    early = asyncio.create_task(llm.ainvoke(QUESTION))
    with get_usage_metadata_callback() as usage, get_openai_callback() as cost:
        await early
        inside = await llm.ainvoke(QUESTION)
    report(usage, cost)
    adds_up(usage, [inside])

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
