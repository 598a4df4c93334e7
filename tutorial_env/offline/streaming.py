"""Server-Sent Events as the dialects describe them and the server writes them."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """One SSE event. `token` numbers the events that carry the answer's text tokens, from 0:
    the server paces those, and a fault that breaks a stream strikes before one of them."""

    data: dict | str
    name: str | None = None  # the `event:` line, which the Responses API sends
    token: int | None = None

    def encode(self) -> bytes:
        data = (
            self.data if isinstance(self.data, str) else json.dumps(self.data, ensure_ascii=False)
        )
        head = f"event: {self.name}\n" if self.name else ""
        return f"{head}data: {data}\n\n".encode()


DONE = Event("[DONE]")  # Chat Completions' last event
