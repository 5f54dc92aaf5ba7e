"""Condenser: question-aware prompt compression in front of any LLM API.

``compress`` runs in-process (the same as ``compressor.compress``); ``Client``/``AsyncClient`` call a
running Condenser service with the same signature. The framework adapters are imported on first use
(PEP 562), so ``import condenser`` needs none of their packages: ``CondenserCompressor`` (LangChain,
langchain-core), ``CondenserNodePostprocessor`` (LlamaIndex, llama-index-core) and ``CondenserHook``
(the LiteLLM callback, litellm and the API's dependencies).
"""

from importlib import import_module

from compressor import CompressionResult, Span, available_methods, compress, compress_many, count_tokens
from condenser.client import AsyncClient, Client, RemoteCompressionResult
from condenser.errors import CondenserConnectionError, CondenserError, CondenserHTTPError

#: the adapters, by name -> the module that defines them (imported by ``__getattr__`` when first asked for)
_LAZY = {"CondenserCompressor": "condenser.langchain", "CondenserNodePostprocessor": "condenser.llamaindex",
         "CondenserHook": "condenser.litellm_hook"}

# the adapters stay out of __all__: ``from condenser import *`` must work without their optional packages
__all__ = [
    "AsyncClient", "Client", "CompressionResult", "CondenserConnectionError", "CondenserError",
    "CondenserHTTPError", "RemoteCompressionResult", "Span", "available_methods", "compress", "compress_many",
    "count_tokens",
]
__version__ = "0.1.0"


def __getattr__(name: str):
    """An adapter, imported now; its module's ImportError (naming the extra to install) if its package is not."""
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value  # later lookups are plain attribute reads
        return value
    raise AttributeError(f"module 'condenser' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
