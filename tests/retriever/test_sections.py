from retriever.chunker import chunk
from retriever.sections import line_titles, section_heads, titled, titled_units, unit_titles

MULTI_DOC = ("Passage 1:\nArcade Fire\nArcade Fire are a band. They are based in Montreal.\n\n"
             "Passage 2:\nReflektor\nReflektor is an album by Arcade Fire.")


def _titles_by_line(text):
    return {text[s:e].strip(): t for s, e, t in line_titles(text) if text[s:e].strip()}


def test_passage_titles_follow_their_label():
    titles = _titles_by_line(MULTI_DOC)
    assert titles["Arcade Fire are a band. They are based in Montreal."] == "Arcade Fire"
    assert titles["Reflektor is an album by Arcade Fire."] == "Reflektor"
    assert titles["Passage 1:"] == "" and titles["Arcade Fire"] == ""  # label and title need no prefix


def test_markdown_heading_scopes_following_paragraphs():
    text = "# Billing\nWe bill monthly.\n\nRefunds take a week.\n\n## Support\nCall us."
    titles = _titles_by_line(text)
    assert titles["We bill monthly."] == "Billing"
    assert titles["Refunds take a week."] == "Billing"
    assert titles["Call us."] == "Support"


def test_inline_document_titles():
    text = ("Document [1](Title: Nile) The Nile is long.\n"
            "Document [2](Title: Amazon) It carries the most water.")
    titles = _titles_by_line(text)
    assert titles["Document [2](Title: Amazon) It carries the most water."] == "Amazon"


def test_sentences_are_not_mistaken_for_titles():
    text = "The river is long.\nIt flows north.\n\nA second paragraph starts here.\nAnd goes on."
    assert set(_titles_by_line(text).values()) == {""}


def test_titled_units_prefix_the_sentences_of_a_passage():
    units = chunk([MULTI_DOC]).units
    texts = titled_units([MULTI_DOC], units)
    assert "Arcade Fire: They are based in Montreal." in texts
    assert "Reflektor: Reflektor is an album by Arcade Fire." in texts
    assert len(texts) == len(units)


def test_unit_titles_of_offsets_and_empty_text():
    assert unit_titles("", [0]) == [""]
    start = MULTI_DOC.index("They")
    assert unit_titles(MULTI_DOC, [0, start]) == ["", "Arcade Fire"]
    assert titled("", "Plain.") == "Plain."


def test_section_heads_point_at_the_title_line_of_each_passage():
    units = chunk([MULTI_DOC]).units
    texts = [MULTI_DOC[u.start : u.end] for u in units]
    heads = section_heads([MULTI_DOC], units)
    by_text = {t.strip(): (texts[h].strip() if h >= 0 else None) for t, h in zip(texts, heads)}
    assert by_text["They are based in Montreal."] == "Arcade Fire"
    assert by_text["Reflektor is an album by Arcade Fire."] == "Reflektor"
    assert by_text["Arcade Fire"] is None and by_text["Passage 2:"] is None


def test_section_heads_of_markdown_and_inline_titles():
    text = "# Billing\nWe bill monthly.\n\nRefunds take a week."
    units = chunk([text]).units
    heads = section_heads([text], units)
    texts = [text[u.start : u.end].strip() for u in units]
    assert [texts[h] if h >= 0 else None for h in heads][-1] == "# Billing"
    inline = "Document [1](Title: Nile) The Nile is long.\nDocument [2](Title: Amazon) It is wide."
    assert set(section_heads([inline], chunk([inline]).units)) == {-1}  # the title is on the line itself
