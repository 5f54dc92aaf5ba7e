"""Composition of chunking, retrieval and compression into one configurable pipeline."""

from pipelines.config import CoarseConfig, PipelineConfig
from pipelines.pipeline import PIPELINE_OPTIONS, Pipeline, default_pipeline

__all__ = ["PIPELINE_OPTIONS", "CoarseConfig", "Pipeline", "PipelineConfig", "default_pipeline"]
