from retriever.chunker import chunk
from retriever.links import linked_leads, section_leads, title_pattern
from retriever.sections import section_heads

BRIDGE = ("Passage 1:\nReflektor (album)\nReflektor is an album by Arcade Fire. It came out in 2013.\n\n"
          "Passage 2:\nArcade Fire\nArcade Fire are a band from Montreal. They formed in 2001.\n\n"
          "Passage 3:\nThe Strokes\nThe Strokes are from New York.")


def _units():
    units = chunk([BRIDGE]).units
    index = {BRIDGE[u.start : u.end].strip(): i for i, u in enumerate(units)}
    return units, index


def test_title_pattern_drops_the_disambiguation_and_matches_whole_words():
    pattern = title_pattern("Reflektor (album)")
    assert pattern.search("the REFLEKTOR tour") and not pattern.search("Reflektors")
    assert title_pattern("EU") is None  # too short to mean a link


def test_section_leads_are_the_first_unit_under_each_title():
    units, index = _units()
    leads = section_leads(section_heads([BRIDGE], units))
    assert leads[index["Arcade Fire"]] == index["Arcade Fire are a band from Montreal."]
    assert leads[index["Reflektor (album)"]] == index["Reflektor is an album by Arcade Fire."]


def test_a_sentence_links_to_the_sections_it_names_but_not_its_own_or_the_questions():
    units, index = _units()
    heads = section_heads([BRIDGE], units)
    album, formed = index["Reflektor is an album by Arcade Fire."], index["They formed in 2001."]
    links = linked_leads([BRIDGE], units, heads, "Which city is Reflektor's band from?", [album, formed])
    assert links == {album: [index["Arcade Fire are a band from Montreal."]], formed: []}
    named = linked_leads([BRIDGE], units, heads, "Is Arcade Fire from Montreal?", [album])
    assert named == {album: []}  # the question finds a section it names by itself
