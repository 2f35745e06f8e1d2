"""The timelines of one task's episodes as a PNG (matplotlib), for papers and notes: one row per
run and video, gold spans shaded, clip windows outlined, one lane per call with the observed
instants as ticks and listen windows as bars, coloured by call as on the HTML page."""

from __future__ import annotations

from pathlib import Path

from cvr_gym.evaluation.viewer.page import TaskRow
from cvr_gym.evaluation.viewer.svg import CLIP, GOLD, call_colour, fmt_time


def render_png(row: TaskRow, labels: list[str], out: str | Path, dpi: int = 150) -> Path:
    """Draw ``row`` (one task across runs, see :func:`~cvr_gym.evaluation.viewer.page.align`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    panels = [(label, cell, tl) for label, cell in zip(labels, row.cells) if cell is not None for tl in cell.timelines]
    if not panels:
        raise ValueError(f"task {row.task_id} has no episode to draw")
    heights = [max(1, len(tl.looks)) * 0.22 + 0.35 for _, _, tl in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, sum(heights) + 0.6), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, (label, cell, tl) in zip(axes[:, 0], panels):
        lanes = max(1, len(tl.looks))
        for s, e in tl.clips:
            ax.axvspan(s, e, color=CLIP, alpha=0.12, lw=0.8, ls="--", ec=CLIP)
        for s, e in tl.gold:
            ax.axvspan(s, max(e, s + tl.duration / 400), color=GOLD, alpha=0.6, lw=0)
        for lane, look in enumerate(tl.looks):
            y = lanes - lane - 0.5
            colour = call_colour(look.call)
            if look.tool == "listen":
                ax.barh(y, look.end - look.start, left=look.start, height=0.5, color=colour, alpha=0.6)
            else:
                ax.vlines(look.times, y - 0.4, y + 0.4, colors=colour, lw=1.2)
        ax.set_xlim(0, tl.duration)
        ax.set_ylim(0, lanes)
        ax.set_yticks([lanes - i - 0.5 for i in range(len(tl.looks))],
                      [f"{look.step}.{look.call + 1}" for look in tl.looks], fontsize=6)
        ax.tick_params(axis="x", labelsize=7)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda t, _, d=tl.duration: fmt_time(t, d)))
        score = cell.episode.score
        ax.set_title(_plain(f"{label} · video {tl.video}" + (f" · score {score:.2f}" if score is not None else "")),
                     fontsize=8, loc="left")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.suptitle(_plain(f"{row.family} {row.task_id}"), fontsize=9, x=0.01, ha="left")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out


def _plain(text: str) -> str:
    """Text shown as is: a ``$`` in a task id or agent name must not start matplotlib mathtext."""
    return text.replace("$", r"\$")
