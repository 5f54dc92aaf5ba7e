"""Condenser's compression SDK: ``compress(context, query)`` and the method registry."""

from compressor.tokens import count_tokens, get_encoding  # noqa: I001  (sets up offline tiktoken first)
from compressor.result import CompressionResult, Span
from compressor.registry import available_methods, get_method, register
from compressor.sdk import compress, compress_many

__all__ = [
    "CompressionResult", "Span", "available_methods", "compress", "compress_many", "count_tokens",
    "get_encoding", "get_method", "register",
]
__version__ = "0.1.0"
