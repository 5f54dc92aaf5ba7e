"""Prompt anatomy: which parts of an input are instructions, the question, scaffolding or context.

LongLLMLingua compresses only the context of a prompt and keeps its instruction and question; real prompts
do not arrive split that way, so this module finds the parts in one text. Only ``context`` is compressed:

- ``instruction``: persona ("You are ..."), rules ("Always/Never/Do not/Must/Only ..."), format, language
  and citation demands, refusals ("If you don't know, say so"), in English or Chinese ("请用中文回答").
  They are looked for outside the documents a prompt carries: before the first and after the last
  labelled passage or XML document, in the leading and trailing paragraphs of unlabelled text, under a
  "Rules:"/"Instructions:" line, and inside ``<instructions>``-like tags. Inside a document every
  sentence is context, so a novel's "Never again." is not taken for a rule.
- ``question``: "Question: ..." lines, ``<question>`` contents, the caller's query where it appears, and
  questions in the instruction parts.
- ``scaffolding``: document labels ("Passage 3:", "Document [2](Title: ...)", "[1]", "Source: ..."),
  the tags of Anthropic's long-context layout (``<document>``, ``<source>``, ``<document_content>``,
  ``<context>``, ...) and their ``<source>`` values, answer prefixes ("Answer:"), and Markdown headings.
  A label, a document's tags and source, and a heading are kept with their section (``Anatomy.held``):
  whenever the passage, ``<document>`` element or Markdown section keeps any text; a passage dropped whole
  drops its label too, so an output never lists empty passages and labels do not eat a small budget.
  Labels and tags are held in a prompt: an input with at least one instruction, question or force-kept
  span. In a bare context (documents alone, as a retriever or the yardstick passes them) they are context
  that competes for the budget; Markdown headings are held in both.
- ``keep``: what the caller forces: ``<keep>...</keep>`` in the text (the markers are removed) or the
  ``keep=["exact span", ...]`` option (every occurrence).

Code blocks and JSON documents are never classified (a ``# comment`` is not a heading).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from retriever.repeats import stripped, without_spans
from retriever.sentences import sentence_offsets
from retriever.structure import json_members, markdown_blocks

KINDS = ("instruction", "question", "scaffolding", "context")
#: the inline force-keep marker; stripped from the text before compression
KEEP_OPEN, KEEP_CLOSE = "<keep>", "</keep>"
_KEEP = re.compile(r"<keep>(.*?)</keep>", re.DOTALL)
#: protected spans listed in ``info``; longer lists are cut (the counts stay complete)
MAX_LISTED = 200

_BULLET = r"(?:[-*•·]|\d{1,2}[.)]|[a-z][.)])\s+"
_PERSONA = re.compile(
    r"(?:(?:You are|You're|You will (?:act|play|be)|Act as|Pretend to be|As an? (?:AI|assistant|expert)|"
    r"Your (?:role|task|job|goal|name|purpose) is|I want you to)\b|你是|您是|作为一[名个位]|你的任务)", re.IGNORECASE)
#: English words need a word boundary after them ("Do" is not "Documents"), Chinese ones cannot have one
_RULE = re.compile(
    r"(?:(?:Always|Never|Do not|Don't|Don’t|Must|You must|You should|You may|You can|You will|You need|Only|"
    r"Make sure|Ensure|Be sure|Be (?:concise|brief|polite|helpful|honest|accurate)|Remember|Avoid|Keep|"
    r"Please|Use|Follow|Stick|Limit|Prefer|Refuse|Decline|Under no circumstances|Important|Note that|"
    r"If (?:you|the user|the answer|a question|unsure|there|it|the documents|the context|the question|no)|"
    r"When (?:you|the user|answering|responding|asked)|Do|Try|Think|Reason)\b(?!\s+of\b)"
    r"|(?:现在)?请|务必|必须|不要|不得|禁止|只|仅|切勿|注意|如果|若|回答时)", re.IGNORECASE)
_DEMAND = re.compile(
    r"(?:(?:Answer|Respond|Reply|Write|Format|Return|Output|Provide|Give|Summari[sz]e|Translate|List|Explain|"
    r"Describe|Cite|Quote|Include|Mention|Start|End|Begin|Structure|State|Read|Refer|Base|Rely|Consider|"
    r"Ground|Show|Label|Rate|Classify|Choose|Select|Pick|Determine|Identify|Extract|Find|Now,? answer)"
    r"\b(?!\s+of\b)|回答|用中文|用英文|输出|总结|引用|阅读|根据|基于|给出|列出|翻译)", re.IGNORECASE)
_QUESTION_LINE = re.compile(r"(?:Question|Q|Query|User question|问题|提问)\s*[:：]", re.IGNORECASE)
_ANSWER_PREFIX = re.compile(r"(?:(?:Helpful|Final|Short|Your)\s+)?(?:Answer|A|Response|Output|回答|答案|答)\s*[:：]\s*$",
                            re.IGNORECASE)
_INTRO = re.compile(
    r"(?:(?:Here (?:are|is)|The following|Below (?:are|is)|Use the following|Given the following|"
    r"以下是|下面是|下面有|给定)[^\n]{0,160}|[^\n]{1,60}[:：])\s*$", re.IGNORECASE)
_RULES_HEADER = re.compile(
    r"(?:#+\s*)?(?:Rules|Instructions|Guidelines|Constraints|Requirements|Output format|Response format|"
    r"Answer format|要求|规则|注意事项|指令)\s*[:：]?\s*$", re.IGNORECASE)

_LABEL = re.compile(
    r"^[ \t]*(?:"
    r"Document\s*\[\d+\]\s*\(Title:[^)\n]*\)"
    r"|(?:Passage|Document|Doc|Paragraph|Article|Source|Context|Chunk|Snippet|Excerpt|Result|Reference|"
    r"Evidence|Page)\s*#?\s*\[?\d+\]?(?:\s*\((?:Title|title|Source|source):[^)\n]*\))?[ \t]*[:.)\]-]?"
    r"|\[\d+\]"
    r"|(?:段落|文章|文档|材料|资料|来源|参考资料|片段)\s*\[?\d*\]?\s*[:：]"
    r")", re.MULTILINE)
_META_LINE = re.compile(
    r"^[ \t]*(?:Title|Source|URL|Url|Link|Author|Authors|Date|Published|Filename|File|Path|Section|"
    r"标题|来源|作者|日期)\s*[:：][^\n]{1,200}$", re.MULTILINE)

#: tags whose contents are documents (context); their own tags are scaffolding
_DOC_TAGS = ("documents", "document", "document_content", "context", "contexts", "passages", "passage",
             "search_results", "search_result", "result", "results", "article", "text", "content", "data",
             "file", "files", "email", "transcript", "doc", "docs", "chunk", "snippet", "reference",
             "references", "paper", "report", "example", "examples", "input")
#: elements that hold one document: their tags and source are kept whenever their text keeps something
_DOC_LEVEL = ("document", "passage", "search_result", "result", "article", "doc", "chunk", "snippet", "email",
              "file", "paper", "report", "example", "reference")
_META_TAGS = ("source", "title", "url", "metadata", "author", "date", "index", "filename")
_INSTRUCTION_TAGS = ("instructions", "instruction", "rules", "system", "guidelines", "format",
                     "answer_format", "output_format", "task", "constraints", "persona", "role")
#: what makes an input a prompt rather than a bare context. Labels and document tags are held only in a
#: prompt, where instructions may cite them; in a bare context under a hard ceiling they cost answers
#: (HotpotQA yardstick, 60 items, 10x: 81.7 bare vs 73.3 held; docs/PROMPT_SHAPES.md)
#: a longer "sentence" is prose the splitter could not cut (lower-cased text), not a rule
MAX_INSTRUCTION_CHARS = 400
_PROMPT_KINDS = frozenset({"instruction", "question", "keep"})
_QUESTION_TAGS = ("question", "query", "user_question", "questions")
_TAG = re.compile(r"</?([A-Za-z_][\w.-]*)(?:\s+[\w:.-]+\s*=\s*(?:\"[^\"\n]*\"|'[^'\n]*'|[^\s>]+))*\s*/?>")


@dataclass(frozen=True)
class Piece:
    """One classified span ``[start, end)`` of document ``doc``: ``kind`` (see ``KINDS``) and a finer
    ``label`` (``persona``, ``rule``, ``format``, ``language``, ``citation``, ``refusal``, ``question``,
    ``label``, ``xml_tag``, ``source``, ``answer_prefix``, ``intro``, ``heading``, ``keep``)."""

    doc: int
    start: int
    end: int
    kind: str
    label: str


@dataclass(frozen=True)
class Held:
    """A scaffolding piece kept whenever its section ``[start, end)`` of the same document keeps text."""

    piece: Piece
    start: int
    end: int


@dataclass
class Anatomy:
    """The classified parts of a list of documents (the documents with keep markers removed)."""

    documents: list[str]
    #: protected pieces (never dropped, never cut), merged, in document order
    protected: list[Piece] = field(default_factory=list)
    #: labels, document tags and headings: kept whenever their section keeps anything
    held: list[Held] = field(default_factory=list)
    #: ``keep=`` strings found nowhere in the documents
    keep_not_found: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Pieces per kind (``context``: the runs of text between protected pieces)."""
        out = dict.fromkeys((*KINDS, "keep"), 0)
        for p in self.protected:
            out[p.kind] += 1
        out["scaffolding"] += len(self.held)
        out["context"] = sum(len(_gaps(d, [p for p in self.protected + [h.piece for h in self.held] if p.doc == i]))
                             for i, d in enumerate(self.documents))
        return out

    def info(self) -> dict[str, Any]:
        """What was classified how, for ``CompressionResult.info["anatomy"]``."""
        listed = [{"doc": p.doc, "start": p.start, "end": p.end, "kind": p.kind, "label": p.label}
                  for p in self.protected[:MAX_LISTED]]
        out: dict[str, Any] = {"counts": self.counts(), "protected": listed}
        if len(self.protected) > MAX_LISTED:
            out["protected_truncated"] = True
        if self.keep_not_found:
            out["keep_not_found"] = list(self.keep_not_found)
        return out


