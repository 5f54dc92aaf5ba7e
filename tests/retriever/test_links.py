from retriever.chunker import chunk
from retriever.links import linked_leads, section_starts, title_pattern
from retriever.sections import section_titles

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


def test_a_section_starts_at_its_first_unit_under_a_title():
    units, index = _units()
    starts = section_starts(section_titles([BRIDGE], units), units)
    band, formed = index["Arcade Fire are a band from Montreal."], index["They formed in 2001."]
    assert starts[band] == starts[formed] == band
    assert starts[index["Arcade Fire"]] == -1  # a title line belongs to no section
    inline = ("Document [1](Title: Reflektor) Reflektor is an album by Arcade Fire. It came out in 2013.\n"
              "Document [2](Title: Arcade Fire) Arcade Fire are a band from Montreal. They formed in 2001.")
    units = chunk([inline]).units
    starts = section_starts(section_titles([inline], units), units)
    assert starts == [0, 0, 2, 2]  # the title is on the sentences' own line


def test_a_sentence_links_to_the_sections_it_names_but_not_its_own_or_the_questions():
    units, index = _units()
    album, formed = index["Reflektor is an album by Arcade Fire."], index["They formed in 2001."]
    links = linked_leads([BRIDGE], units, "Which city is Reflektor's band from?", [album, formed])
    assert links == {album: [index["Arcade Fire are a band from Montreal."]], formed: []}
    named = linked_leads([BRIDGE], units, "Is Arcade Fire from Montreal?", [album])
    assert named == {album: []}  # the question finds a section it names by itself
