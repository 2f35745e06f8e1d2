"""``cvr-gym export-verl``: the parquet dataset and agent-loop YAML for training with verl."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export-verl", help="write verl's parquet dataset and agent-loop YAML for an env's tasks",
        description="Write OUT/SPLIT.parquet (one row per task: prompt, agent_name, reward_model, extra_info with "
                    "task_id and group_id; verl's RLHFDataset reads it) and OUT/agent_loop.yaml, which registers "
                    "cvr_gym.integrations.verl.CVRAgentLoop with this env's settings. Point verl at them with "
                    "data.train_files=OUT/SPLIT.parquet, "
                    "actor_rollout_ref.rollout.agent.agent_loop_config_path=OUT/agent_loop.yaml.")
    p.add_argument("--env", default="CVRSim-v0", help="env id (default CVRSim-v0)")
    p.add_argument("--suite", default="default", help="bundled suite name or JSONL path (default: default)")
    p.add_argument("--split", default="train", help="train, val, test or all (default train)")
    p.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="extra gym.make argument (VALUE parsed as JSON when it can be), repeatable")
    p.add_argument("--repeats", type=int, default=1,
                   help="rows per task, each its own group_id (verl rolls each row out rollout.n times; default 1)")
    p.add_argument("--max-tasks", type=int, default=None, help="keep the first N tasks (default: all)")
    p.add_argument("--max-turns", type=int, default=None, help="model turns per episode (default: step limit + 1)")
    p.add_argument("--agent-name", default="cvr_agent", help="agent loop name in rows and YAML (default cvr_agent)")
    p.add_argument("--out", default="runs/verl-data", help="output folder (default runs/verl-data)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cvr_gym.cli.env_options import env_kwargs as make_env_kwargs
    from cvr_gym.integrations.verl_data import write_verl_dataset

    if args.repeats < 1 or (args.max_tasks is not None and args.max_tasks < 1):
        print("error: --repeats and --max-tasks must be at least 1", file=sys.stderr)
        return 2
    try:
        env_kwargs = make_env_kwargs(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    data, loop = write_verl_dataset(args.out, args.env, env_kwargs, repeats=args.repeats, max_tasks=args.max_tasks,
                                    agent_name=args.agent_name, max_turns=args.max_turns)
    print(f"wrote {data} and {loop}")
    return 0
