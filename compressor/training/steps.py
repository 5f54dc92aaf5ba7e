"""One optimiser step as the retriever and reranker trainers take it."""

from __future__ import annotations

import numpy as np

#: the learning rate decays linearly to this share of its start
LR_FLOOR = 0.05
#: the progress bar shows the mean loss of this many last steps
SHOWN_STEPS = 25


def step(loss, opt, lr: float, done: int, steps: int, losses: list[float], bar) -> None:
    """Back-propagate ``loss``, step ``opt``, set the learning rate for step ``done`` + 1 of ``steps``
    (linear decay from ``lr`` to ``LR_FLOOR`` of it) and record the loss on ``losses`` and ``bar``."""
    loss.backward()
    opt.step()
    opt.zero_grad()
    for group in opt.param_groups:
        group["lr"] = lr * max(LR_FLOOR, 1 - (done + 1) / steps)
    losses.append(loss.item())
    bar.set_postfix(loss=f"{recent_loss(losses):.3f}")


def recent_loss(losses: list[float]) -> float:
    """The mean loss of the last ``SHOWN_STEPS`` steps (what a run reports as its final loss)."""
    return float(np.mean(losses[-SHOWN_STEPS:]))