def strip_keep_markers(text: str) -> tuple[str, list[tuple[int, int]]]:
    """``text`` without ``<keep>``/``</keep>`` markers, and the ranges (in that text) they enclosed."""
    out, ranges, pos = [], [], 0
    length = 0
    for m in _KEEP.finditer(text):
        out.append(text[pos : m.start()])
        length += m.start() - pos
        inner = m.group(1)
        out.append(inner)
        if inner.strip():
            lead = len(inner) - len(inner.lstrip())
            ranges.append((length + lead, length + len(inner.rstrip())))
        length += len(inner)
        pos = m.end()
    out.append(text[pos:])
    return "".join(out), ranges


def analyse(documents: Sequence[str], query: str | None = None, keep: Iterable[str] = (), *,
            classify: bool = True) -> Anatomy:
    """Classify ``documents`` (keep markers removed first); ``classify=False`` honours only the caller's
    forced spans (markers and ``keep``)."""
    stripped: list[str] = []
    pieces: list[Piece] = []
    held: list[Held] = []
    for i, raw in enumerate(documents):
        text, marked = strip_keep_markers(raw)
        stripped.append(text)
        pieces.extend(Piece(i, s, e, "keep", "keep") for s, e in marked)
        if classify:
            found, sectioned = _classify(text, i, query)
            pieces.extend(found)
            held.extend(sectioned)
    missing = []
    for wanted in dict.fromkeys(k for k in keep if k and k.strip()):
        hits = [Piece(i, m.start(), m.end(), "keep", "keep")
                for i, text in enumerate(stripped) for m in re.finditer(re.escape(wanted.strip()), text)]
        pieces.extend(hits)
        if not hits:
            missing.append(wanted)
    if not any(_makes_a_prompt(p, stripped) for p in pieces):
        # a bare context: its labels and tags compete as evidence (see _PROMPT_KINDS); headings stay held
        pieces, held = [], [h for h in held if h.piece.label == "heading"]
    protected = merge_pieces(pieces)
    held = [h for h in held if not overlaps(h.piece, protected)]
    return Anatomy(stripped, protected, sorted(held, key=lambda h: (h.piece.doc, h.piece.start)), missing)


