"""Checks on ``compress()`` arguments: every bad input gets a clear error naming the argument."""

from __future__ import annotations

import difflib
import math
import warnings
from numbers import Real
from typing import Any

import tiktoken

from compressor import tokens
from compressor.tokens import DEFAULT_ENCODING

#: LLMLingua's argument names, accepted as aliases of Condenser's own: alias -> name
ALIASES = {"question": "query", "target_token": "target_tokens"}
#: every name ``compress()`` understands besides a method's own options: the did-you-mean pool
SDK_ARGUMENTS = frozenset({"context", "query", "rate", "target_tokens", "method", "encoding", "model", "coarse",
                           "repeat_words", "instruction", *ALIASES})
_warned_models: set[str] = set()


def documents_of(context: object) -> tuple[list[str], bool]:
    """``(documents, is_list)`` for a str or list[str] context; raises TypeError/ValueError otherwise."""
    if isinstance(context, str):
        docs, is_list = [context], False
    elif isinstance(context, (list, tuple)):
        bad = [i for i, d in enumerate(context) if not isinstance(d, str)]
        if bad:
            raise TypeError(f"context must be str or list[str]; item {bad[0]} is {type(context[bad[0]]).__name__}")
        docs, is_list = list(context), True
    else:
        raise TypeError(f"context must be str or list[str], got {type(context).__name__}")
    if not any(d.strip() for d in docs):
        raise ValueError("context is empty: nothing to compress")
    return docs, is_list


def check_query(query: object) -> str | None:
    if query is not None and not isinstance(query, str):
        raise TypeError(f"query must be str or None, got {type(query).__name__}")
    return query if query and query.strip() else None


def check_rate(rate: object) -> float | None:
    if rate is None:
        return None
    if isinstance(rate, bool) or not isinstance(rate, Real):
        raise TypeError(f"rate must be a number in (0, 1], got {type(rate).__name__}")
    if math.isnan(rate) or not 0.0 < rate <= 1.0:
        raise ValueError(f"rate must be in (0, 1] (the fraction of tokens kept), got {rate}")
    return float(rate)


def check_target_tokens(target_tokens: object) -> int | None:
    if target_tokens is None:
        return None
    if isinstance(target_tokens, bool) or not isinstance(target_tokens, int):
        raise TypeError(f"target_tokens must be a positive int, got {type(target_tokens).__name__}")
    if target_tokens <= 0:
        raise ValueError(f"target_tokens must be a positive int, got {target_tokens}")
    return target_tokens


def check_count(name: str, value: object) -> int:
    """``value`` checked as a non-negative int (not a bool), for option ``name``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def check_budget_args(rate: object, target_tokens: object) -> tuple[float | None, int | None]:
    rate, target_tokens = check_rate(rate), check_target_tokens(target_tokens)
    if rate is not None and target_tokens is not None:
        raise ValueError("give rate or target_tokens, not both")
    return rate, target_tokens


def check_options(method: str, accepted: frozenset[str], options: dict) -> None:
    """Raise TypeError for options neither the method nor the SDK knows, with a did-you-mean for typos."""
    unknown = sorted(set(options) - accepted)
    if unknown:
        known = ", ".join(sorted(accepted)) or "none"
        pool = sorted(accepted | SDK_ARGUMENTS)
        named = []
        for name in unknown:
            close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
            named.append(f"{name} (did you mean {close[0]!r}?)" if close else name)
        raise TypeError(f"unknown option(s) for method {method!r}: {', '.join(named)} (accepted: {known})")


def resolve_aliases(query: Any, target_tokens: Any, options: dict[str, Any]) -> tuple[Any, Any, dict[str, Any]]:
    """``(query, target_tokens, options)`` with LLMLingua's ``question=`` / ``target_token=`` (taken from
    ``options``) moved to Condenser's names; giving both an alias and its name is a ValueError."""
    if not any(alias in options for alias in ALIASES):
        return query, target_tokens, options
    options = dict(options)
    values = {"query": query, "target_tokens": target_tokens}
    for alias, name in ALIASES.items():
        if alias not in options:
            continue
        value = options.pop(alias)
        if value is None:  # an alias left at None says nothing
            continue
        if values[name] is not None:
            raise ValueError(f"give {name} or {alias} (its LLMLingua alias), not both")
        values[name] = value
    return values["query"], values["target_tokens"], options


def model_known(model: str) -> bool:
    """Whether tiktoken knows ``model``'s encoding (an unknown model counts with ``DEFAULT_ENCODING``)."""
    try:
        tiktoken.encoding_name_for_model(model)
    except KeyError:
        return False
    return True


def encoding_for_model(model: str) -> str:
    """The tiktoken encoding of ``model`` (``compressor.tokens.encoding_for_model``); an unknown model
    counts with ``cl100k_base`` and warns once per model name, since its token counts are then approximate."""
    if not model_known(model) and model not in _warned_models:
        _warned_models.add(model)
        warnings.warn(f"model {model!r} is unknown to tiktoken: token counts use {DEFAULT_ENCODING} "
                      "(approximate for this model; pass encoding= to choose)", UserWarning, stacklevel=4)
    return tokens.encoding_for_model(model)
