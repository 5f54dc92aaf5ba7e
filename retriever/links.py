"""Links between sections: a sentence that names another section's title points at that section.

"Reflektor is a song by Canadian indie rock band Arcade Fire" names the section titled "Arcade Fire",
whose first sentence ("Arcade Fire are a Canadian indie rock band based in Montreal") answers "Reflektor
is by a band based in which city?". The question does not name that section, so neither BM25 nor the
retriever finds it; the link does, as hyperlinks do in graph-based multi-hop readers (HGN, CogQA). A
section's first sentence is the one a link needs: on Wikipedia-like passages it defines the entity.
"""

from __future__ import annotations

import re

from retriever.sections import section_titles

#: shorter titles ("EU", "AI") match too many sentences to mean a link
MIN_TITLE_CHARS = 3
_DISAMBIGUATION = re.compile(r"\s*\([^()]*\)\s*$")  # "Reflektor (song)" is named as "Reflektor"


def title_pattern(title: str) -> re.Pattern | None:
    """A case-insensitive whole-word pattern for ``title`` without its disambiguation, or None if short."""
    name = _DISAMBIGUATION.sub("", title.strip())
    if len(name) < MIN_TITLE_CHARS:
        return None
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)


def section_starts(titles: list[str], units) -> list[int]:
    """For each unit, the index of the first unit of its section (the run of units of one document read
    under one title), or -1 for a unit under no title (title lines among them). Covers title lines and
    Markdown headings (their sentences follow the title's own unit) and "Document [i](Title: ...)" lines
    (the title is on the sentences' own line)."""
    starts: list[int] = []
    for i, (unit, title) in enumerate(zip(units, titles)):
        same = i > 0 and title == titles[i - 1] and units[i - 1].doc == unit.doc
        starts.append(-1 if not title else starts[-1] if same else i)
    return starts


def linked_leads(documents: list[str], units, query: str | None, linkers: list[int],
                 titles: list[str] | None = None) -> dict[int, list[int]]:
    """For each unit of ``linkers``, the first units of the other sections whose titles it names.

    Sections the question names are left out (the question's own ranking finds them), and so is the
    linker's own section. ``titles``: ``retriever.sections.section_titles`` of ``units``, if computed.
    """
    titles = section_titles(documents, units) if titles is None else titles
    starts = section_starts(titles, units)
    patterns = {}
    for lead in dict.fromkeys(s for s in starts if s >= 0):
        pattern = title_pattern(titles[lead])
        if pattern is not None and not (query and pattern.search(query)):
            patterns[lead] = pattern
    return {j: [lead for lead, pattern in patterns.items()
                if lead != starts[j] and pattern.search(_text(documents, units[j]))]
            for j in linkers}


def _text(documents: list[str], unit) -> str:
    return documents[unit.doc][unit.start : unit.end]
