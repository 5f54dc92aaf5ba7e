"""Matplotlib PNGs of a run: score vs achieved compression per method, and compressor latency per method."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from evals.runner.config import NO_COMPRESSION
from evals.runner.summary import AVERAGE


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; no display here or in CI
    import matplotlib.pyplot as plt

    return plt


def plot_score_vs_ratio(summary: Sequence[dict], path: Path, title: str = "") -> Path:
    """Average score against achieved compression ratio, one line per method (the baseline dashed)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    avgs = [s for s in summary if s["task"] == AVERAGE and s["score"] is not None]
    for method in dict.fromkeys(s["method"] for s in avgs):
        pts = sorted((s["ratio"], s["score"]) for s in avgs if s["method"] == method)
        if method == NO_COMPRESSION:
            ax.axhline(pts[0][1], linestyle="--", color="grey", label="no compression")
            continue
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=method)
    ax.set_xscale("log")
    ax.set_xlabel("achieved compression (original / compressed tokens, log)")
    ax.set_ylabel("score (average over tasks)")
    ax.set_title(title or "Score vs compression")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_latency(summary: Sequence[dict], path: Path, title: str = "") -> Path | None:
    """Mean compressor latency per item (ms), grouped bars: methods on x, one bar per rate (None: no method)."""
    avgs = [s for s in summary if s["task"] == AVERAGE and s["method"] != NO_COMPRESSION]
    if not avgs:
        return None
    plt = _pyplot()
    methods = list(dict.fromkeys(s["method"] for s in avgs))
    rates = sorted({s["rate"] for s in avgs}, reverse=True)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    width = 0.8 / max(len(rates), 1)
    for i, rate in enumerate(rates):
        ms = [
            next((s["compress_ms"] for s in avgs if s["method"] == m and s["rate"] == rate), 0.0)
            for m in methods
        ]
        ax.bar([j + i * width for j in range(len(methods))], ms, width, label=f"rate {rate:g}")
    ax.set_xticks([j + width * (len(rates) - 1) / 2 for j in range(len(methods))], methods)
    ax.set_ylabel("compressor latency per item (ms)")
    ax.set_yscale("log")
    ax.set_title(title or "Compressor latency")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_recall_vs_factor(recalls: dict[str, dict[str, list[float]]], factors: Sequence[float], path: Path,
                          title: str = "") -> Path:
    """Answer recall (%) against compression factor: one panel per set, one line per method
    (``recalls[method][set]`` lists one recall per factor)."""
    plt = _pyplot()
    sets = list(dict.fromkeys(name for per_set in recalls.values() for name in per_set))
    fig, axes = plt.subplots(1, len(sets), figsize=(5 * len(sets), 4.2), squeeze=False, sharey=True)
    for ax, name in zip(axes[0], sets):
        for method, per_set in recalls.items():
            if name in per_set:
                ax.plot(list(factors), per_set[name], marker="o", label=method)
        ax.set_xscale("log")
        ax.set_xticks(list(factors), [f"{f:g}x" for f in factors])
        ax.set_xticks([], minor=True)  # the log scale's minor labels ("4x10^0") say nothing here
        ax.set_xlabel("compression (original / budget tokens)")
        ax.set_title(name)
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("gold answer kept (%)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    columns = min(len(labels), 3)  # below the panels, where no line runs
    fig.legend(handles, labels, loc="lower center", ncol=columns, fontsize="small", frameon=False)
    fig.suptitle(title or "Answer recall vs compression")
    fig.tight_layout(rect=(0, 0.06 * -(-len(labels) // columns), 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
