"""Token counting in the target LLM's tokens (tiktoken), fully offline.

Every budget and ratio in Condenser is counted with these encodings, never with a compressor model's
sub-word tokenizer: what users pay for is the target LLM's tokens.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import tiktoken

DEFAULT_ENCODING = "cl100k_base"
_BPE_DIR = Path(__file__).parent / "_tiktoken"
# sha1 of each encoding's download URL: the file name tiktoken looks for in TIKTOKEN_CACHE_DIR.
_SHIPPED = {
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
    "p50k_base": "ec7223a39ce59f226a68acc30dc1af2788490e15",
}


def _point_tiktoken_at_shipped_files() -> None:
    # Respect a user's own cache dir when it already holds what we need.
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(_BPE_DIR))


_point_tiktoken_at_shipped_files()


def available_encodings() -> list[str]:
    """Encodings that work offline with the shipped BPE files."""
    return sorted(_SHIPPED)


@lru_cache(maxsize=8)
def get_encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """Return a tiktoken encoding, loaded from the files shipped with Condenser.

    Raises ``LookupError`` naming the encoding when its BPE file is not available offline.
    """
    if name not in _SHIPPED:
        raise LookupError(
            f"encoding {name!r} is not available offline; shipped encodings: {', '.join(available_encodings())}"
        )
    cache_dir = Path(os.environ["TIKTOKEN_CACHE_DIR"])
    if not (cache_dir / _SHIPPED[name]).exists() and not (_BPE_DIR / _SHIPPED[name]).exists():
        raise LookupError(f"BPE file for encoding {name!r} is missing from {cache_dir} and {_BPE_DIR}")
    if not (cache_dir / _SHIPPED[name]).exists():
        os.environ["TIKTOKEN_CACHE_DIR"] = str(_BPE_DIR)
    return tiktoken.get_encoding(name)


def encoding_for_model(model: str) -> str:
    """Name of the encoding a model uses (e.g. ``gpt-4o`` -> ``o200k_base``), ``cl100k_base`` if unknown."""
    try:
        return tiktoken.encoding_name_for_model(model)
    except KeyError:
        return DEFAULT_ENCODING


def count_tokens(text: str, encoding: str = DEFAULT_ENCODING) -> int:
    """Number of target-LLM tokens in ``text`` (special-token strings are counted as plain text)."""
    return len(get_encoding(encoding).encode_ordinary(text))


def count_many(texts: list[str], encoding: str = DEFAULT_ENCODING) -> list[int]:
    """Token counts of many texts at once.

    A plain loop: for the chunker's sentence-sized texts it was 3x faster than tiktoken's
    ``encode_ordinary_batch``, whose thread pool costs more per text than encoding one does (478 units of a
    10k-token prompt: 9 ms against 28 ms).
    """
    encode = get_encoding(encoding).encode_ordinary
    return [len(encode(t)) for t in texts]
