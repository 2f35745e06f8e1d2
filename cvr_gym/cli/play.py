"""``cvr-gym play``: play an episode yourself in the terminal (reads tool calls from stdin)."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    from cvr_gym.evaluation.typed_calls import HELP

    p = sub.add_parser(
        "play", help="play an episode in the terminal: type tool calls, see what the agents report",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Play one episode as the master agent. Type one tool call per line:\n" + HELP +
                    "\n\n'help' shows this again, 'quit' gives up. Input is read from stdin, so it can be piped.")
    p.add_argument("--env", default="CVRSim-v0", help="env id (default CVRSim-v0)")
    p.add_argument("--suite", default="default", help="bundled suite name or JSONL path (default: default)")
    p.add_argument("--split", default="test", help="train, val, test or all (default test)")
    p.add_argument("--task-id", default=None, help="play this task (default: one drawn with --seed)")
    p.add_argument("--seed", type=int, default=0, help="reset seed (default 0)")
    p.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="extra gym.make argument (VALUE parsed as JSON when it can be), repeatable")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import gymnasium as gym

    import cvr_gym  # noqa: F401  (registers the envs)
    from cvr_gym.cli.env_options import env_kwargs
    from cvr_gym.evaluation.typed_calls import HELP, TypedCallError, parse_typed_call

    try:
        env = gym.make(args.env, **env_kwargs(args))
        options = {"task_id": args.task_id} if args.task_id else None
        obs, info = env.reset(seed=args.seed, options=options)
    except (ValueError, KeyError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = sys.stdout
    print(f"Task {info['task_id']} ({info['family']})\n", file=out)
    print(obs, file=out)
    print("\nType tool calls ('help' for the syntax, 'quit' to give up).", file=out)
    try:
        while True:
            out.write("> ")
            out.flush()
            line = sys.stdin.readline()
            if not line:
                print("\n(no more input; the episode was not finished)", file=out)
                return 1
            line = line.strip()
            if not sys.stdin.isatty():
                print(line, file=out)  # echo piped input so the transcript reads like a session
            if not line or line.startswith("#"):
                continue
            if line.lower() in ("help", "?", "h"):
                print(HELP, file=out)
                continue
            if line.lower() in ("quit", "exit", "q"):
                print("(gave up)", file=out)
                return 1
            try:
                action = parse_typed_call(line)
            except TypedCallError as err:
                print(f"  ? {err}", file=out)
                continue
            obs, reward, terminated, truncated, info = env.step(action)
            print(obs, file=out)
            if terminated or truncated:
                break
    finally:
        env.close()
    score = info.get("score")
    print(f"\nEpisode over ({info['termination_reason']}). Score: {'none (no answer)' if score is None else f'{score:.3f}'}",
          file=out)
    totals = info["totals"]
    print(f"Spent: {totals['steps']} steps, {totals['frames']} frames, {totals['visual_tokens']} visual tokens, "
          f"{totals['audio_seconds']:.1f} s of audio, {totals['latency_s']:.1f} s modelled latency.", file=out)
    print("Reward components: " + json.dumps({k: round(v, 4) for k, v in info["episode_reward_components"].items()}),
          file=out)
    return 0
