"""Condenser: question-aware prompt compression in front of any LLM API.

``from condenser import compress`` is the in-process SDK (same as ``compressor.compress``).
"""

from compressor import CompressionResult, Span, available_methods, compress, count_tokens

__all__ = ["CompressionResult", "Span", "available_methods", "compress", "count_tokens"]
__version__ = "0.1.0"
