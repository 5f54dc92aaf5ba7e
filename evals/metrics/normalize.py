"""Answer normalisation shared by the LongBench and ZeroSCROLLS metrics.

The rules follow the official scorers (SQuAD-style English normalisation; LongBench's Chinese
normalisation), so token F1 and containment checks agree with the published numbers.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

from unidecode import unidecode

# LongBench's Chinese punctuation set, extended with ASCII punctuation (metrics.py, normalize_zh_answer).
_CN_PUNCTUATION = "！？｡。＂＃＄％＆＇（）＊＋，－／：；＜＝＞＠［＼］＾＿｀｛｜｝～｟｠｢｣､、〃》「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟〰〾〿–—‘’‛“”„‟…‧﹏."
_ASCII_PUNCT = frozenset(string.punctuation)
_ALL_PUNCT = frozenset(string.punctuation + _CN_PUNCTUATION)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD/LongBench English normalisation: lower-case, drop ASCII punctuation and a/an/the, collapse spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _ASCII_PUNCT)
    # Articles become a space (not nothing), as in the official code; the whitespace fix then collapses it.
    return " ".join(_ARTICLES.sub(" ", text).split())


def normalize_zh_answer(text: str) -> str:
    """LongBench Chinese normalisation: lower-case, drop ASCII and Chinese punctuation, drop all whitespace."""
    return "".join("".join(ch for ch in text.lower() if ch not in _ALL_PUNCT).split())


def normalize_zeroscrolls(text: str) -> str:
    """ZeroSCROLLS F1 normalisation: the SQuAD rules above, then ASCII transliteration (unidecode)."""
    return unidecode(normalize_answer(text))


@lru_cache(maxsize=1)
def _jieba():
    """Import jieba once, quietly (it logs its dictionary load at INFO)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def jieba_cut(text: str) -> list[str]:
    """Segment Chinese text with jieba in precise mode (``cut_all=False``), as LongBench does."""
    return list(_jieba().cut(text, cut_all=False))
