"""``cvr-gym eval``: run an agent over a suite split, write one JSON line per episode, summarise."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval", help="evaluate an agent on a suite split (JSONL results, per-family table)",
        description="Run an agent for N episodes over a suite split and write one JSON record per episode "
                    "(actions, observations, rewards, score, costs), flushed per episode. Episodes are chosen "
                    "deterministically from --seed; --resume skips episodes already in --out. Ends with a "
                    "per-family table of mean score and costs.")
    p.add_argument("--env", default="CVRSim-v0", help="env id (default CVRSim-v0)")
    p.add_argument("--agent", default="single-pass",
                   help="agent spec: random, single-pass[:FRAMES], oracle, heuristic, checkpoint:PATH, llm:MODEL, "
                        "or your own module:factory (default single-pass)")
    p.add_argument("--suite", default=None,
                   help="bundled suite name or JSONL path (default: default for CVRSim-v0, corpus for CVRReal-v0, "
                        "whose tasks need video files)")
    p.add_argument("--split", default="test", help="train, val, test or all (default test)")
    p.add_argument("--episodes", type=int, default=None,
                   help="number of episodes (default: one per task; more wrap around the split)")
    p.add_argument("--seed", type=int, default=0, help="seed for task order, env and agent (default 0)")
    p.add_argument("--out", default=None,
                   help="results file (JSONL), replaced unless --resume; without it nothing is written")
    p.add_argument("--num-envs", type=int, default=1,
                   help="episodes run at a time through a Gymnasium vector env (default 1: no vector env)")
    p.add_argument("--vector", choices=("async", "sync"), default="async",
                   help="vector env kind when --num-envs > 1 (default async)")
    p.add_argument("--ray", metavar="ADDRESS", default=None,
                   help="run the episodes on Ray actors: a cluster address (auto, ray://HOST:10001) or 'local' "
                        "(needs cvr-gym[ray]); same records as a local run")
    p.add_argument("--workers", type=int, default=None,
                   help="Ray actors with --ray, one episode at a time each (default: --num-envs)")
    p.add_argument("--resume", action="store_true", help="keep the episodes already in --out and run the rest")
    p.add_argument("--json", action="store_true", help="print the summary as JSON instead of a table")
    p.add_argument("--render", choices=("ansi",), default=None, help="print each episode's transcript")
    p.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="extra gym.make argument (VALUE parsed as JSON when it can be), repeatable, "
                        "e.g. --env-arg frame_budget=512 --env-arg 'reward={\"cost\": 0.2}'")
    p.add_argument("--no-observations", action="store_true", help="leave observation texts out of the records")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--team", type=int, default=None, metavar="N",
                   help="evaluate a team of N copies of --agent sharing a memory (cvr_gym.team); the score is the "
                        "team answer's, frames are summed over the agents, steps are rounds (team steps in "
                        "parallel) and lat. s the modelled latency with each round's calls in parallel")
    p.add_argument("--topology", default="full",
                   help="team communication: full, ring or dropout[:P] (default full)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cvr_gym.cli.env_options import parse_env_args, split_arg
    from cvr_gym.evaluation.registry import agent_factory
    from cvr_gym.evaluation.run import EvalRun
    from cvr_gym.evaluation.runner import EvalConfig
    from cvr_gym.evaluation.summary import console, summarise, summary_table

    if args.resume and not args.out:
        print("error: --resume needs --out", file=sys.stderr)
        return 2
    if args.suite is None:  # a suite the env can run: the real env needs a video file per video
        args.suite = "corpus" if args.env.startswith("CVRReal") else "default"
        print(f"note: --suite not given; using {args.suite!r}"
              + (" (CVRReal-v0 needs video files; the 'default' suite has none)" if args.suite == "corpus" else ""),
              file=sys.stderr)
    if args.num_envs < 1 or (args.episodes is not None and args.episodes < 0) or (args.workers is not None and args.workers < 1):
        print("error: --num-envs and --workers must be at least 1 and --episodes non-negative", file=sys.stderr)
        return 2
    if args.workers is not None and not args.ray:
        print("error: --workers needs --ray (use --num-envs for local vector envs)", file=sys.stderr)
        return 2
    if args.ray:
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            print("error: --ray needs Ray: pip install 'cvr-gym[ray]'", file=sys.stderr)
            return 2
    try:
        config = EvalConfig(
            env_id=args.env, agent=args.agent, suite=args.suite,
            split=split_arg(args.split),
            episodes=args.episodes, seed=args.seed, num_envs=args.workers or args.num_envs,
            vector_mode="ray" if args.ray else args.vector, ray_address=args.ray,
            env_args=parse_env_args(args.env_arg), render_mode=args.render,
            keep_observations=not args.no_observations)
        agent_factory(config.agent)  # fail early on an unknown or unavailable agent
        team = _team_config(args)
        run = EvalRun(config, out=args.out, resume=args.resume,
                      label=team.label(config.agent) if team else config.agent)
        records = _play(run, args, team)
    except (ValueError, FileNotFoundError, KeyError) as err:  # ResultsFileBusy, OtherRunsInFile among them
        print(f"error: {err}", file=sys.stderr)
        return 2

    summary = summarise(records)
    failed = [r for r in records if r.get("error")]
    if failed:
        print(f"warning: {len(failed)} episode(s) ended with an agent error, e.g. {failed[0]['error']}",
              file=sys.stderr)
    if args.json:
        print(json.dumps({"env": config.env_id, "agent": config.agent, "suite": config.suite,
                          "split": config.split, "seed": config.seed, "episodes": len(records),
                          "out": args.out, "families": summary}, indent=2))
    else:
        title = (f"{team.label(config.agent) if team else config.agent} on {config.env_id}, suite {config.suite}, split {config.split or 'all'}, "
                 f"{len(records)} episodes, seed {config.seed}")
        console().print(summary_table(summary, title))
        stats = summary.get("ALL", {}).get("agent_stats")
        if stats:
            print("agent stats (summed): " + ", ".join(
                f"{k} {v:.3f}" if k.endswith("rate") else f"{k} {v:g}" for k, v in stats.items()))
        if team:
            summed = sum(float(r["costs"].get("latency_sum_s", 0.0)) for r in records) / max(1, len(records))
            print(f"team of {team.num_agents} ({team.topology}): steps = rounds (team steps in parallel); "
                  f"lat. s = modelled latency with each round's calls in parallel ({summed:.2f} s summed "
                  f"over the agents)")
    return 0


def _team_config(args: argparse.Namespace) -> Any:
    if args.team is None:
        return None
    try:
        from cvr_gym.team.play import TeamConfig
        from cvr_gym.team.topology import Topology
    except ImportError as err:
        raise ValueError(f"--team needs the team extra (pip install 'cvr-gym[team]'): {err}") from None
    if args.team < 1:
        raise ValueError("--team must be at least 1")
    Topology.from_any(args.topology)  # fail early on an unknown topology
    if args.ray or (args.workers or args.num_envs or 1) > 1:
        print("note: team episodes run one at a time (a team episode already steps its seats together); "
              "--num-envs, --workers and --ray are not used with --team", file=sys.stderr)
    return TeamConfig(num_agents=args.team, topology=args.topology)


def _play(run: Any, args: argparse.Namespace, team: Any = None) -> list[dict]:
    """Play what is left of ``run`` with a progress bar (and transcripts with ``--render``)."""
    from tqdm import tqdm

    player = None
    if team is not None:
        from baselines.team import make_team
        from cvr_gym.team.play import run_team_episodes

        def player(config: Any, episodes: list) -> Any:
            return run_team_episodes(config, team, episodes, make_team)
    score_sum, played = 0.0, 0
    text_stream = sys.stderr if args.json else sys.stdout
    with tqdm(total=len(run.episodes), initial=run.done_before, desc=run.label, unit="ep", file=sys.stderr,
              disable=args.no_progress, dynamic_ncols=True) as bar:
        for result in (run.play(player) if player else run.play()):
            record = result.record
            played += 1
            score_sum += record.get("score") or 0.0
            bar.update(1)
            bar.set_postfix(score=f"{score_sum / played:.3f}", refresh=False)
            if args.render and result.transcript:
                tqdm.write(f"=== episode {record['episode']} · task {record['task_id']} ({record['family']}) · "
                           f"score {record['score']} ===\n{result.transcript}\n", file=text_stream)
    return run.records
