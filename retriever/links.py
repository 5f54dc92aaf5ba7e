"""Links between sections: a sentence that names another section's title points at that section.

"Reflektor is a song by Canadian indie rock band Arcade Fire" names the section titled "Arcade Fire",
whose first sentence ("Arcade Fire are a Canadian indie rock band based in Montreal") answers "Reflektor
is by a band based in which city?". The question does not name that section, so neither BM25 nor the
retriever finds it; the link does, as hyperlinks do in graph-based multi-hop readers (HGN, CogQA). A
section's first sentence is the one a link needs: on Wikipedia-like passages it defines the entity.
"""

from __future__ import annotations

import re

#: shorter titles ("EU", "AI") match too many sentences to mean a link
MIN_TITLE_CHARS = 3
_DISAMBIGUATION = re.compile(r"\s*\([^()]*\)\s*$")  # "Reflektor (song)" is named as "Reflektor"


def title_pattern(title: str) -> re.Pattern | None:
    """A case-insensitive whole-word pattern for ``title`` without its disambiguation, or None if short."""
    name = _DISAMBIGUATION.sub("", title.strip())
    if len(name) < MIN_TITLE_CHARS:
        return None
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)


def section_leads(heads: list[int]) -> dict[int, int]:
    """Title-line unit -> the first unit of its section (``heads`` from ``retriever.sections.section_heads``)."""
    leads: dict[int, int] = {}
    for i, head in enumerate(heads):
        if head >= 0:
            leads.setdefault(head, i)
    return leads


def linked_leads(documents: list[str], units, heads: list[int], query: str | None,
                 linkers: list[int]) -> dict[int, list[int]]:
    """For each unit of ``linkers``, the first units of the other sections whose titles it names.

    Sections the question names are left out (the question's own ranking finds them), and so is the
    linker's own section.
    """
    leads = section_leads(heads)
    patterns = {}
    for head in leads:
        pattern = title_pattern(_text(documents, units[head]))
        if pattern is not None and not (query and pattern.search(query)):
            patterns[head] = pattern
    return {j: [leads[head] for head, pattern in patterns.items()
                if head != heads[j] and pattern.search(_text(documents, units[j]))]
            for j in linkers}


def _text(documents: list[str], unit) -> str:
    return documents[unit.doc][unit.start : unit.end]