def _makes_a_prompt(piece: Piece, texts: list[str]) -> bool:
    """Whether ``piece`` makes its input a prompt: an instruction, question or kept span, or a template's
    intro line that instructs ("Use the following pieces of context to answer the question at the end.")."""
    if piece.kind in _PROMPT_KINDS:
        return True
    text = texts[piece.doc]
    return piece.label == "intro" and any(
        _sentence_kind(text[s:e]) == "instruction" for s, e in sentence_offsets(text[piece.start : piece.end],
                                                                                 base=piece.start))


def classify(text: str, query: str | None = None) -> list[Piece]:
    """Every span of one text, in order: protected and held pieces and the ``context`` between them."""
    anatomy = analyse([text], query)
    marked = sorted(anatomy.protected + [h.piece for h in anatomy.held], key=lambda p: p.start)
    out: list[Piece] = []
    pos = 0
    for p in marked:
        if p.start > pos and anatomy.documents[0][pos : p.start].strip():
            out.append(Piece(0, pos, p.start, "context", "context"))
        out.append(p)
        pos = max(pos, p.end)
    if anatomy.documents[0][pos:].strip():
        out.append(Piece(0, pos, len(anatomy.documents[0]), "context", "context"))
    return out


def _classify(text: str, doc: int, query: str | None) -> tuple[list[Piece], list[Held]]:
    """Protected pieces, and the pieces kept with their section, of one document."""
    if not text.strip() or json_members(text) is not None:
        return [], []
    blocks = markdown_blocks(text)
    code = [(b.start, b.end) for b in blocks if b.kind == "code"]
    held = _heading_sections(text, doc, [b for b in blocks if b.kind == "heading"])
    pieces: list[Piece] = []
    regions: list[tuple[int, int]] = []  # document bodies: context only

    labels = [m for m in _LABEL.finditer(text) if not _inside(m.start(), code)]
    for m in labels:
        start, end = stripped(text, m.start(), m.end())
        pieces.append(Piece(doc, start, end, "scaffolding", "label"))
    for m in _META_LINE.finditer(text):
        if not _inside(m.start(), code):
            pieces.append(Piece(doc, *stripped(text, m.start(), m.end()), "scaffolding", "source"))
    if labels:
        starts = [m.start() for m in labels] + [len(text)]
        regions.extend(pairwise(starts))
        last = regions.pop()
        body_end = _trailing_frame_start(text, labels[-1].end(), last[1])
        regions.append((last[0], body_end))
    units = list(regions)  # a passage: its label, title and source lines go with its text

    tag_pieces, tag_regions, tagged, elements = _xml(text, doc, code)
    pieces.extend(tag_pieces)
    regions.extend(tag_regions)
    pieces.extend(tagged)
    units.extend(elements)
    pieces, sectioned = _by_unit(pieces, _merge_ranges(units))
    held.extend(sectioned)

    if regions:
        frames = without_spans(0, len(text), _merge_ranges(regions))
    else:
        frames = _plain_frames(text)
    frames.extend(_rules_blocks(text, regions))
    for start, end in frames:
        pieces.extend(_frame_pieces(text, doc, start, end, code))
    pieces.extend(_query_pieces(text, doc, query))
    return pieces, held


