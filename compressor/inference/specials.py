"""The model's own special tokens around one or two id sequences (no hard-coded [CLS]/[SEP]).

transformers 5 dropped ``build_inputs_with_special_tokens`` from fast tokenizers, so the template is
read once off the tokenizer by encoding a probe pair and locating the probe ids in the result.
"""

from __future__ import annotations

_PROBE_A, _PROBE_B = "hello", "world"


def _find(seq: list[int], sub: list[int], start: int = 0) -> int:
    for i in range(start, len(seq) - len(sub) + 1):
        if seq[i : i + len(sub)] == sub:
            return i
    raise ValueError("could not locate the probe tokens: tokenizer template not understood")


def _template(tokenizer) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    cached = getattr(tokenizer, "_condenser_template", None)
    if cached is not None:
        return cached
    a = tokenizer(_PROBE_A, add_special_tokens=False)["input_ids"]
    b = tokenizer(_PROBE_B, add_special_tokens=False)["input_ids"]
    single = tokenizer(_PROBE_A)["input_ids"]
    i = _find(single, a)
    pair = tokenizer(_PROBE_A, _PROBE_B)["input_ids"]
    j = _find(pair, a)
    k = _find(pair, b, j + len(a))
    template = (single[:i], single[i + len(a) :], pair[:j], pair[j + len(a) : k], pair[k + len(b) :])
    tokenizer._condenser_template = template
    return template


def with_specials(tokenizer, first: list[int], second: list[int] | None = None) -> list[int]:
    """``first`` (and ``second``) wrapped in the tokenizer's own special tokens."""
    s_pre, s_suf, p_pre, p_mid, p_suf = _template(tokenizer)
    if second is None:
        return s_pre + first + s_suf
    return p_pre + first + p_mid + second + p_suf


def suffix_length(tokenizer, pair: bool) -> int:
    """Special tokens after the last sequence (where a window's own tokens end)."""
    template = _template(tokenizer)
    return len(template[4] if pair else template[1])
