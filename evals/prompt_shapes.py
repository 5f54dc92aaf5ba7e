"""Prompt-shapes suite: the prompts people actually send, compressed at 3x/5x/10x, in one table.

    python -m evals.prompt_shapes [--limit 20] [--data ../shared/data] [--method condenser]

Shapes, built from ../shared/data (read only):

(a) rag       RAG system prompt: instructions + HotpotQA's 10 "Passage i:" paragraphs; question as the user turn
(b) xml       Anthropic long-context layout: HotpotQA paragraphs as <document>/<source>/<document_content>,
              instructions after them, <question> last, all in one user message
(c) tool      OpenAI tool message carrying JSON records ({"results": [{"key", "value"}, ...]}, KV retrieval)
(d) chat      multi-turn chat: a SQuAD article pasted over several user turns (the first with the
              instructions), the question last
(e) langchain LangChain's "stuff" prompt over HotpotQA paragraphs split by RecursiveCharacterTextSplitter
              (600 characters, 150 overlap)
(f) note      short notes under 60 tokens (a SQuAD sentence pair) after a one-line instruction, compress()d
(g) markdown  a SQuAD article as Markdown sections with a code block and a table, instructions first
(h) zh        LongBench Chinese QA items (dureader, multifieldqa_zh) after Chinese instructions

(a)-(e), (g) and (h) go through the proxy's own message handling (``api.proxy.messages``: every system,
user or tool part over ``--min-tokens`` is compressed with the last user message as the question, and a long
last user message keeps its last paragraph verbatim); (f) calls ``compress()`` directly. Columns:

- instr: share of the shape's instruction sentences found verbatim in what the upstream would get (must be 100)
- recall: share of items whose gold answer survives in the context parts (the question's own turn or
  paragraph left out, so a comparison question naming its answer does not count) (``evals.qa_sets.answer_in``;
  zh: mean character-bigram recall of the best gold answer)
- frag: output pieces (maximal runs of kept text) that start or end mid-sentence without a ``…`` marker
  (must be 0); pieces of JSON documents are structural and not counted
- budget: output tokens of the compressed parts / (rate x their input tokens), in %
- dup: share of output characters in sentences (4+ words) that already appeared earlier in the output
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from compressor import compress
from compressor.structured import parse_json_document
from compressor.tokens import count_tokens
from evals.data.io import read_jsonl
from evals.qa_sets import answer_in, data_dir, load

RATES = {"3x": 1 / 3, "5x": 0.2, "10x": 0.1}
SHAPES = ("rag", "xml", "tool", "chat", "langchain", "note", "markdown", "zh")
#: characters a piece may end with and still end a sentence (or a label, tag or heading line)
_ENDS = tuple(".!?。！？:：;；…\"'”’)]>»》」")
_STARTS_AFTER = _ENDS + ("\n",)
_INLINE_SPACE_END = re.compile(r"[^\S\n]+$")
_INLINE_SPACE_START = re.compile(r"^[^\S\n]+")
_MARKUP = re.compile(r"(?:<[^<>]+>\s*)+")

RAG_INSTRUCTIONS = ["You are a support assistant.", "Always answer in French.", "Cite the passage number.",
                    "Answer from the documents."]
XML_INSTRUCTIONS = ["Answer the question using only the documents above.", "Quote the relevant passage first.",
                    "If the documents do not contain the answer, say that you don't know."]
TOOL_INSTRUCTIONS = ["You are a data assistant.", "Answer with the exact value only.", "Never invent keys."]
CHAT_INSTRUCTIONS = ["I will paste an article over several messages.", "Answer only from the article.",
                     "Reply in one sentence."]
LANGCHAIN_INSTRUCTIONS = ["Use the following pieces of context to answer the question at the end.",
                          ("If you don't know the answer, just say that you don't know, don't try to make up an "
                           "answer.")]
NOTE_INSTRUCTIONS = ["Answer in one word."]
MARKDOWN_INSTRUCTIONS = ["You are a documentation assistant.", "Answer in English and name the section you used."]
ZH_INSTRUCTIONS = ["你是一名客服助手。", "请用中文回答。", "只根据下面的文章回答问题。"]


@dataclass
class Case:
    """One prompt: a chat body (or, for notes, a plain text), its instructions and gold answers."""

    id: str
    body: dict | None
    instructions: list[str]
    answers: list[str]
    text: str = ""
    question: str = ""
    zh: bool = False


@dataclass
class Measured:
    items: int = 0
    instructions: int = 0
    instructions_kept: int = 0
    recall: float = 0.0
    fragments: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    budget: float = 0.0
    dup_chars: int = 0
    out_chars: int = 0
    seconds: float = 0.0
    examples: list[str] = field(default_factory=list)


# --- shape builders -------------------------------------------------------------------------------------

def _chat(system: str | None, user: str, extra: list[dict] | None = None) -> dict:
    messages = ([{"role": "system", "content": system}] if system else []) + (extra or [])
    return {"model": "gpt-4o-mini", "messages": [*messages, {"role": "user", "content": user}]}


def rag_cases(data: Path, limit: int) -> list[Case]:
    items = load("hotpotqa", data)[:limit]
    return [Case(f"rag-{x.id}", _chat(" ".join(RAG_INSTRUCTIONS) + "\n\n" + x.context, x.question),
                 RAG_INSTRUCTIONS, x.answers) for x in items]


def _hotpot_rows(data: Path) -> list[dict]:
    return _rows(data / "hotpotqa" / "distractor.jsonl.gz")


def xml_cases(data: Path, limit: int) -> list[Case]:
    cases = []
    for row in _hotpot_rows(data)[100 : 100 + 2 * limit]:
        docs = "\n".join(f'<document index="{i}">\n<source>{title}</source>\n<document_content>\n'
                         f"{''.join(sentences)}\n</document_content>\n</document>"
                         for i, (title, sentences) in enumerate(row["context"], 1))
        user = (f"<documents>\n{docs}\n</documents>\n\n{' '.join(XML_INSTRUCTIONS)}\n\n"
                f"<question>{row['question']}</question>")
        if answer_in(docs, [row["answer"]]):  # as the other sets: items whose answer is in the context
            cases.append(Case(f"xml-{row['_id']}", {"model": "claude-test", "max_tokens": 20,
                                                    "messages": [{"role": "user", "content": user}]},
                              XML_INSTRUCTIONS, [row["answer"]]))
    return cases[:limit]


def tool_cases(data: Path, limit: int) -> list[Case]:
    cases = []
    for n, row in enumerate(_rows(data / "kv_retrieval" / "kv-retrieval-75_keys.jsonl.gz")[:limit]):
        records = json.dumps({"results": [{"key": k, "value": v} for k, v in row["ordered_kv_records"]]},
                             indent=1)
        question = f"What is the value of key {row['key']}?"
        extra = [{"role": "user", "content": question},
                 {"role": "assistant", "content": None, "tool_calls": [
                     {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]},
                 {"role": "tool", "tool_call_id": "call_1", "content": records}]
        body = {"model": "gpt-4o-mini", "messages": [
            {"role": "system", "content": " ".join(TOOL_INSTRUCTIONS)}, *extra]}
        cases.append(Case(f"tool-{n}", body, TOOL_INSTRUCTIONS, [row["value"]]))
    return cases


def _squad(data: Path) -> list[dict]:
    with gzip.open(data / "squad2" / "dev-v2.0.json.gz", "rt", encoding="utf-8") as f:
        return json.load(f)["data"]


def _squad_questions(article: dict, rng: random.Random, k: int) -> list[tuple[int, str, list[str]]]:
    found = [(i, q["question"], [a["text"] for a in q["answers"]])
             for i, p in enumerate(article["paragraphs"]) for q in p["qas"] if not q["is_impossible"]]
    rng.shuffle(found)
    return found[:k]


def chat_cases(data: Path, limit: int) -> list[Case]:
    rng, cases = random.Random(0), []
    for article in _squad(data):
        paragraphs = [p["context"] for p in article["paragraphs"]]
        for i, question, answers in _squad_questions(article, rng, 2):
            start = max(0, min(i - 3, len(paragraphs) - 8))
            turns = paragraphs[start : start + 8]
            extra: list[dict] = []
            for n in range(0, len(turns), 2):
                text = "\n\n".join(turns[n : n + 2])
                if n == 0:
                    text = " ".join(CHAT_INSTRUCTIONS) + "\n\n" + text
                extra += [{"role": "user", "content": text}, {"role": "assistant", "content": "Noted."}]
            cases.append(Case(f"chat-{article['title']}-{i}", _chat("You are a helpful assistant.", question, extra),
                              CHAT_INSTRUCTIONS, answers))
    rng.shuffle(cases)
    return cases[:limit]


def langchain_cases(data: Path, limit: int) -> list[Case]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=600, chunk_overlap=150)
    cases = []
    for row in _hotpot_rows(data)[200 : 200 + 2 * limit]:
        text = "\n\n".join(f"{title}\n{''.join(sentences)}" for title, sentences in row["context"])
        user = (" ".join(LANGCHAIN_INSTRUCTIONS) + "\n\n" + "\n\n".join(splitter.split_text(text)) +
                f"\n\nQuestion: {row['question']}\nHelpful Answer:")
        if answer_in(text, [row["answer"]]):
            cases.append(Case(f"langchain-{row['_id']}", _chat(None, user), LANGCHAIN_INSTRUCTIONS,
                              [row["answer"]]))
    return cases[:limit]


def note_cases(data: Path, limit: int) -> list[Case]:
    rng, cases = random.Random(1), []
    for article in _squad(data):
        for i, question, answers in _squad_questions(article, rng, 3):
            context = article["paragraphs"][i]["context"]
            sentences = re.split(r"(?<=[.!?])\s+", context)
            hit = next((n for n, s in enumerate(sentences) if any(a in s for a in answers)), None)
            if hit is None:
                continue
            note = " ".join(sentences[max(0, hit - 1) : hit + 1]) if hit else " ".join(sentences[:2])
            text = NOTE_INSTRUCTIONS[0] + "\n\n" + note
            if 25 <= count_tokens(text) < 60:
                cases.append(Case(f"note-{article['title']}-{i}", None, NOTE_INSTRUCTIONS, answers, text=text,
                                  question=question))
    rng.shuffle(cases)
    return cases[:limit]


def markdown_cases(data: Path, limit: int) -> list[Case]:
    rng, cases = random.Random(2), []
    for article in _squad(data):
        paragraphs = [p["context"] for p in article["paragraphs"]]
        title = article["title"].replace("_", " ")
        for i, question, answers in _squad_questions(article, rng, 2):
            start = max(0, min(i - 4, len(paragraphs) - 10))
            sections = [f"## Part {n + 1}\n\n{p}" for n, p in enumerate(paragraphs[start : start + 10], start)]
            table = ("| part | words |\n|---|---|\n" +
                     "\n".join(f"| {n + 1} | {len(p.split())} |" for n, p in enumerate(paragraphs[start : start + 10], start)))
            code = f"```python\nimport json\nprint(json.dumps({{'title': {title!r}}}))\n```"
            doc = (" ".join(MARKDOWN_INSTRUCTIONS) + f"\n\n# {title}\n\n" + "\n\n".join(sections[:5]) +
                   f"\n\n## Statistics\n\n{table}\n\n## Example\n\n{code}\n\n" + "\n\n".join(sections[5:]))
            cases.append(Case(f"markdown-{article['title']}-{i}", _chat(doc, question), MARKDOWN_INSTRUCTIONS,
                              answers))
    rng.shuffle(cases)
    return cases[:limit]


def zh_cases(data: Path, limit: int) -> list[Case]:
    rows = [r for r in _rows(data / "longbench" / "minilongbench.jsonl.gz")
            if r["dataset"] in ("dureader", "multifieldqa_zh") and r["input"]]
    return [Case(f"zh-{r['_id']}", _chat("".join(ZH_INSTRUCTIONS) + "\n\n" + r["context"], r["input"]),
                 ZH_INSTRUCTIONS, list(r["answers"]), zh=True) for r in rows[:limit]]


BUILDERS: dict[str, Callable[[Path, int], list[Case]]] = {
    "rag": rag_cases, "xml": xml_cases, "tool": tool_cases, "chat": chat_cases, "langchain": langchain_cases,
    "note": note_cases, "markdown": markdown_cases, "zh": zh_cases}


def _rows(path: Path) -> list[dict]:
    return list(read_jsonl(path))


# --- measures -------------------------------------------------------------------------------------------

def fragments(document: str, spans: list, output: str) -> int:
    """Pieces of ``output`` (maximal runs of kept spans of ``document``) that start or end mid-sentence
    and carry no ``…`` marker there.

    Each piece is looked for in ``output`` after the previous one, in document order (the order the
    output is assembled in). Searching the whole output from its start instead reads a short piece at an
    earlier occurrence of the same words: in "The graph isomorphism problem is ... . … problem … graph
    isomorphism problem … P …" the marked "problem" and "graph isomorphism problem" were found inside the
    first, whole sentence, with no ``…`` beside them there, and counted as fragments (every fragment the
    suite reported after the fill's ``…`` marks was such a misread: docs/PROMPT_SHAPES.md)."""
    runs: list[list[int]] = []
    for s in sorted(spans, key=lambda s: s.start):
        if runs and not document[runs[-1][1] : s.start].strip():
            runs[-1][1] = max(runs[-1][1], s.end)
        else:
            runs.append([s.start, s.end])
    bad, cursor = 0, 0
    for start, end in runs:
        piece = document[start:end].strip()
        if not piece:
            continue
        at = output.find(piece, cursor)
        if at >= 0:
            cursor = at + len(piece)
        before = _INLINE_SPACE_END.sub("", document[:start])  # "\r\n\u3000\u3000" ends a line too
        starts_ok = not before or before.endswith(_STARTS_AFTER) or _marked(output, at, piece, before=True)
        after = document[end:]
        ends_ok = (piece.endswith(_ENDS) or not after.strip()
                   or _INLINE_SPACE_START.sub("", after).startswith(("\n", "<"))
                   or _marked(output, at, piece, before=False))
        bad += not (starts_ok and ends_ok)
    return bad


def _marked(output: str, at: int, piece: str, before: bool) -> bool:
    """Whether ``piece``, found at ``at`` in ``output`` (-1: not found), has a ``…`` on that side."""
    if at < 0:
        return True  # the piece was rewritten (e.g. cut with a marker inside): not a silent fragment
    near = output[max(0, at - 3) : at] if before else output[at + len(piece) : at + len(piece) + 3]
    return "…" in near


def duplicated_chars(text: str) -> int:
    """Characters of sentences (4+ words, or 12+ CJK characters) seen earlier in ``text``; markup lines
    (``</document_content>``) repeat by design and are not counted."""
    seen, dup = set(), 0
    for sentence in re.split(r"(?<=[.!?。！？])\s*|\n+", text):
        key = " ".join(sentence.lower().split())
        if (len(key.split()) < 4 and len(key) < 12) or _MARKUP.fullmatch(key):
            continue
        if key in seen:
            dup += len(sentence)
        seen.add(key)
    return dup


def _bigram_recall(answer: str, text: str) -> float:
    grams = [answer[i : i + 2] for i in range(len(answer) - 1) if answer[i : i + 2].strip()]
    return sum(g in text for g in grams) / len(grams) if grams else 0.0


def run_case(case: Case, rate: float, method: str, min_tokens: int, m: Measured) -> None:
    """Compress ``case`` as the proxy (or, for a plain text, ``compress()``) would and add its measures."""
    from api.proxy.messages import query_of, split_question, text_parts

    outputs: list[str] = []
    carried: list[str] = []  # what the context parts carry to the model: the question's own turn left out
    if case.body is None:
        result = compress(case.text, case.question, rate=rate, method=method)
        outputs.append(result.text)
        carried.append(result.text)
        _add_result(m, result, case.text, rate)
    else:
        body = json.loads(json.dumps(case.body))
        anthropic = body["model"].startswith("claude")
        parts = text_parts(body, anthropic)
        query = query_of(parts)
        for part in parts:
            tokens = count_tokens(part.text)
            if part.role not in ("system", "user", "tool") or tokens <= min_tokens:
                outputs.append(part.text)
                carried.append("" if part.last_user else part.text)
                continue
            context, question = split_question(part.text) if part.last_user else (part.text, "")
            result = compress(context, query, rate=rate, method=method)
            _add_result(m, result, context, rate)
            outputs.append(f"{result.text}\n\n{question}" if question else result.text)
            carried.append(result.text)
    sent, context_out = "\n\n".join(outputs), "\n\n".join(carried)
    m.items += 1
    m.instructions += len(case.instructions)
    m.instructions_kept += sum(i in sent for i in case.instructions)
    if case.zh:  # the answer must come from the context, not from the question that names it
        m.recall += max((_bigram_recall(a, context_out) for a in case.answers), default=0.0)
    else:
        m.recall += answer_in(context_out, case.answers)
    m.dup_chars += duplicated_chars(sent)
    m.out_chars += len(sent)


def _add_result(m: Measured, result, context: str, rate: float) -> None:
    document = result.documents[0] if result.documents else None
    stripped = context.replace("<keep>", "").replace("</keep>", "")
    is_json = parse_json_document(stripped) is not None
    if not is_json and result.kept and result.ratio > 1:
        m.fragments += fragments(document or stripped, result.kept, result.text)
    m.tokens_in += result.original_tokens
    m.tokens_out += result.compressed_tokens
    m.budget += rate * result.original_tokens


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=20, help="items per shape (default 20)")
    parser.add_argument("--data", default=None, help="the shared data folder (default ../shared/data)")
    parser.add_argument("--method", default="condenser")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated subset of " + ", ".join(SHAPES))
    parser.add_argument("--min-tokens", type=int, default=200,
                        help="the proxy compresses message parts over this many tokens (default 200)")
    args = parser.parse_args(argv)
    data = data_dir(args.data)
    rows = []
    print("| shape | rate | items | instr % | recall % | frag | budget % | dup % | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for shape in args.shapes.split(","):
        cases = BUILDERS[shape](data, args.limit)
        for label, rate in RATES.items():
            m = Measured()
            start = time.perf_counter()
            for case in cases:
                run_case(case, rate, args.method, args.min_tokens, m)
            m.seconds = time.perf_counter() - start
            row = (f"| {shape} | {label} | {m.items} | {100 * m.instructions_kept / max(1, m.instructions):.1f} | "
                   f"{100 * m.recall / max(1, m.items):.1f} | {m.fragments} | "
                   f"{100 * m.tokens_out / max(1.0, m.budget):.0f} | {100 * m.dup_chars / max(1, m.out_chars):.1f} | "
                   f"{m.seconds:.0f} |")
            rows.append(row)
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