def _heading_sections(text: str, doc: int, blocks: list) -> list[Held]:
    """Each heading with its section: up to the next heading of the same or a higher level."""
    heads = [(*stripped(text, b.start, b.end), _level(text[b.start : b.end])) for b in blocks]
    out = []
    for i, (start, end, level) in enumerate(heads):
        stop = next((s for s, _, lv in heads[i + 1 :] if lv <= level), len(text))
        out.append(Held(Piece(doc, start, end, "scaffolding", "heading"), start, stop))
    return out


def _level(heading: str) -> int:
    stripped = heading.lstrip()
    return len(stripped) - len(stripped.lstrip("#"))


def _by_unit(pieces: list[Piece], units: list[tuple[int, int]]) -> tuple[list[Piece], list[Held]]:
    """Scaffolding inside a passage or document element is held with it; everything else stays protected."""
    kept, held = [], []
    starts = [s for s, _ in units]  # merged: sorted and disjoint
    for p in pieces:
        at = bisect_right(starts, p.start) - 1
        unit = units[at] if at >= 0 and p.end <= units[at][1] else None
        if unit is not None and p.kind == "scaffolding" and p.label in ("label", "source", "xml_tag"):
            held.append(Held(p, *unit))
        else:
            kept.append(p)
    return kept, held


