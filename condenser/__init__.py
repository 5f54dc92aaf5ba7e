"""Condenser: question-aware prompt compression in front of any LLM API.

``compress`` runs in-process (the same as ``compressor.compress``); ``Client``/``AsyncClient`` call a
running Condenser service with the same signature; ``CondenserCompressor`` is the LangChain adapter
(imported lazily, so langchain-core stays optional).
"""

from compressor import CompressionResult, Span, available_methods, compress, compress_many, count_tokens
from condenser.client import AsyncClient, Client, RemoteCompressionResult
from condenser.errors import CondenserConnectionError, CondenserError, CondenserHTTPError

__all__ = [
    "AsyncClient", "Client", "CompressionResult", "CondenserCompressor", "CondenserConnectionError",
    "CondenserError", "CondenserHTTPError", "RemoteCompressionResult", "Span", "available_methods", "compress",
    "compress_many", "count_tokens",
]
__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "CondenserCompressor":
        from condenser.langchain import CondenserCompressor

        return CondenserCompressor
    raise AttributeError(f"module 'condenser' has no attribute {name!r}")
