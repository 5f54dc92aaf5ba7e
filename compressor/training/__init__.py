"""Training Condenser's embedded model: data from ../shared/data, a fixed seed, a dev split kept apart."""

from compressor.training.splits import is_dev

__all__ = ["is_dev"]
