"""Where the text lies in OpenAI and Anthropic request bodies, and how to put compressed text back.

A ``Part`` points at one string inside the parsed body (a container and a key), with the role it belongs
to. The query is the last user message: when that message is itself long, its last paragraph is taken as
the question and kept verbatim while the rest is compressed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_QUESTION_CHARS = 2000
TAIL_QUERY_CHARS = 400
#: layout tags around a question (``<question>``, ``<query>``, ``<keep>``)
_TAG = re.compile(r"</?(?:question|query|user_question|keep)>", re.IGNORECASE)


@dataclass
class Part:
    """One text field of the body: ``container[key]`` is a str."""

    container: dict | list
    key: str | int
    role: str
    last_user: bool = False

    @property
    def text(self) -> str:
        return self.container[self.key]

    @text.setter
    def text(self, value: str) -> None:
        self.container[self.key] = value


def _blocks(content: Any, role: str) -> list[Part]:
    """Text parts of a message ``content``: a string, or a list of typed blocks (both APIs)."""
    if isinstance(content, list):
        parts = []
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") in ("text", "input_text") and isinstance(block.get("text"), str):
                parts.append(Part(block, "text", role))
            elif block.get("type") == "tool_result":  # Anthropic: tool output inside a user message
                inner = block.get("content")
                if isinstance(inner, str):
                    parts.append(Part(block, "content", "tool"))
                else:
                    parts.extend(_blocks(inner, "tool"))
        return parts
    return []


def _message_parts(message: dict) -> list[Part]:
    role = message.get("role") if isinstance(message.get("role"), str) else "user"
    role = "system" if role == "developer" else role
    if isinstance(message.get("content"), str):
        return [Part(message, "content", role)]
    return _blocks(message.get("content"), role)


def text_parts(body: dict, anthropic: bool) -> list[Part]:
    """Every text field of the request, in order, the last user message's marked."""
    parts: list[Part] = []
    if anthropic:
        system = body.get("system")
        if isinstance(system, str):
            parts.append(Part(body, "system", "system"))
        else:
            parts.extend(_blocks(system, "system"))
    messages = [m for m in body.get("messages", []) if isinstance(m, dict)]
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=None)
    for i, message in enumerate(messages):
        found = _message_parts(message)
        if i == last_user:
            for part in found:
                part.last_user = part.role == "user"
        parts.extend(found)
    return parts


def split_question(text: str) -> tuple[str, str]:
    """``(context, question)``: the last paragraph of a long user message is its question."""
    head, sep, tail = text.rstrip().rpartition("\n\n")
    if sep and tail.strip() and len(tail) <= MAX_QUESTION_CHARS:
        return head, tail
    return text, ""


def query_of(parts: list[Part]) -> str | None:
    """The question to compress for: the last user message (its last paragraph when it is long)."""
    texts = [p.text for p in parts if p.last_user]
    if not texts:
        return None
    text = "\n".join(texts)
    if len(text) <= MAX_QUESTION_CHARS:
        return _untagged(text) or None
    _, question = split_question(text)
    return _untagged(question or text[-TAIL_QUERY_CHARS:]) or None


def _untagged(text: str) -> str:
    """The question without its layout: ``<question>...</question>`` (Anthropic's long-context tips) gives
    the words inside; a ``<keep>`` marker is not part of the question either."""
    return _TAG.sub(" ", text).strip()
