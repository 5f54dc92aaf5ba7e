"""Prompt anatomy: the classifier on many prompt shapes, and compress() keeping what it protects."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest

from compressor import compress
from compressor.anatomy import analyse, classify, strip_keep_markers

FACTS = ("The widget model W{i} ships with a {i}-year warranty. It was designed in Lyon by a team of "
         "{n} engineers. Never again would the team use plastic for the casing. Production moved to "
         "Porto in 20{i:02d}, and the factory there employs {n}0 people.")


def _docs(n: int, label: str = "Passage {i}:\n") -> str:
    return "\n\n".join(label.format(i=i) + FACTS.format(i=i, n=i + 11) for i in range(1, n + 1))


RAG_SYSTEM = ("You are a support assistant. Always answer in French. Cite the passage number. "
              "Answer from the documents.\n\n" + _docs(3))
ANTHROPIC_XML = (
    "<documents>\n" + "\n".join(
        f'<document index="{i}">\n<source>manual_{i}.pdf</source>\n<document_content>\n'
        f"{FACTS.format(i=i, n=12)}\n</document_content>\n</document>" for i in (1, 2)) +
    "\n</documents>\n\nAnswer the question using only the documents above. Quote the relevant passage "
    "first.\n\n<question>Where was W2 designed?</question>")
LONGBENCH_EN = ("Answer the question based on the given passages. Only give me the answer and do not output "
                "any other words.\n\nThe following are given passages.\n" + _docs(2) +
                "\n\nAnswer the question based on the given passages. Only give me the answer and do not "
                "output any other words.\n\nQuestion: Where was W1 designed?\nAnswer:")
LANGCHAIN_STUFF = ("Use the following pieces of context to answer the question at the end. If you don't know "
                   "the answer, just say that you don't know, don't try to make up an answer.\n\n" +
                   _docs(2, "") + "\n\nQuestion: How many engineers designed W2?\nHelpful Answer:")
CHAT_RULES = ("You are Max, the helpdesk bot of Acme.\n\n" + _docs(2, "") +
              "\n\nRules:\n- Never promise refunds.\n- Always escalate billing issues to a human.\n"
              "- Keep answers under 80 words.")
TOOL_OUTPUT = "Search results for 'warranty':\n" + _docs(2, "[{i}] ")
CHINESE = ("你是一名客服助手。请用中文回答。只根据下面的文章回答问题。\n\n"
           "深圳是广东省的一个城市。它位于珠江口东岸。深圳在一九八〇年成为经济特区。\n\n问题：深圳位于哪里？")
CHINESE_LONGBENCH = ("阅读以下文字并用中文简短回答：\n\n深圳是广东省的一个城市。它位于珠江口东岸。\n\n"
                     "现在请基于上面的文章回答下面的问题，只告诉我答案，不要输出任何其他字词。\n\n问题：深圳位于哪里？\n回答：")
JSON_DOC = json.dumps({"users": [{"name": "Ann", "role": "admin"}, {"name": "Bob", "role": "user"}],
                      "note": "Always answer in French."})
MARKDOWN = ("# Handbook\n\n## Travel\n\nTrains are booked by the office. Always keep receipts for taxis.\n\n"
            "```python\n# Never run this in production\nprint('hi')\n```\n\n## Food\n\nLunch is served at noon.")
WIKI_LABELS = ("Document [1](Title: Eiffel Tower) The Eiffel Tower is in Paris. It was finished in 1889.\n"
               "Document [2](Title: Big Ben) Big Ben is in London.\n\nWhich tower is in Paris?")
NOVEL = ("Chapter one.\n\nThe rain had not stopped for days. \"You are a fool,\" said the captain. Never again "
         "would he sail north. Always the same grey sky, always the same cold.\n\nShe left the harbour at dawn.")
META_LINES = ("Title: Quarterly report\nSource: https://example.com/q3\n\nRevenue grew 5% in Q3. Costs fell. "
              "The board met twice.\n\nSummarize the report in three bullet points.")
PERSONA_FORMAT = ("You are an expert financial analyst. Respond in JSON with keys 'answer' and 'confidence'. "
                  "If the documents do not contain the answer, reply \"unknown\".\n\n" + _docs(2, "Doc {i}: "))
SHORT_NOTE = "The meeting with Acme Corp is on Tuesday at 3pm in room 204. Bring the Q3 report."

SHAPES = [
    ("rag-system-prompt", RAG_SYSTEM,
     ["You are a support assistant.", "Always answer in French.", "Cite the passage number.",
      "Answer from the documents.", "Passage 1:", "Passage 2:", "Passage 3:"],
     ["Never again would the team use plastic", "The widget model W1"]),
    ("anthropic-xml", ANTHROPIC_XML,
     ["<documents>", '<document index="1">', "<source>", "manual_1.pdf", "<document_content>",
      "</document_content>", "Answer the question using only the documents above.",
      "Quote the relevant passage first.", "Where was W2 designed?"],
     ["Never again would the team", "It was designed in Lyon"]),
    ("longbench-template", LONGBENCH_EN,
     ["Answer the question based on the given passages.", "do not output any other words.",
      "The following are given passages.", "Passage 1:", "Question: Where was W1 designed?", "Answer:"],
     ["It was designed in Lyon"]),
    ("langchain-stuff", LANGCHAIN_STUFF,
     ["Use the following pieces of context to answer the question at the end.",
      "If you don't know the answer, just say that you don't know, don't try to make up an answer.",
      "Question: How many engineers designed W2?"],
     ["Never again would the team", "Production moved to Porto"]),
    ("chat-with-rules", CHAT_RULES,
     ["You are Max, the helpdesk bot of Acme.", "Never promise refunds.",
      "Always escalate billing issues to a human.", "Keep answers under 80 words."],
     ["Never again would the team", "It was designed in Lyon"]),
    ("tool-output-numbered", TOOL_OUTPUT + "\n\nCite the results by number.", ["[1]", "[2]",
     "Search results for 'warranty':"], ["Never again would the team"]),
    ("chinese-instructions", CHINESE,
     ["你是一名客服助手。", "请用中文回答。", "只根据下面的文章回答问题。", "问题：深圳位于哪里？"],
     ["深圳在一九八〇年成为经济特区。"]),
    ("chinese-longbench", CHINESE_LONGBENCH,
     ["阅读以下文字并用中文简短回答：", "现在请基于上面的文章回答下面的问题，只告诉我答案，不要输出任何其他字词。",
      "问题：深圳位于哪里？", "回答："],
     ["它位于珠江口东岸。"]),
    ("json-document", JSON_DOC, [], ["Always answer in French."]),
    ("markdown-with-code", MARKDOWN, [], ["Always keep receipts", "Never run this in production"]),
    ("wiki-title-labels", WIKI_LABELS,
     ["Document [1](Title: Eiffel Tower)", "Document [2](Title: Big Ben)", "Which tower is in Paris?"],
     ["The Eiffel Tower is in Paris."]),
    ("novel-prose", NOVEL, [], ["You are a fool", "Never again would he sail north", "Always the same grey"]),
    ("metadata-lines", META_LINES,
     ["Title: Quarterly report", "Source: https://example.com/q3", "Summarize the report in three bullet points."],
     ["Revenue grew 5% in Q3."]),
    ("persona-format-refusal", PERSONA_FORMAT,
     ["You are an expert financial analyst.", "Respond in JSON with keys 'answer' and 'confidence'.",
      "If the documents do not contain the answer, reply \"unknown\".", "Doc 1:", "Doc 2:"],
     ["Never again would the team"]),
    ("short-note", SHORT_NOTE, [], ["The meeting with Acme Corp", "Bring the Q3 report."]),
    ("inline-keep-marker", "Filler one. <keep>Badge code 7731 opens door B.</keep> Filler two. Filler three.",
     ["Badge code 7731 opens door B."], ["Filler one.", "Filler two."]),
]


def _protected_texts(text: str, query: str | None = None) -> tuple[str, list[str]]:
    anatomy = analyse([text], query)
    doc = anatomy.documents[0]
    return doc, [doc[p.start : p.end] for p in anatomy.protected + [h.piece for h in anatomy.held]]


@pytest.mark.parametrize(("text", "protected", "context"), [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES])
def test_shape_is_classified(text, protected, context):
    doc, pieces = _protected_texts(text)
    for wanted in protected:
        assert any(wanted in p for p in pieces), f"{wanted!r} not protected; protected: {pieces}"
    for free in context:
        assert free in doc
        assert not any(free in p for p in pieces), f"{free!r} was protected: {pieces}"


def test_labels_and_kinds_of_the_rag_prompt():
    kinds = {RAG_SYSTEM[p.start : p.end]: (p.kind, p.label) for p in classify(RAG_SYSTEM)}
    assert kinds["You are a support assistant."] == ("instruction", "persona")
    assert kinds["Always answer in French."] == ("instruction", "language")
    assert kinds["Cite the passage number."] == ("instruction", "citation")
    assert kinds["Passage 2:"] == ("scaffolding", "label")
    context = [p for p in classify(RAG_SYSTEM) if p.kind == "context"]
    assert len(context) == 3 and all("warranty" in RAG_SYSTEM[p.start : p.end] for p in context)


def test_classify_covers_the_text_in_order():
    pieces = classify(LONGBENCH_EN)
    assert all(a.end <= b.start for a, b in pairwise(pieces))
    covered = " ".join(LONGBENCH_EN[p.start : p.end] for p in pieces)
    assert covered.split() == LONGBENCH_EN.split()


def test_query_found_in_text_is_a_question():
    text = SHORT_NOTE + " Who booked room 204 for Tuesday?"
    _, pieces = _protected_texts(text, "Who booked room 204 for Tuesday?")
    assert pieces == ["Who booked room 204 for Tuesday?"]


def test_keep_markers_are_removed_and_keep_option_finds_every_occurrence():
    text, ranges = strip_keep_markers("a <keep>b c</keep> d <keep>e</keep>")
    assert text == "a b c d e" and [text[s:e] for s, e in ranges] == ["b c", "e"]
    anatomy = analyse(["x y z. x y z.", "x y"], keep=["x y", "missing span"])
    assert [(p.doc, p.start) for p in anatomy.protected] == [(0, 0), (0, 7), (1, 0)]
    assert anatomy.keep_not_found == ["missing span"]
    assert analyse([RAG_SYSTEM], classify=False).protected == []


# --- through compress(): the budget applies to the context, protected text reaches the output verbatim

def _passages_with_text(output: str, n: int) -> list[int]:
    """Passages of ``_docs(n)`` whose own text (a sentence naming their numbers, or its first words when the
    fill cut it) is in ``output``."""
    def starts(i):
        sentences = [x.strip() for x in FACTS.format(i=i, n=i + 11).split(". ")]
        return [" ".join(x.split()[:7]) for x in sentences if any(ch.isdigit() for ch in x)]
    return [i for i in range(1, n + 1) if any(x in output for x in starts(i))]


def _long_rag(n: int = 24) -> str:
    return ("You are a support assistant. Always answer in French. Cite the passage number. Answer from the "
            "documents.\n\n" + _docs(n))


@pytest.mark.parametrize("rate", [0.33, 0.1])
def test_issue_32_1_rag_system_prompt_keeps_instructions_and_labels(rate):
    text = _long_rag()
    result = compress(text, "Where is the W7 factory?", rate=rate)
    for instruction in ("You are a support assistant.", "Always answer in French.", "Cite the passage number.",
                        "Answer from the documents."):
        assert instruction in result.text
    with_text = _passages_with_text(result.text, 24)
    assert with_text and all(f"Passage {i}:" in result.text for i in with_text)
    assert sum(f"Passage {i}:" in result.text for i in range(1, 25)) == len(with_text)  # no empty labels
    anatomy = result.info["anatomy"]
    assert anatomy["counts"]["instruction"] == 4 and anatomy["counts"]["scaffolding"] == 24
    assert result.compressed_tokens <= result.budget
    assert anatomy["context_budget"] == pytest.approx(rate * anatomy["context_tokens"], abs=2)
    assert result.compressed_tokens < result.original_tokens * (rate + 0.25)


def test_keep_marker_and_option_through_compress():
    text = ("Filler sentence about the weather. " * 40 + "<keep>Door code 7731.</keep> " +
            "Another filler sentence about lunch. " * 40)
    result = compress(text, "What is for lunch?", rate=0.1, keep=["Another filler sentence about lunch."])
    assert "Door code 7731." in result.text and "<keep>" not in result.text and "</keep>" not in result.text
    assert result.info["anatomy"]["counts"]["keep"] >= 2
    with pytest.raises(TypeError, match="keep"):
        compress(text, rate=0.1, keep=[3])


def test_target_tokens_stays_a_ceiling_with_protected_text():
    result = compress(_long_rag(), "Where is the W7 factory?", target_tokens=300)
    assert result.compressed_tokens <= 300
    assert "Always answer in French." in result.text


def test_a_bare_context_keeps_no_labels_but_a_prompt_does():
    """Documents alone (no instruction, question or keep) are all context: labels compete for a hard
    budget there; the same documents under an instruction hold their labels."""
    assert analyse([TOOL_OUTPUT]).protected == [] and analyse([TOOL_OUTPUT]).held == []
    prompt = analyse([TOOL_OUTPUT + "\n\nCite the results by number."])
    assert {TOOL_OUTPUT[h.piece.start:h.piece.end].strip() for h in prompt.held} >= {"[1]", "[2]"}


def test_markdown_section_keeps_its_heading():
    sections = "\n\n".join(f"## Section {i}\n\n" + FACTS.format(i=i, n=i + 30) for i in range(1, 13))
    result = compress("# Product notes\n\n" + sections, "How many people does the Porto factory of W9 employ?",
                      rate=0.15)
    assert "Porto in 2009" in result.text or "390 people" in result.text
    assert "## Section 9" in result.text and "# Product notes" in result.text


def test_anatomy_off_compresses_instructions_like_context():
    result = compress(_long_rag(), "Where is the W7 factory?", rate=0.1, anatomy=False)
    assert "anatomy" not in result.info
    assert "Always answer in French." not in result.text


def test_the_last_passage_s_body_after_a_blank_line_is_context():
    """A bare context whose last label is followed by a blank line: its body (lower-cased, one long
    unsplit 'sentence' that mentions 'society' and 'words') is the passage, not a closing instruction."""
    body = ("show, and girls. a distinguished member of the humane society is an 1831 oil on canvas work "
            "depicting a dog; the words of the catalogue list it. " * 6)
    context = "Passage 1:\nfirst passage text about a painter.\n\nPassage 2:\n\n" + body
    anatomy = analyse([context], "Who painted the dog?")
    assert anatomy.protected == [] and anatomy.held == []


def test_a_template_intro_that_instructs_makes_a_prompt():
    """LangChain's stuff prompt without its question line: the intro instructs, so it is kept."""
    intro = ("Use the following pieces of context to answer the question at the end. If you don't know "
             "the answer, just say that you don't know, don't try to make up an answer.")
    anatomy = analyse([intro + "\n\n" + _docs(3)])
    kept = [anatomy.documents[0][p.start:p.end] for p in anatomy.protected]
    assert any("Use the following pieces of context" in k for k in kept), kept
