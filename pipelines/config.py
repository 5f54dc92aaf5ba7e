"""Pipeline settings: a pydantic model, loadable from YAML or TOML."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from compressor.tokens import DEFAULT_ENCODING


class CoarseConfig(BaseModel):
    """The question-aware first stage of the cascade: cheap page retrieval before the method.

    Pages are kept down to ``target_tokens(budget)`` tokens (target-LLM tokens): ``multiple`` x the budget,
    but at most ``max_tokens`` unless the budget itself needs more (then ``min_multiple`` x the budget).
    The multiple therefore adapts to the rate: large at strong compression (a 10x budget keeps several
    times its size for the model to choose from), small at mild compression, and what the model reads
    stays bounded, which bounds its cost. Inputs up to ``min_tokens`` (6,500) skip it and
    are read whole: narrowing ~1.3k-token HotpotQA dev contexts cost 2 of 48 answers at 5x, and
    narrowing ~5.7k-token MuSiQue contexts to 3,000 tokens cost 15-19 points at 10x (dev 20 / training 48
    items), more than reading them whole with ``condenser``'s fast retriever costs in time. 6,500 rather than
    6,000 reads every MuSiQue context whole (7 of 68 are 6,000-6,460 tokens): answers at 3x/5x/10x dev
    90/70/65 -> 90/70/70 %, training 44/41/34 -> 44/42/36 of 48; 28 LongBench QA items unchanged, and
    8,000 cost one of them at 3x. ``hops`` 2
    expands the query with the best pages once (multi-hop questions: MuSiQue dev recall at 5x 55 -> 65 % through the cascade). ``dense_weight`` 0
    makes the stage BM25 only (no embedding); without a query, BM25 scores pages against the documents'
    most common terms (centrality).
    """

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    multiple: float = Field(4.0, ge=1.0, description="largest share kept, as a multiple of the token budget")
    min_multiple: float = Field(1.25, ge=1.0, description="smallest share kept, as a multiple of the budget")
    max_tokens: int = Field(3000, ge=0, description="keep at most this many tokens unless the budget needs more")
    min_tokens: int = Field(6500, ge=0, description="inputs up to this many tokens skip the coarse stage: "
                            "the method reads them whole")
    page_tokens: int = Field(256, ge=16, description="page size in target-LLM tokens")
    dense_weight: float = Field(0.0, ge=0.0, le=1.0, description="0: BM25 only (cheap); >0: hybrid with MiniLM")
    hops: int = Field(2, ge=1, le=3, description="rounds of query expansion with the best pages (multi-hop)")

    def target_tokens(self, budget: int) -> int:
        """Tokens the coarse stage keeps for a ``budget``-token output (before the method narrows further)."""
        low = int(self.min_multiple * budget)
        high = int(max(self.multiple, self.min_multiple) * budget)
        return max(low, min(high, self.max_tokens))


class PipelineConfig(BaseModel):
    """chunk -> coarse retrieval -> method -> exact budget fit."""

    model_config = ConfigDict(extra="forbid")
    encoding: str = DEFAULT_ENCODING
    method: str = "condenser"
    rate: float = Field(0.33, gt=0.0, le=1.0, description="default fraction of tokens kept")
    min_fill: float = Field(0.9, ge=0.0, le=1.0, description="outputs use at least this share of the budget")
    repeat_words: int = Field(20, ge=0, description="overlapping chunks cost the budget once: the coarse "
                              "stage costs a page by the tokens earlier picks lack, and the fit cuts out "
                              "of a span runs of at least this many words a kept span holds; 0 keeps "
                              "repeats")
    coarse: CoarseConfig = Field(default_factory=CoarseConfig)
    anatomy: bool = Field(True, description="keep a prompt's instructions, question and scaffolding (document "
                          "labels, XML tags, headings of kept sections) whole and compress only its context "
                          "(compressor.anatomy); false: everything is context, except <keep> and keep=")
    method_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="default options per method, e.g. {condenser: {quantize: true, dense_weight: 0}} for the "
                    "fastest CPU profile; options given to a call win",
    )

    @classmethod
    def from_file(cls, path: str | Path) -> PipelineConfig:
        """Load from ``.yaml``/``.yml`` or ``.toml``."""
        path = Path(path)
        if path.suffix not in (".yaml", ".yml", ".toml"):
            raise ValueError(f"pipeline config must be .yaml, .yml or .toml, got {path.name}")
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else (yaml.safe_load(text) or {})
        return cls.model_validate(data)
