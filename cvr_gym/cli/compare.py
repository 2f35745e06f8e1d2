"""``cvr-gym compare``: the same agent on the same tasks in CVRSim-v0 and CVRReal-v0."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--agent", default="heuristic", help="agent spec (default heuristic)")
    p.add_argument("--suite", default="corpus", help="suite with scripts and video files (default corpus)")
    p.add_argument("--split", default="test", help="split, or 'all' (default test)")
    p.add_argument("--episodes", type=int, default=None, help="number of tasks, spread over the families in a seeded order as eval does "
                                                                "(default: all)")
    p.add_argument("--seed", type=int, default=0, help="seed for both envs and the agent")
    p.add_argument("--mode", choices=["paired", "replay"], default="paired",
                   help="paired: the agent plays in each world; replay: the sim episode's actions are "
                        "replayed in the real env (default paired)")
    p.add_argument("--visual", default="offline", help="visual backend of the real env: offline, hf:MODEL, openai:URL")
    p.add_argument("--audio", default="offline", help="audio backend of the real env: offline, hf:MODEL, openai:URL")
    p.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="extra gym.make argument for both envs (VALUE parsed as JSON when it can be), repeatable")
    p.add_argument("--perceived", default=None, metavar="SUITE",
                   help="instead of playing: compare the suite's scripts with these perceived ones "
                        "(written by cvr-gym build-scripts), per evidence kind")
    p.add_argument("--out", default="runs/compare", help="folder for compare.json and compare.png (default runs/compare)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON instead of a table")
    p.add_argument("--ray", metavar="ADDRESS", default=None,
                   help="compare the tasks on Ray workers: a cluster address (auto, ray://HOST:10001) or 'local' "
                        "(needs cvr-gym[ray]); same results as a local run")
    p.add_argument("--workers", type=int, default=2, help="Ray workers with --ray (default 2)")
    p.add_argument("--team", type=int, default=None, metavar="N",
                   help="compare a team of N copies of --agent sharing a memory (cvr_gym.team) in both worlds; "
                        "steps are rounds")
    p.add_argument("--topology", default="full", help="team communication: full, ring or dropout[:P] (default full)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare", help="run paired episodes in CVRSim-v0 and CVRReal-v0 and compare them",
        description="Run the same agent on the same tasks (same seed) in the script simulator and on the "
                    "real videos, and report per family: score in each world, answer agreement, per-step "
                    "evidence recall/precision of real perception against the scripts, frames and wall "
                    "time per step, and how many times slower a real step is. Writes JSON and a PNG plot.")
    add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from cvr_gym.cli.env_options import parse_env_args
    from cvr_gym.evaluation.compare import CompareConfig, plot_comparison, run_comparison, summary_table
    from cvr_gym.evaluation.summary import console

    split = None if args.split == "all" else args.split
    if args.ray and args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    if args.perceived:
        return _script_agreement(args.suite, split, args.perceived, args.json)
    config = CompareConfig(
        agent=args.agent, suite=args.suite, split=split, episodes=args.episodes, seed=args.seed, mode=args.mode,
        real_args={"visual": args.visual, "audio": args.audio}, env_args=parse_env_args(args.env_arg))
    progress = lambda tasks: tqdm(tasks, desc="sim vs real", unit="task")  # noqa: E731
    if args.team:
        from baselines.team import make_team
        from cvr_gym.team.compare import run_team_comparison
        from cvr_gym.team.play import TeamConfig

        team = TeamConfig(num_agents=args.team, topology=args.topology)
        result = run_team_comparison(config, team, make_team, progress=progress)
        args.agent = team.label(args.agent)
    elif args.ray:
        from cvr_gym.integrations.ray import ray_map_tasks

        result = run_comparison(config, progress=progress, map_tasks=ray_map_tasks(args.ray, args.workers))
    else:
        result = run_comparison(config, progress=progress)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.json").write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    title = f"{args.agent} on {args.suite}/{args.split} ({args.mode})"
    plot_comparison(result["summary"], out / "compare.png", title=title)
    if args.json:
        print(json.dumps(result["summary"], indent=1))
    else:
        console().print(summary_table(result["summary"], title=title))
        console().print(f"wrote {out / 'compare.json'} and {out / 'compare.png'}")
    return 0


def _script_agreement(suite: str, split: str | None, perceived: str, as_json: bool) -> int:
    from rich.table import Table

    from cvr_gym.core.suites import load_suite
    from cvr_gym.evaluation.compare import script_agreement
    from cvr_gym.evaluation.summary import console

    table = script_agreement(load_suite(suite, split=split), load_suite(perceived))
    if as_json:
        print(json.dumps(table, indent=1))
        return 0
    out = Table(title=f"scripts of {suite} against perceived {perceived}")
    for column in ("kind", "recall", "of reference items", "precision", "of perceived items"):
        out.add_column(column, justify="left" if column == "kind" else "right")
    for kind, row in table.items():
        out.add_row(kind, "-" if row["recall"] is None else f"{row['recall']:.3f}", str(row["reference"]),
                    "-" if row["precision"] is None else f"{row['precision']:.3f}", str(row["perceived"]))
    console().print(out)
    return 0
