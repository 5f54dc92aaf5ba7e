"""Compression methods, one module each, all behind ``compressor.methods.base.Method``."""

from compressor.methods.base import Candidate, Method, Region, Request, SentenceScorer

__all__ = ["Candidate", "Method", "Region", "Request", "SentenceScorer"]
