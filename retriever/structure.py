"""Finding the blocks of a document that must survive compression as units.

Fenced code, Markdown tables and headings are detected line by line; a document that is one JSON value
is split into its top-level members, so keeping any subset of them still gives valid JSON. A Markdown
table with a header and a ``|---|`` rule splits into that head and its rows (``table_parts``): any subset
of the rows under the head is still a valid table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_TABLE = re.compile(r"^\s*\|")
#: the delimiter row under a Markdown table's header (``|---|:--:|``)
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


@dataclass(frozen=True)
class Block:
    """A run of lines ``[start, end)`` of one kind: prose, code, table, heading or json."""

    start: int
    end: int
    kind: str

    @property
    def atomic(self) -> bool:
        return self.kind in ("code", "table", "json", "heading")


def _lines(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.splitlines(keepends=True):
        spans.append((pos, pos + len(line)))
        pos += len(line)
    return spans


def _line_kind(line: str) -> str:
    if _HEADING.match(line):
        return "heading"
    if _TABLE.match(line):
        return "table"
    return "prose"


def markdown_blocks(text: str) -> list[Block]:
    """Split ``text`` into blocks; fenced code and tables are never cut inside."""
    blocks: list[Block] = []
    fence: str | None = None
    fence_start = 0
    for start, end in _lines(text):
        line = text[start:end]
        m = _FENCE.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                blocks.append(Block(fence_start, end, "code"))
                fence = None
            continue
        if m:
            fence, fence_start = m.group(1), start
            continue
        kind = _line_kind(line)
        if blocks and kind in ("table", "prose") and blocks[-1].kind == kind and blocks[-1].end == start:
            blocks[-1] = Block(blocks[-1].start, end, kind)
        else:
            blocks.append(Block(start, end, kind))
    if fence is not None:  # an unclosed fence runs to the end, as Markdown renders it
        blocks.append(Block(fence_start, len(text), "code"))
    return blocks


@dataclass(frozen=True)
class TableParts:
    """A Markdown table split for row-wise selection: ``head`` (header line and rule) and its ``rows``,
    each ``(start, end)`` without the line break; ``rows_end`` is where the table's last line ends."""

    head: tuple[int, int]
    rows: list[tuple[int, int]]
    rows_end: int


def table_parts(text: str, block: Block) -> TableParts | None:
    """The head and rows of a ``table`` block; None when it has no header and rule, or no rows."""
    lines = [(block.start + s, block.start + e) for s, e in _lines(text[block.start : block.end])]
    if len(lines) < 3 or not TABLE_RULE.match(text[lines[1][0] : lines[1][1]]):
        return None
    rows = [(s, _line_end(text, s, e)) for s, e in lines[2:] if text[s:e].strip()]
    if not rows:
        return None
    return TableParts((lines[0][0], _line_end(text, *lines[1])), rows, rows[-1][1])


def _line_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in "\r\n":
        end -= 1
    return end


def json_members(text: str) -> list[tuple[int, int]] | None:
    """Offsets of the top-level members of a JSON document (array items or ``"key": value`` pairs).

    Returns None when ``text`` is not a JSON object or array.
    """
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        json.loads(stripped)
    except ValueError:
        return None
    open_at = text.index(stripped[0])
    members, depth, in_str, esc, start = [], 0, False, False, open_at + 1
    for i in range(open_at, len(text)):
        ch = text[i]
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                _add_member(text, start, i, members)
                break
        elif ch == "," and depth == 1:
            _add_member(text, start, i, members)
            start = i + 1
    return members


def _add_member(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append((start, end))


def json_container(text: str) -> tuple[str, str]:
    """The opening and closing bracket of a JSON document already known to be an object or array."""
    opener = text.strip()[0]
    return opener, "]" if opener == "[" else "}"


#: inline pieces that mean nothing when cut: URLs, e-mail addresses, inline code, Markdown links, numbers
#: with their separators, units and signs (``$1,250.50``, ``3.14``, ``2024-05-01``, ``45%``)
_INLINE_ATOM = re.compile(
    r"https?://[^\s<>()\[\]]*[^\s<>()\[\].,;:!?'\"]"
    r"|www\.[^\s<>()\[\]]*[^\s<>()\[\].,;:!?'\"]"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|`[^`\n]+`"
    r"|!?\[[^\]\n]*\]\([^)\s]*\)"
    r"|[-+$€£¥]?\d+(?:[.,:/-]\d+)*%?"
)


def inline_atoms(text: str) -> tuple[list[int], list[int]]:
    """``(starts, ends)`` of the inline atoms of ``text`` (kept whole or dropped whole by word methods)."""
    spans = [(m.start(), m.end()) for m in _INLINE_ATOM.finditer(text)]
    return [s for s, _ in spans], [e for _, e in spans]
