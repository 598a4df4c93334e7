"""The offline model's brain: what it answers, which tool it calls, and how it counts tokens.

Replies are deterministic:

    "What is 1 + 2?"                 -> "1 + 2 = 3."
    "Tell me a joke about {animal}"  -> a joke about that animal
    anything else                    -> a short reply that quotes the question
    tools offered + a question that needs one -> a tool call; after the tool's result, text

The token rule, the same on every API: a text is split by tokenize(); a prompt costs 3 tokens
of framing per message plus its text, plus 3 to prime the reply, as OpenAI counts; the output
costs its text's tokens, or those of the tool's name and JSON arguments. A reasoning model
(a name that starts with gpt-5, gpt-6, o1, o3 or o4, and has no "chat" in it) also thinks
REASONING_TOKENS tokens before each reply: billed as output, and reported on their own. The
output limit cuts the visible answer only; OpenAI counts reasoning against it too.

Two settings make it act like a weak real model: ignore_tools answers in text whatever tools
are offered, and variation > 0 makes the same question's answer differ from call to call
(it rambles on for 0 to 2 more sentences).

Nothing here knows a wire format. Each API dialect turns its request into a Conversation and
the Plan back into its own bodies and stream events.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

REASONING_TOKENS = 16
RAMBLE = " Let me put that another way."  # what an answer that varies adds, 0 to 2 times
REASONING_PREFIXES = ("gpt-5", "gpt-6", "o1", "o3", "o4")
_TOKEN = re.compile(r"\s*(?:[A-Za-z0-9_'.]*[A-Za-z0-9_']|\S)")
_ARITHMETIC = re.compile(r"(-?\d+(?:\.\d+)?)\s*([-+*/×÷])\s*(-?\d+(?:\.\d+)?)")
_JOKE_SUBJECT = re.compile(r"joke about (?:an? |the )?([^?.!,\n]+)", re.IGNORECASE)
_TOOL_WORDS = {
    "+": ("add", "sum", "plus"),
    "-": ("subtract", "minus", "difference"),
    "*": ("multiply", "times", "product"),
    "×": ("multiply", "times", "product"),
    "/": ("divide", "quotient"),
    "÷": ("divide", "quotient"),
}


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON


@dataclass(frozen=True)
class Message:
    role: str  # "system", "user", "assistant" or "tool"
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()  # an assistant's
    tool_call_id: str | None = None  # a tool result's


@dataclass(frozen=True)
class Tool:
    name: str
    parameters: dict = field(default_factory=dict)  # JSON Schema


@dataclass(frozen=True)
class Conversation:
    """What both APIs share: the messages so far, the tools offered, the output limit."""

    messages: list[Message]
    tools: list[Tool] = field(default_factory=list)
    max_output_tokens: int | None = None
    model: str = ""


@dataclass(frozen=True)
class Plan:
    """The whole reply, decided before a byte is sent."""

    tokens: list[str]  # the text, token by token ([] for a tool call)
    tool_call: ToolCall | None
    finish: str  # "stop", "length" (cut at the output limit) or "tool_calls"
    input_tokens: int
    output_tokens: int  # reasoning tokens included, as OpenAI bills them
    reasoning_tokens: int = 0

    @property
    def text(self) -> str:
        return "".join(self.tokens)


def tokenize(text: str) -> list[str]:
    """Split text into word-ish tokens that keep their leading space, so "".join() is lossless."""
    tokens = _TOKEN.findall(text)
    rest = len(text) - sum(map(len, tokens))
    return tokens + ([text[-rest:]] if rest else [])


def text_of(content) -> str:
    """The text of a message's content: a string, or a list of parts with text (both APIs)."""
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def prompt_tokens(texts: Iterable[str | None]) -> int:
    """The input tokens of a conversation whose messages hold these texts."""
    return 3 + sum(3 + len(tokenize(text or "")) for text in texts)


