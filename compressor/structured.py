"""Question-aware compression of structured documents: JSON inside its arrays and objects, CSV and
Markdown tables by rows under their header.

A document that is one JSON object or array is split into pieces: every container larger than
``piece_cap(budget)`` tokens is opened (array elements, object members), down to pieces that fit
(a record of a list, a small object, a scalar member; a long text value is opened into its sentences).
Each piece is scored against the question with the pipeline's hybrid relevance (retriever cosine + BM25)
on its text prefixed by its keys (``users: {...}``), and the best pieces are kept, greedily, until the
budget is used. The output is valid JSON with the
original keys, nesting and order; what is left out is simply absent (an array keeps fewer elements, an
object fewer members).

A CSV document (every line the same number of fields, comma, tab or semicolon separated) or a document
that is one Markdown table keeps its header always and its most relevant rows, in their order, verbatim;
JSON Lines (every line a JSON object or array) keep their most relevant lines the same way. A table
inside prose is compressed by rows too, by the pipeline (``retriever.chunker``, ``pipelines.protection``).
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from compressor.budget import resolve_budget
from compressor.result import CompressionResult, Span
from compressor.tokens import count_many, count_tokens
from retriever.structure import TABLE_RULE

if TYPE_CHECKING:
    from pipelines.pipeline import Pipeline, _Checked

#: a JSON container is opened into its elements / members when larger than this share of the budget
PIECE_SHARE = 0.25
#: ... or than this many tokens, whichever is larger (small records stay whole)
MIN_PIECE_TOKENS = 24
#: exact re-counts the final fill may spend trying pieces the estimate left out
FILL_TRIES = 64
#: pieces of more tokens than this in all are shortlisted by BM25 before the retriever embeds them
DENSE_MAX_TOKENS = 8000
#: the shortlist: the best BM25 pieces worth this many budgets, and at least MIN_SHORTLIST of them
SHORTLIST_BUDGETS = 4
MIN_SHORTLIST = 64
#: methods that keep by position, not relevance: a structured document keeps its first pieces with them
POSITIONAL_METHODS = frozenset({"truncate"})
#: a CSV header's column names are at most this long
MAX_HEADER_CHARS = 40



@dataclass(frozen=True)
class Sentence:
    """A path step into a long JSON string: its ``index``-th sentence."""

    index: int


Path = tuple[str | int | Sentence, ...]


@dataclass(frozen=True)
class Piece:
    """A selectable part of a structured document: a JSON value at ``path``, or a table row (``row``)."""

    path: Path
    text: str
    tokens: int
    row: int = -1


def piece_cap(budget: int) -> int:
    """Largest JSON piece kept whole: larger containers are opened into their elements / members."""
    return max(MIN_PIECE_TOKENS, int(PIECE_SHARE * budget))


def _sentences(text: str) -> list[str]:
    from retriever.sentences import sentence_offsets

    return [text[a:b] for a, b in sentence_offsets(text)]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def parse_json_document(text: str) -> Any | None:
    """The parsed value when ``text`` is one non-empty JSON object or array, else None."""
    stripped = text.strip()
    if len(stripped) < 2 or stripped[0] not in "[{":
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    return value if isinstance(value, (dict, list)) and value else None


def json_pieces(value: Any, cap: int, encoding: str) -> list[Piece]:
    """The pieces of a JSON value (see module), in document order."""
    out: list[Piece] = []

    def visit(node: Any, path: Path) -> None:
        text = _dumps(node)
        tokens = count_tokens(text, encoding)
        if isinstance(node, (dict, list)) and node and (not path or tokens > cap):
            for key, child in (node.items() if isinstance(node, dict) else enumerate(node)):
                visit(child, (*path, key))
            return
        if isinstance(node, str) and tokens > cap and len(sentences := _sentences(node)) > 1:
            keys = ".".join(str(k) for k in path if isinstance(k, str))
            for i, sentence in enumerate(sentences):  # a long text value is kept sentence by sentence
                out.append(Piece((*path, Sentence(i)), f"{keys}: {sentence}",
                                 count_tokens(sentence, encoding) + 1))
            return
        keys = ".".join(str(k) for k in path if isinstance(k, str))
        member = count_tokens(_dumps(path[-1]) + ": ", encoding) if path and isinstance(path[-1], str) else 0
        out.append(Piece(path, f"{keys}: {text}" if keys else text, tokens + member + 1))

    visit(value, ())
    return out


def prune(value: Any, keep: set[Path]) -> Any:
    """``value`` holding only the subtrees at ``keep`` and the containers that lead to them."""
    inner = {p[:i] for p in keep for i in range(len(p))}

    def build(node: Any, path: Path) -> Any:
        if path in keep:
            return node
        if isinstance(node, str):
            return " ".join(s for i, s in enumerate(_sentences(node)) if (*path, Sentence(i)) in keep)
        if isinstance(node, dict):
            return {k: build(v, (*path, k)) for k, v in node.items() if (*path, k) in keep or (*path, k) in inner}
        return [build(v, (*path, i)) for i, v in enumerate(node) if (*path, i) in keep or (*path, i) in inner]

    return build(value, ())


@dataclass(frozen=True)
class Table:
    """A CSV document or one Markdown table: header lines (always kept) and row lines, verbatim."""

    header: str
    rows: list[str]
    kind: str
    #: where the first line (header or first row) starts in the document
    offset: int = 0

    def row_spans(self, rows: list[int]) -> list[tuple[int, int]]:
        """Character spans of the header and of ``rows`` (indices into ``rows``) in the document."""
        starts, pos = [], self.offset + len(self.header)
        for row in self.rows:
            starts.append(pos)
            pos += len(row)
        spans = [(self.offset, self.offset + len(self.header.rstrip("\n")))] if self.header else []
        return spans + [(starts[r], starts[r] + len(self.rows[r].rstrip("\n"))) for r in rows]


def parse_table(text: str) -> Table | None:
    """``text`` as a table when it is CSV (see module), one Markdown table or JSON Lines, else None."""
    offset = len(text) - len(text.lstrip("\n"))
    lines = text.strip("\n").splitlines(keepends=True)
    if len(lines) < 3:
        return None
    if all(line.lstrip().startswith("|") for line in lines if line.strip()) and TABLE_RULE.match(lines[1]):
        return Table("".join(lines[:2]), lines[2:], "markdown-table", offset)
    if all(parse_json_document(line) is not None for line in lines if line.strip()):
        return Table("", lines, "jsonl", offset)  # JSON Lines: one record a line, no header
    for delimiter in (",", "\t", ";"):
        if delimiter not in lines[0]:
            continue
        try:
            parsed = list(csv.reader(io.StringIO("".join(lines)), delimiter=delimiter))
        except csv.Error:
            continue
        widths = {len(r) for r in parsed if r}
        names_ok = all(len(name) <= MAX_HEADER_CHARS for name in parsed[0])  # a header names columns, not prose
        if len(parsed) == len(lines) and len(widths) == 1 and widths.pop() >= 2 and names_ok:
            return Table(lines[0], lines[1:], "csv", offset)
    return None


def _scores(pieces: list[Piece], texts: list[str], query: str | None, budget: int,
            positional: bool = False) -> np.ndarray:
    """Hybrid relevance of each piece; over ``DENSE_MAX_TOKENS`` only BM25's shortlist of about
    ``SHORTLIST_BUDGETS`` budgets is embedded (the rest rank below it by BM25), as the coarse stage does.
    ``positional``: earlier pieces first."""
    from retriever.hybrid import HybridScorer

    if positional:
        return -np.arange(len(pieces), dtype=float)

    if sum(p.tokens for p in pieces) <= DENSE_MAX_TOKENS:
        return HybridScorer().scores(texts, query)
    lexical = HybridScorer(use_dense=False).scores(texts, query)
    order = np.argsort(-lexical, kind="stable")
    spent = np.cumsum([pieces[i].tokens for i in order])
    size = max(MIN_SHORTLIST, int(np.searchsorted(spent, SHORTLIST_BUDGETS * budget)) + 1)
    shortlist = order[:size]
    out = lexical - 2.0  # below every shortlisted score (hybrid scores are in [0, 1])
    out[shortlist] = HybridScorer().scores([texts[i] for i in shortlist], query)
    return out


def _select(pieces: list[Piece], scores: np.ndarray, budget: int, render, encoding: str,
            min_fill: float) -> tuple[set[int], str, int]:
    """Indices of the pieces kept (best first while the estimate fits, then exact), their output and
    its tokens: at most ``budget``, and filled towards it when the estimate left room."""
    order = sorted(range(len(pieces)), key=lambda i: (-scores[i], i))
    kept: list[int] = []
    spent = count_tokens(render(set()), encoding)
    for i in order:
        if spent + pieces[i].tokens <= budget:
            kept.append(i)
            spent += pieces[i].tokens
    text = render(set(kept))
    tokens = count_tokens(text, encoding)
    while tokens > budget and kept:  # the joins cost more than estimated: drop the weakest
        kept.pop()
        text = render(set(kept))
        tokens = count_tokens(text, encoding)
    tries = 0
    for i in order:
        if tokens >= min_fill * budget or tries >= FILL_TRIES:
            break
        if i in kept or pieces[i].tokens > budget - tokens + 2:
            continue
        tries += 1
        trial = render({*kept, i})
        trial_tokens = count_tokens(trial, encoding)
        if trial_tokens <= budget:
            kept.append(i)
            text, tokens = trial, trial_tokens
    return set(kept), text, tokens


def compress_json(value: Any, query: str | None, budget: int, encoding: str, min_fill: float,
                  positional: bool = False) -> tuple[str, int, dict[str, Any]]:
    """``(text, tokens, info)`` of a JSON value compressed to ``budget`` (see module)."""
    pieces = json_pieces(value, piece_cap(budget), encoding)
    scores = _scores(pieces, [p.text for p in pieces], query, budget, positional)

    def render(keep: set[int]) -> str:
        return _dumps(prune(value, {pieces[i].path for i in keep}))

    kept, text, tokens = _select(pieces, scores, budget, render, encoding, min_fill)
    return text, tokens, {"structure": "json", "pieces": len(pieces), "kept_pieces": len(kept)}


def compress_table(table: Table, query: str | None, budget: int, encoding: str, min_fill: float,
                   positional: bool = False) -> tuple[str, int, dict[str, Any], list[Span]]:
    """``(text, tokens, info, kept spans)`` of a table's header and its most relevant rows within
    ``budget``."""
    live = [i for i, row in enumerate(table.rows) if row.strip()]
    costs = count_many([table.rows[i] for i in live], encoding)
    pieces = [Piece((), table.rows[i], c, row=i) for i, c in zip(live, costs)]
    header = table.header.strip()
    scores = _scores(pieces, [f"{header}\n{p.text.strip()}".strip() for p in pieces], query, budget,
                     positional)

    def render(keep: set[int]) -> str:
        rows = sorted(pieces[i].row for i in keep)
        return (table.header + "".join(table.rows[r] for r in rows)).rstrip("\n")

    kept, text, tokens = _select(pieces, scores, budget, render, encoding, min_fill)
    rows = sorted(kept, key=lambda i: pieces[i].row)
    spans = table.row_spans([pieces[i].row for i in rows])
    row_scores = ([None] if table.header else []) + [float(scores[i]) for i in rows]
    kept_spans = [Span(start=a, end=b, score=sc) for (a, b), sc in zip(spans, row_scores)]
    return text, tokens, {"structure": table.kind, "pieces": len(pieces), "kept_pieces": len(kept)}, kept_spans


def compress_structured(pipeline: Pipeline, checked: _Checked) -> CompressionResult | None:
    """The compressed result of a single JSON, CSV or Markdown-table document over its budget, else None
    (list input, other text, or an input already within budget: the pipeline's usual path). With a
    positional method (``truncate``) the first pieces are kept instead of the most relevant."""
    if checked.is_list or len(checked.documents) != 1:
        return None
    start = time.perf_counter()
    text = checked.documents[0]
    value = parse_json_document(text)
    table = parse_table(text) if value is None else None
    if value is None and table is None:
        return None
    encoding = pipeline._encoding(checked.pipeline_opts)
    original = count_tokens(text, encoding)
    budget = resolve_budget(original, pipeline._rate(checked.rate), checked.target_tokens)
    if original <= budget:
        return None
    min_fill = pipeline.config.min_fill
    kept: list[Span] = []  # JSON is re-serialised: its pieces have no offsets in the original
    positional = checked.name in POSITIONAL_METHODS
    if value is not None:
        out, tokens, info = compress_json(value, checked.query, budget, encoding, min_fill, positional)
    else:
        out, tokens, info, kept = compress_table(table, checked.query, budget, encoding, min_fill, positional)
    return CompressionResult(text=out, original_tokens=original, compressed_tokens=tokens,
                             ratio=round(original / max(1, tokens), 4), method=checked.name, kept=kept,
                             encoding=encoding, budget=budget, info=info,
                             timings={"total": time.perf_counter() - start})