def _xml(text: str, doc: int, code: list[tuple[int, int]]
         ) -> tuple[list[Piece], list[tuple[int, int]], list[Piece], list[tuple[int, int]]]:
    """Tags of known layout names (scaffolding), document bodies (regions), the contents of source,
    instruction and question tags, and the ranges of single-document elements (``<document>``, ...)."""
    tags, regions, inner, elements = [], [], [], []
    opened: dict[str, list[re.Match]] = {}
    known = set(_DOC_TAGS) | set(_META_TAGS) | set(_INSTRUCTION_TAGS) | set(_QUESTION_TAGS)
    for m in _TAG.finditer(text):
        name = m.group(1).lower()
        if name not in known or _inside(m.start(), code):
            continue
        tags.append(Piece(doc, m.start(), m.end(), "scaffolding", "xml_tag"))
        if m.group(0).startswith("</"):
            stack = opened.get(name)
            if not stack:
                continue
            begin = stack.pop()
            start, end = stripped(text, begin.end(), m.start())
            if end <= start:
                continue
            if name in _DOC_LEVEL:
                elements.append((begin.start(), m.end()))
            if name in _DOC_TAGS:
                regions.append((begin.end(), m.start()))
            elif name in _META_TAGS and end - start <= 300:
                inner.append(Piece(doc, start, end, "scaffolding", "source"))
            elif name in _INSTRUCTION_TAGS:
                inner.append(Piece(doc, start, end, "instruction", _instruction_label(text[start:end])))
            elif name in _QUESTION_TAGS:
                inner.append(Piece(doc, start, end, "question", "question"))
        elif not m.group(0).endswith("/>"):
            opened.setdefault(name, []).append(m)
    # nested document tags: the outermost body is the region, so frames are what lies outside all of them
    return tags, _merge_ranges(regions), inner, elements


def _plain_frames(text: str) -> list[tuple[int, int]]:
    """Leading and trailing runs of instruction-like paragraphs of a text without document structure."""
    paragraphs = _paragraphs(text, 0, len(text))
    frames = []
    lead = 0
    for start, end in paragraphs:
        if not _frame_like(text, start, end):
            break
        lead += 1
    if lead:
        frames.append((0, paragraphs[lead - 1][1]))
    trail_start = None
    # paragraphs[lead] ended the lead run (not frame-like): the trailing run stops there without testing
    # it again (a one-paragraph text would be split into sentences twice)
    for start, end in reversed(paragraphs[lead + 1 :]):
        if not _frame_like(text, start, end):
            break
        trail_start = start
    if trail_start is not None:
        frames.append((trail_start, len(text)))
    return frames


def _trailing_frame_start(text: str, body_start: int, end: int) -> int:
    """Where the instruction-like paragraphs that close the last labelled passage begin (``end``: none)."""
    cut = end
    # the passage's first paragraph is its body, whatever it says (a label followed by a blank line)
    for start, stop in reversed(_paragraphs(text, body_start, end)[1:]):
        if start <= body_start or not _frame_like(text, start, stop):
            break
        cut = start
    return cut