def is_reasoning_model(model: str) -> bool:
    return model.startswith(REASONING_PREFIXES) and "chat" not in model


def reasoning_tokens(model: str) -> int:
    """The reasoning tokens this model spends on each reply."""
    return REASONING_TOKENS if is_reasoning_model(model) else 0


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _calculate(a: str, op: str, b: str) -> str:
    x, y = float(a), float(b)
    if op in "/÷":
        return "undefined" if y == 0 else _number(x / y)
    return _number({"+": x + y, "-": x - y, "*": x * y, "×": x * y}[op])


def text_reply(question: str) -> str:
    """The deterministic answer to a user message."""
    if match := _ARITHMETIC.search(question):
        a, op, b = match.groups()
        return f"{a} {op} {b} = {_calculate(a, op, b)}."
    if "joke" in question.lower():
        subject = _JOKE_SUBJECT.search(question)
        if subject:
            return (
                f"Why did the {subject.group(1).strip()} sit on the computer? "
                "To keep an eye on the mouse!"
            )
        return "Why do programmers prefer dark mode? Because light attracts bugs!"
    quoted = question.strip().replace("\n", " ")
    if len(quoted) > 60:
        quoted = quoted[:57] + "..."
    return f'I am the offline tutorial model. You said: "{quoted}"'


def _choose_tool(question: str, tools: list[Tool]) -> tuple[Tool, dict] | None:
    """Pick the offered tool the question needs, with JSON arguments for it, or None."""
    match = _ARITHMETIC.search(question)
    words = _TOOL_WORDS.get(match.group(2), ()) if match else ()
    lowered = question.lower()
    for tool in tools:
        name = tool.name.lower()
        if any(w in name for w in words) or any(
            len(part) > 3 and part in lowered for part in name.split("_")
        ):
            break
    else:
        return None
    numbers = iter(match.groups()[::2] if match else re.findall(r"-?\d+(?:\.\d+)?", question))
    arguments = {}
    for key, schema in tool.parameters.get("properties", {}).items():
        kind = schema.get("type")
        if kind in ("integer", "number"):
            value = float(next(numbers, 0))
            arguments[key] = int(value) if kind == "integer" or value.is_integer() else value
        elif kind == "string":
            arguments[key] = question.strip().rstrip("?")
    return tool, arguments


def _tool_answer(messages: list[Message]) -> str:
    names = {call.id: call.name for m in messages for call in m.tool_calls}
    last = [m for m in messages if m.role == "tool"][-1]
    name, result = names.get(last.tool_call_id, "tool"), last.text.strip()
    return f"The {name} tool returned {result}, so the answer is {result}."


def plan_reply(
    conversation: Conversation, *, ignore_tools: bool = False, variation: int = 0
) -> Plan:
    """Decide the whole reply: text tokens or a tool call, how it finishes, and its usage."""
    messages = conversation.messages
    last = messages[-1] if messages else Message("user")
    question = next((m.text for m in reversed(messages) if m.role == "user"), "")
    used = prompt_tokens(m.text for m in messages)
    thought = reasoning_tokens(conversation.model)
    chosen = None
    if conversation.tools and last.role == "user" and not ignore_tools:
        chosen = _choose_tool(question, conversation.tools)
    if chosen:
        tool, arguments = chosen
        call = ToolCall(f"call_{len(messages)}_{tool.name}", tool.name, json.dumps(arguments))
        output = len(tokenize(call.name + " " + call.arguments))
        return Plan([], call, "tool_calls", used, output + thought, thought)

    text = _tool_answer(messages) if last.role == "tool" else text_reply(question)
    text += RAMBLE * (variation % 3)
    tokens = tokenize(text)
    limit = conversation.max_output_tokens
    finish = "stop"
    if limit and len(tokens) > limit:
        tokens, finish = tokens[:limit], "length"
    return Plan(tokens, None, finish, used, len(tokens) + thought, thought)
