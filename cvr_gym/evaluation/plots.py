"""Accuracy against cost: score vs frames per episode, one panel per family, one colour per run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cvr_gym.evaluation.summary import episode_score

_MARKERS = "osD^vP*Xh<>"


def plot_score_vs_frames(runs: dict[str, Sequence[dict[str, Any]]], out: str | Path, title: str = "") -> Path:
    """Write a PNG: one panel per family plus ``ALL`` (its title gives the episodes per run, ``n``); in
    each, every run's episodes as faint dots
    (score slightly jittered so that stacked 0/1 scores stay visible) and its mean as a big marker.
    The x axis (frames per episode) is symmetric-log so that 0 and 256 frames both fit.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.ticker
    import matplotlib.pyplot as plt
    import numpy as np

    families = sorted({str(r.get("family")) for recs in runs.values() for r in recs}) + ["ALL"]
    cols = min(4, len(families))
    rows = math.ceil(len(families) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows + 0.8), squeeze=False,
                             sharex=True, sharey=True)
    colours = plt.get_cmap("tab10").colors
    rng = np.random.default_rng(0)
    max_frames = max([float((r.get("costs") or {}).get("frames", 0)) for recs in runs.values() for r in recs] + [1.0])
    ticks = [0] + [4 ** k for k in range(1, 8) if 4 ** k <= max_frames * 1.4]
    handles = {}
    for ax, fam in zip(axes.flat, families):
        for n, (run, recs) in enumerate(runs.items()):
            chosen = [r for r in recs if fam == "ALL" or str(r.get("family")) == fam]
            if not chosen:
                continue
            x = np.array([float((r.get("costs") or {}).get("frames", 0)) for r in chosen])
            y = np.array([episode_score(r) for r in chosen])
            colour, marker = colours[n % len(colours)], _MARKERS[n % len(_MARKERS)]
            ax.scatter(x, y + rng.uniform(-0.025, 0.025, len(y)), s=12, alpha=0.35, color=colour, marker=marker,
                       linewidths=0)
            handles[run] = ax.scatter([x.mean()], [y.mean()], s=90, color=colour, marker=marker,
                                      edgecolors="black", linewidths=0.8, zorder=3, label=run)
        counts = [sum(1 for r in recs if fam == "ALL" or str(r.get("family")) == fam) for recs in runs.values()]
        n_text = f"n={counts[0]}" if len(set(counts)) == 1 else "n=" + "/".join(map(str, counts))
        ax.set_title(f"{fam} ({n_text})", fontsize=10, fontweight="bold" if fam == "ALL" else None)
        ax.set_xscale("symlog", linthresh=4, linscale=0.5)
        ax.set_xlim(-0.5, max_frames * 1.4)
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(t) for t in ticks], fontsize=8)
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_ylim(-0.08, 1.08)
        ax.grid(True, alpha=0.3)
    for ax in axes.flat[len(families):]:
        ax.set_visible(False)
    for i, ax in enumerate(axes.flat[: len(families)]):
        ax.tick_params(labelbottom=True)  # every panel keeps its frame ticks (rows may be incomplete)
        if i + cols >= len(families):
            ax.set_xlabel("frames per episode")
    for ax in axes[:, 0]:
        ax.set_ylabel("score")
    fig.legend(handles.values(), handles.keys(), loc="upper center", ncol=min(len(handles), 5), frameon=False,
               bbox_to_anchor=(0.5, 1.0))
    fig.suptitle(title or "score vs frames (big marker: mean; dots: episodes)", y=0.0, va="bottom", fontsize=9)
    fig.tight_layout(rect=(0, 0.03, 1, 1 - 0.35 / (3.0 * rows + 0.8)))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
