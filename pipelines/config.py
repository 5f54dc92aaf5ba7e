"""Pipeline settings: a pydantic model, loadable from YAML or TOML."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from compressor.tokens import DEFAULT_ENCODING


class CoarseConfig(BaseModel):
    """The question-aware first stage: page retrieval down to ``multiple`` x the budget."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    multiple: float = Field(2.0, ge=1.0, description="pages kept, as a multiple of the token budget")
    min_tokens: int = Field(1024, ge=0, description="inputs shorter than this skip the coarse stage")
    page_tokens: int = Field(256, ge=16, description="page size in target-LLM tokens")
    dense_weight: float = Field(0.5, ge=0.0, le=1.0)


class PipelineConfig(BaseModel):
    """chunk -> coarse retrieval -> method -> exact budget fit."""

    model_config = ConfigDict(extra="forbid")
    encoding: str = DEFAULT_ENCODING
    method: str = "condenser"
    rate: float = Field(0.33, gt=0.0, le=1.0, description="default fraction of tokens kept")
    min_fill: float = Field(0.9, ge=0.0, le=1.0, description="outputs use at least this share of the budget")
    coarse: CoarseConfig = Field(default_factory=CoarseConfig)

    @classmethod
    def from_file(cls, path: str | Path) -> "PipelineConfig":
        """Load from ``.yaml``/``.yml`` or ``.toml``."""
        path = Path(path)
        if path.suffix not in (".yaml", ".yml", ".toml"):
            raise ValueError(f"pipeline config must be .yaml, .yml or .toml, got {path.name}")
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else (yaml.safe_load(text) or {})
        return cls.model_validate(data)
