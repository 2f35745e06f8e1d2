"""Learning curves of a training run (score and frames per update) as a PNG."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """The records of a ``log.jsonl`` written by the GRPO trainer."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _smooth(values: Sequence[float], window: int) -> list[float]:
    out, acc = [], 0.0
    for i, v in enumerate(values):
        acc += v
        if i >= window:
            acc -= values[i - window]
        out.append(acc / min(i + 1, window))
    return out


def plot_learning_curve(records: "Sequence[Mapping[str, Any]] | str | Path", out: str | Path,
                        baselines: Mapping[str, Mapping[str, float]] | None = None,
                        title: str = "GRPO on CVRSim-v0", best_update: int | None = None) -> Path:
    """Plot score (top) and frames per episode (bottom) against the update number.

    ``records``: log records or the path of a ``log.jsonl``. Training rollouts (sampled actions)
    are drawn thin, evaluations (greedy, on the eval split) with markers. ``baselines`` maps an
    agent name to ``{"score": ..., "frames": ...}`` drawn as horizontal dashed lines;
    ``best_update`` (the update of the selected checkpoint) is marked with a vertical line.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if isinstance(records, (str, Path)):
        records = read_log(records)
    upd = [r for r in records if r.get("kind") == "update"]
    ev = [r for r in records if r.get("kind") == "eval"]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    if upd:
        x = [r["update"] for r in upd]
        for ax, key in ((ax1, "rollout/score"), (ax2, "rollout/frames")):
            y = [r[key] for r in upd]
            ax.plot(x, y, lw=0.6, alpha=0.35, color="tab:blue")
            ax.plot(x, _smooth(y, 10), lw=1.4, color="tab:blue", label="train rollouts (sampled, 10-update mean)")
    if ev:
        split = ev[0].get("split") or "eval"
        x = [r["update"] for r in ev]
        ax1.plot(x, [r["score"] for r in ev], "o-", ms=4, color="tab:orange", label=f"{split} split (greedy)")
        ax2.plot(x, [r["frames"] for r in ev], "o-", ms=4, color="tab:orange", label=f"{split} split (greedy)")
    colours = ["tab:red", "tab:green", "tab:purple", "tab:brown", "tab:gray"]
    for (name, vals), c in zip((baselines or {}).items(), colours):
        if "score" in vals:
            ax1.axhline(vals["score"], ls="--", color=c, lw=1, label=name)
        if "frames" in vals:
            ax2.axhline(vals["frames"], ls="--", color=c, lw=1, label=name)
    if best_update is not None:
        for ax in (ax1, ax2):
            ax.axvline(best_update, color="k", lw=0.8, ls=":", label="selected checkpoint" if ax is ax1 else None)
    ax1.set_ylabel("mean score")
    ax1.set_ylim(bottom=0)
    ax2.set_ylabel("frames per episode")
    ax2.set_xlabel("update")
    ax1.set_title(title)
    ax1.legend(fontsize=8, loc="best")
    ax2.legend(fontsize=8, loc="best")
    ax1.grid(alpha=0.3)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
