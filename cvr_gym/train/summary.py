"""What a finished GRPO run leaves beside its checkpoints: the reference agents' scores, the
learning curve PNG with them drawn in, and ``summary.json``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from cvr_gym.train.config import GRPOConfig

#: Reference agents drawn on learning curves: (label, agent spec).
REFERENCE_AGENTS: tuple[tuple[str, str], ...] = (
    ("heuristic (skim and zoom)", "heuristic"),
    ("single-pass (32 frames/video)", "single-pass:32"),
    ("random agent", "random"),
)


def reference_scores(config: GRPOConfig, agents: tuple[tuple[str, str], ...] = REFERENCE_AGENTS,
                     ) -> dict[str, dict[str, float]]:
    """Mean score and frames of the reference agents on ``config.eval_split`` (every task once),
    played by the evaluation runner as ``cvr-gym eval`` plays them.

    Agents that are not installed (``baselines`` registers them) are left out with a note.
    """
    from cvr_gym.evaluation.runner import EvalConfig, plan, run_episodes
    from cvr_gym.evaluation.summary import summarise

    env_args = config.env_make_kwargs(config.eval_split)
    suite, split = env_args.pop("suite"), env_args.pop("split")
    out: dict[str, dict[str, float]] = {}
    for label, spec in agents:
        eval_config = EvalConfig(env_id=config.env_id, agent=spec, suite=suite, split=split, seed=config.seed,
                                 env_args=env_args, keep_observations=False)
        try:
            row = summarise(r.record for r in run_episodes(eval_config, plan(eval_config)))["ALL"]
        except (ValueError, KeyError, ImportError) as err:  # an agent that is not available here
            print(f"(no {label} on the learning curve: {err})", file=sys.stderr)
            continue
        out[label] = {"score": row["score"], "frames": row["frames"]}
    return out


def write_run_summary(trainer: Any, out: str | Path, wall_s: float, title: str,
                      with_references: bool = True) -> dict[str, Any]:
    """Plot ``out/learning_curve.png`` (reference agents drawn in when ``with_references`` and the
    run has an eval split) and write ``out/summary.json``; returns the summary."""
    from cvr_gym.train.plots import plot_learning_curve

    out = Path(out)
    config = trainer.config
    evals = [r for r in trainer.history if r["kind"] == "eval"]
    best = trainer.best
    reference = reference_scores(config) if with_references and config.eval_split else {}
    png = plot_learning_curve(out / "log.jsonl", out / "learning_curve.png", best_update=best.get("update"),
                              baselines=reference, title=title)
    summary: dict[str, Any] = {"updates": trainer.update_count, "episodes": trainer.episodes_seen,
                               "wall_s": round(wall_s, 1), "checkpoint": str(out / "checkpoints" / "last.pt"),
                               "learning_curve": str(png)}
    if evals:
        split = config.eval_split
        summary[f"{split} score"] = {"first": round(evals[0]["score"], 4), "last": round(evals[-1]["score"], 4)}
        summary[f"{split} frames"] = {"first": round(evals[0]["frames"], 1), "last": round(evals[-1]["frames"], 1)}
    if best:
        summary["best"] = {"checkpoint": str(out / "checkpoints" / "best.pt"), "update": best["update"],
                           f"{best['split']} return": round(best["return"], 4)}
        if best.get("eval"):
            summary["best"][f"{best['eval']['split']} score"] = round(best["eval"]["score"], 4)
            summary["best"][f"{best['eval']['split']} frames"] = round(best["eval"]["frames"], 1)
    for name, vals in reference.items():
        summary[f"{name} on {config.eval_split}"] = {k: round(v, 4) for k, v in vals.items()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


__all__ = ["REFERENCE_AGENTS", "reference_scores", "write_run_summary"]
