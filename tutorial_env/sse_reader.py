"""Read lesson 12's Server-Sent Events as a browser's EventSource would. Support code, not a
lesson: web_streaming.py's demo and the tests use it.

The stream's contract: `token` events (data: the JSON-encoded token), `callback` events
(data: {"hook": ..., "name": ...}), then one `done` event (data: {"answer": ...}) or one
`error` event (data: {"message": ...}).
"""

from __future__ import annotations

import asyncio
import json

import httpx


async def read_answer(
    client: httpx.AsyncClient,
    question: str,
    path: str = "/stream",
    leave_after: int | None = None,
    first_token: asyncio.Event | None = None,
) -> dict:
    """One reader of one question: {"tokens": [...], "hooks": [...], "done"/"error": data,
    "events": every event's name in order, "headers": ...}. leave_after=N hangs up after N
    tokens, as a closed tab does. first_token is set when the first token arrives, or when
    the reading ends without one, so that nobody waits on it for ever."""
    got = {"tokens": [], "hooks": [], "done": None, "error": None, "events": []}
    try:
        async with client.stream("GET", path, params={"question": question}) as response:
            got["status"], got["headers"] = response.status_code, response.headers
            event = None
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    data = json.loads(line.removeprefix("data: "))
                    got["events"].append(event)
                    if event == "token":
                        got["tokens"].append(data)
                        if first_token:
                            first_token.set()
                        if leave_after and len(got["tokens"]) >= leave_after:
                            return got
                    elif event == "callback":
                        got["hooks"].append(f"{data['hook']} {data['name']}")
                    else:
                        got[event] = data
        return got
    finally:
        if first_token:
            first_token.set()
