"""``exit``: EXIT-style extractive compression (Hwang et al., 2024) with any causal language model.

Each sentence is shown to the LM with the question and its neighbouring sentences, marked, and the LM is
asked whether it helps answer the question; the score is P("Yes") from the next-token logits of "Yes"
against "No". Sentences at or above ``threshold`` are kept in order (best first when the budget is
tighter). EXIT fine-tunes Gemma-2B with LoRA for this; any causal-LM checkpoint by name or folder works.
Prompts run in batches of similar length, left-padded, under ``torch.inference_mode``.

Structure policy: the chunker's units are the choices (code blocks, tables, headings and JSON members are
judged and kept whole), so JSON stays valid.
"""

from __future__ import annotations

import numpy as np

from compressor.methods.base import Request, SentenceScorer

#: an instruction-tuned causal LM under Apache-2.0 that downloads without accepting a gated licence
DEFAULT_CHECKPOINT = "Qwen/Qwen2.5-1.5B-Instruct"
THRESHOLD = 0.5
_UNIT_CHARS, _NEIGHBOUR_CHARS = 1500, 400  # keep prompts short: a sentence, not a page
_ASK = "Is the marked sentence useful for answering the question? Answer Yes or No."
_ASK_NO_QUERY = "Is the marked sentence informative enough to keep in a summary? Answer Yes or No."


class Exit(SentenceScorer):
    """Options: ``model_path`` (causal LM, hub name or folder), ``device``, ``dtype``, ``batch_size``,
    ``threshold`` (P(Yes) needed to keep a sentence, default 0.5; 0 keeps the budget full),
    ``neighbours`` (sentences of context on each side, default 1)."""

    name = "exit"
    #: the checkpoint loaded without ``model_path`` (a server offers it only once it is on the machine)
    default_checkpoint = DEFAULT_CHECKPOINT
    options = frozenset({"model_path", "device", "dtype", "batch_size", "threshold", "neighbours"})
    threshold = THRESHOLD

    def score(self, texts: list[str], query: str | None, request: Request) -> np.ndarray:
        from compressor.inference import resolve_device
        from compressor.models.checkpoints import load_causal_lm

        opts = request.options
        loaded = load_causal_lm(str(opts.get("model_path") or DEFAULT_CHECKPOINT),
                                resolve_device(opts.get("device", "auto")), opts.get("dtype", "auto"))
        prompts = build_prompts(texts, query, int(opts.get("neighbours", 1)))
        return yes_probabilities(loaded.model, loaded.tokenizer, prompts, int(opts.get("batch_size", 8)))


def build_prompts(units: list[str], query: str | None, neighbours: int) -> list[str]:
    """One classification prompt per unit: question, the unit marked in its neighbours, the question asked."""
    clip = lambda t, n: t if len(t) <= n else t[:n] + "…"
    prompts = []
    for i, unit in enumerate(units):
        before = " ".join(clip(u, _NEIGHBOUR_CHARS) for u in units[max(0, i - neighbours) : i])
        after = " ".join(clip(u, _NEIGHBOUR_CHARS) for u in units[i + 1 : i + 1 + neighbours])
        context = f"{before} <<{clip(unit, _UNIT_CHARS)}>> {after}".strip()
        head = f"Question: {query}\n" if query else ""
        prompts.append(f"{head}Context: {context}\nMarked sentence: {clip(unit, _UNIT_CHARS)}\n"
                       f"{_ASK if query else _ASK_NO_QUERY}\nAnswer:")
    return prompts


def answer_ids(tokenizer) -> tuple[int, int]:
    """Token ids of "Yes" and "No" (the first token of each, without special tokens)."""
    ids = [tokenizer(w, add_special_tokens=False)["input_ids"] for w in ("Yes", "No")]
    if not ids[0] or not ids[1] or ids[0][0] == ids[1][0]:
        raise ValueError("the causal LM's tokenizer cannot tell 'Yes' from 'No'")
    return ids[0][0], ids[1][0]


def yes_probabilities(model, tokenizer, prompts: list[str], batch_size: int = 8) -> np.ndarray:
    """P(Yes) against No at the next token of each prompt, in length-sorted, left-padded batches."""
    import torch

    yes, no = answer_ids(tokenizer)
    device = next(model.parameters()).device
    encoded = [tokenizer(p)["input_ids"] for p in prompts]
    order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    out = np.zeros(len(prompts))
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            batch = order[b : b + batch_size]
            width = max(len(encoded[i]) for i in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):  # left padding: every prompt's last token is the last column
                ids[row, width - len(encoded[i]) :] = torch.tensor(encoded[i])
                mask[row, width - len(encoded[i]) :] = 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits[:, -1, :].float()
            out[batch] = torch.sigmoid(logits[:, yes] - logits[:, no]).cpu().numpy()
    return out
