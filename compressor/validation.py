"""Checks on ``compress()`` arguments: every bad input gets a clear error naming the argument."""

from __future__ import annotations

import math
from numbers import Real


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
    unknown = sorted(set(options) - accepted)
    if unknown:
        known = ", ".join(sorted(accepted)) or "none"
        raise TypeError(f"unknown option(s) for method {method!r}: {', '.join(unknown)} (accepted: {known})")
