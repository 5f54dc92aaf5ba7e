"""The one interface every compression method implements.

A method receives a ``Request`` (documents, the regions a coarse stage kept, the chunked units, query,
budget) and returns scored ``Candidate`` spans over the ORIGINAL documents. It never assembles text or
counts the final budget itself: ``compressor.budget.fit`` does that, identically for all methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:  # retriever imports compressor.tokens: keep this edge type-only
    from retriever.chunker import Unit


@dataclass(frozen=True)
class Region:
    """A slice ``[start, end)`` of document ``doc`` that is still in play after coarse retrieval."""

    doc: int
    start: int
    end: int


@dataclass(frozen=True)
class Candidate:
    """A span a method proposes to keep, with its score (higher = keep first).

    ``atomic`` spans are kept whole or dropped (code blocks, tables, JSON); others may be cut at a word
    boundary when the budget's last tokens need filling.
    """

    doc: int
    start: int
    end: int
    score: float
    atomic: bool = False


@dataclass
class Request:
    """Everything a method needs to score one compression."""

    documents: list[str]
    query: str | None
    budget: int
    encoding: str
    regions: list[Region]
    units: list[Unit]
    options: dict[str, Any] = field(default_factory=dict)
    #: seconds per sub-stage a method may report (the pipeline shows them as ``compress.<name>``)
    timings: dict[str, float] = field(default_factory=dict)
    #: what the method wants to report beside its spans (e.g. a reranker's scores); copied to the result
    info: dict[str, Any] = field(default_factory=dict)
    #: every unit of the documents before the coarse stage narrowed them (None: nothing was narrowed);
    #: a method may prepare the rest in the background for the next question on the same documents
    all_units: list[Unit] | None = None

    def region_texts(self) -> list[str]:
        return [self.documents[r.doc][r.start : r.end] for r in self.regions]

    def unit_texts(self) -> list[str]:
        return [self.documents[u.doc][u.start : u.end] for u in self.units]


class Method(ABC):
    """A compression method. Subclasses set ``name`` and implement ``compress``."""

    name: ClassVar[str]
    #: whether the pipeline may narrow long inputs with coarse page retrieval before this method runs
    uses_coarse_stage: ClassVar[bool] = True
    #: whether the fit may cut out of a candidate the text an already-kept one holds (overlapping chunks,
    #: ``retriever.repeats``); a method whose output must be a slice of the input says False
    drops_repeats: ClassVar[bool] = True
    #: the options this method understands (others are rejected with a clear error)
    options: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def compress(self, request: Request) -> list[Candidate]:
        """Return scored candidate spans; ``fit`` turns them into an output within the budget."""

    def prepare(self, requests: list[Request]) -> None:
        """Get ready to ``compress`` all of ``requests`` (``Pipeline.run_many``): a method with a model may
        run it over every request at once here, in large batches, and keep what ``compress`` will look up.
        The default does nothing."""

    def model_version(self) -> str:
        """Identifies the weights/config behind this method (used in cache keys)."""
        return f"{self.name}-1"


class SentenceScorer(Method):
    """A method that scores the chunker's units (sentences and structural blocks) and keeps the best.

    A subclass that sets ``threshold`` (a score in [0, 1]) takes a ``threshold`` option with that default
    and offers only the units scoring at or above it (0 keeps the budget full).
    """

    threshold: ClassVar[float | None] = None

    @abstractmethod
    def score(self, texts: list[str], query: str | None, request: Request) -> np.ndarray:
        """One relevance score per unit text."""

    def compress(self, request: Request) -> list[Candidate]:
        threshold = self._threshold(request.options)
        if not request.units:
            return []
        scores = np.asarray(self.score(request.unit_texts(), request.query, request), dtype=float)
        return [
            Candidate(u.doc, u.start, u.end, float(s), u.atomic) for u, s in zip(request.units, scores)
            if threshold is None or s >= threshold
        ]

    def _threshold(self, options: dict[str, Any]) -> float | None:
        if self.threshold is None:
            return None
        value = float(options.get("threshold", self.threshold))
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {value}")
        return value
