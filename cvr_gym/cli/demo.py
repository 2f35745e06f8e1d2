"""``cvr-gym demo``: run a few episodes end to end and print what happened."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run episodes on the bundled data and print a summary table",
                       description="Run episodes on the bundled data with the reference agents and print a table.")
    p.add_argument("--episodes", type=int, default=20, help="episodes per agent (default 20)")
    p.add_argument("--seed", type=int, default=0, help="seed for task order and agents")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import gymnasium as gym
    from rich.console import Console
    from rich.table import Table

    import cvr_gym  # noqa: F401

    console = Console()
    env = gym.make("CVRSim-v0", suite="default", split="test")
    table = Table(title=f"CVRSim-v0, default suite, test split, {args.episodes} episodes")
    for col in ("agent", "mean score", "frames/episode", "steps/episode"):
        table.add_column(col, justify="right" if col != "agent" else "left")
    obs, info = env.reset(seed=args.seed)
    env.action_space.seed(args.seed)
    scores, frames, steps = [], [], []
    for _ in range(args.episodes):
        done = False
        while not done:
            obs, reward, term, trunc, info = env.step(env.action_space.sample(mask=info["action_context"]))
            done = term or trunc
        scores.append(info["score"] or 0.0)
        frames.append(info["totals"]["frames"])
        steps.append(info["totals"]["steps"])
        obs, info = env.reset()
    n = len(scores)
    table.add_row("random", f"{sum(scores) / n:.3f}", f"{sum(frames) / n:.1f}", f"{sum(steps) / n:.1f}")
    console.print(table)
    return 0