def _rules_blocks(text: str, regions: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Lines under a "Rules:" / "Instructions:" line, up to the next blank line, outside documents."""
    out = []
    for m in re.finditer(r"^[^\n]*$", text, re.MULTILINE):
        if _inside(m.start(), regions) or not _RULES_HEADER.fullmatch(m.group(0).strip() or "-"):
            continue
        stop = text.find("\n\n", m.end())
        out.append((m.start(), len(text) if stop < 0 else stop))
    return out


def _frame_pieces(text: str, doc: int, start: int, end: int, code: list[tuple[int, int]]) -> list[Piece]:
    """The protected sentences and lines of a frame (text outside documents): in a paragraph that is
    mostly instructions every sentence is kept ("I will paste an article. Answer only from it.")."""
    out = []
    for para_start, para_end in _paragraphs(text, start, end):
        out.extend(_paragraph_pieces(text, doc, para_start, para_end, code,
                                     _frame_like(text, para_start, para_end)))
    return out


def _paragraph_pieces(text: str, doc: int, start: int, end: int, code: list[tuple[int, int]],
                      whole: bool) -> list[Piece]:
    out = []
    for line_start, line_end in _lines(text, start, end):
        if _inside(line_start, code):
            continue
        line = text[line_start:line_end]
        body = line_start + (len(line) - len(_unbullet(line)))
        left, right = stripped(text, body, line_end)
        content = text[left:right]
        if not content:
            continue
        if _QUESTION_LINE.match(content):
            out.append(Piece(doc, left, right, "question", "question"))
            continue
        if _ANSWER_PREFIX.fullmatch(content):
            out.append(Piece(doc, left, right, "scaffolding", "answer_prefix"))
            continue
        if _RULES_HEADER.fullmatch(content) or (len(content) <= 200 and _INTRO.fullmatch(content)):
            out.append(Piece(doc, left, right, "scaffolding", "intro"))
            continue
        for s, e in sentence_offsets(text[body:line_end], base=body):
            kind = _sentence_kind(text[s:e]) or ("instruction" if whole else None)
            if kind == "question":
                out.append(Piece(doc, s, e, "question", "question"))
            elif kind == "instruction":
                out.append(Piece(doc, s, e, "instruction", _instruction_label(text[s:e])))
    return out


def _query_pieces(text: str, doc: int, query: str | None) -> list[Piece]:
    """Where the caller's question appears verbatim in the text."""
    if not query or len(query.strip()) < 8:
        return []
    return [Piece(doc, m.start(), m.end(), "question", "question")
            for m in re.finditer(re.escape(query.strip()), text)]


def _sentence_kind(sentence: str) -> str | None:
    s = _unbullet(sentence).strip().lstrip("\"'“‘(")
    if not s:
        return None
    if len(s) <= MAX_INSTRUCTION_CHARS and (_PERSONA.match(s) or _RULE.match(s) or _DEMAND.match(s)):
        return "instruction"
    if s.endswith(("?", "？")) and len(s) <= 400:
        return "question"
    return None


def _frame_like(text: str, start: int, end: int) -> bool:
    """A paragraph most of whose lines/sentences are instructions, questions, answer prefixes or intros."""
    votes = total = 0
    for line_start, line_end in _lines(text, start, end):
        line = _unbullet(text[line_start:line_end]).strip()
        if not line:
            continue
        if (_QUESTION_LINE.match(line) or _ANSWER_PREFIX.fullmatch(line) or _RULES_HEADER.fullmatch(line)
                or (len(line) <= 200 and _INTRO.fullmatch(line))):
            votes, total = votes + 1, total + 1
            continue
        for s, e in sentence_offsets(line):
            total += 1
            votes += _sentence_kind(line[s:e]) is not None
    return total > 0 and votes * 2 > total


def _instruction_label(sentence: str) -> str:
    low = sentence.lower()
    if _PERSONA.match(_unbullet(sentence).strip()):
        return "persona"
    if re.search(r"don'?t know|do not know|not sure|refuse|decline|cannot answer|can't answer|unable to "
                 r"answer|不知道|无法回答|拒绝", low):
        return "refusal"
    if re.search(r"\bcite|citation|passage number|source|reference|quote|引用|出处", low):
        return "citation"
    if re.search(r"\bin (?:english|french|german|spanish|chinese|japanese|italian|portuguese|korean|the "
                 r"user's language)|language|中文|英文|语言", low):
        return "language"
    if re.search(r"format|json|bullet|markdown|table|words|sentences?\b|concise|brief|list|格式|字", low):
        return "format"
    return "rule"


def _unbullet(line: str) -> str:
    return re.sub(rf"^\s*{_BULLET}", "", line)


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out, pos = [], start
    for line in text[start:end].splitlines(keepends=True):
        out.append((pos, pos + len(line.rstrip("\r\n"))))
        pos += len(line)
    return out


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out, pos = [], start
    for m in re.finditer(r"\n[ \t]*\n\s*", text[start:end]):
        if text[pos : start + m.start()].strip():
            out.append((pos, start + m.start()))
        pos = start + m.end()
    if text[pos:end].strip():
        out.append((pos, end))
    return out


def _inside(pos: int, ranges: list[tuple[int, int]]) -> bool:
    return any(s <= pos < e for s, e in ranges)


def _merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(ranges):
        if out and s < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _gaps(text: str, pieces: list[Piece]) -> list[tuple[int, int]]:
    spans = without_spans(0, len(text), _merge_ranges([(p.start, p.end) for p in pieces]))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def overlaps(piece: Piece, pieces: list[Piece]) -> bool:
    """Whether ``piece`` shares text with any of ``pieces``."""
    return any(p.doc == piece.doc and p.start < piece.end and piece.start < p.end for p in pieces)


def merge_pieces(pieces: list[Piece]) -> list[Piece]:
    """Overlapping pieces become one (the first's kind, a caller's ``keep`` winning)."""
    out: list[Piece] = []
    for p in sorted(pieces, key=lambda p: (p.doc, p.start, -p.end)):
        if p.end <= p.start:
            continue
        last = out[-1] if out else None
        if last is not None and last.doc == p.doc and p.start < last.end:
            kind, label = (p.kind, p.label) if p.kind == "keep" else (last.kind, last.label)
            out[-1] = Piece(p.doc, last.start, max(last.end, p.end), kind, label)
        else:
            out.append(p)
    return out
