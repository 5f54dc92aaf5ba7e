"""LLMLingua's ``instruction=``: text kept verbatim in front of the compressed context.

The instruction counts against the budget: with ``target_tokens`` the whole output (instruction, a blank
line, compressed context) stays within it; with ``rate`` the budget is that fraction of the whole input
(instruction included), and the context gets what the instruction leaves. An instruction that alone fills
the budget is an error rather than a silently overrun budget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from compressor.budget import join_documents, resolve_budget
from compressor.result import CompressionResult, record_call
from compressor.tokens import count_tokens
from compressor.validation import check_budget_args, documents_of

if TYPE_CHECKING:
    from pipelines.pipeline import Pipeline

#: between the instruction and the compressed context
INSTRUCTION_SEPARATOR = "\n\n"


def run_with_instruction(pipeline: Pipeline, context: Any, query: Any, rate: Any, target_tokens: Any,
                         method: str | None, options: dict[str, Any]) -> CompressionResult:
    """``pipeline.run`` of ``context`` with ``options["instruction"]`` kept whole before it (see module)."""
    options = dict(options)
    instruction = options.pop("instruction")
    if instruction is not None and not isinstance(instruction, str):
        raise TypeError(f"instruction must be a str, got {type(instruction).__name__}")
    if not instruction or not instruction.strip():
        return pipeline.run(context, query, rate=rate, target_tokens=target_tokens, method=method, **options)
    documents, _ = documents_of(context)
    rate, target_tokens = check_budget_args(rate, target_tokens)
    encoding = pipeline._encoding(options)
    head = instruction + INSTRUCTION_SEPARATOR
    original = count_tokens(head + join_documents(documents), encoding)
    budget = resolve_budget(original, pipeline._rate(rate), target_tokens)
    head_tokens = count_tokens(head, encoding)
    if head_tokens >= budget:
        raise ValueError(f"instruction: its {head_tokens} tokens leave nothing of the {budget}-token budget "
                         "for the context; give a larger target_tokens or rate")
    inner = pipeline.run(context, query, target_tokens=budget - head_tokens, method=method, **options)
    text = head + inner.text if inner.text else instruction
    tokens = count_tokens(text, encoding)
    result = inner.model_copy(update={
        "text": text, "original_tokens": original, "compressed_tokens": tokens,
        "ratio": round(original / max(1, tokens), 4), "budget": budget,
        "info": {**inner.info, "instruction_tokens": count_tokens(instruction, encoding)},
    })
    return record_call(result, options.get("model"))
