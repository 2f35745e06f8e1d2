"""``cvr-gym serve``: serve an env over OpenEnv's server API (reset/step/state, one env per session)."""

from __future__ import annotations

import argparse
import sys

from cvr_gym.core.http import is_loopback


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve", help="serve an env with OpenEnv's server API for remote agents and trainers",
        description="Serve a cvr_gym env over OpenEnv's HTTP/WebSocket API: every client session gets its own env "
                    "(reset, step, state). Play it from Python with "
                    "cvr_gym.integrations.openenv.RemoteCVREnv(url), a Gymnasium env, or evaluate an agent on it "
                    "with: cvr-gym eval --env CVRRemote-v0 --env-arg url=http://HOST:PORT (same --suite/--split). "
                    "Binds to 127.0.0.1 unless --host says otherwise. Needs cvr-gym[openenv].")
    p.add_argument("--env", default="CVRSim-v0", help="env id (default CVRSim-v0)")
    p.add_argument("--suite", default="default", help="bundled suite name or JSONL path (default: default)")
    p.add_argument("--split", default="test", help="train, val, test or all (default test)")
    p.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="extra gym.make argument (VALUE parsed as JSON when it can be), repeatable")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; anything else exposes the env to the network)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--max-sessions", type=int, default=8, help="concurrent client sessions (default 8)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cvr_gym.cli.env_options import env_kwargs as make_env_kwargs

    try:
        from cvr_gym.integrations.openenv import serve
    except ImportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        env_kwargs = make_env_kwargs(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.max_sessions < 1 or not 0 < args.port < 65536:
        print("error: --max-sessions must be at least 1 and --port in 1..65535", file=sys.stderr)
        return 2
    if not is_loopback(args.host):
        print(f"warning: serving on {args.host}: anyone who can reach it can run episodes", file=sys.stderr)
    print(f"serving {args.env} (suite {args.suite}, split {args.split}) on http://{args.host}:{args.port}",
          file=sys.stderr, flush=True)
    serve(args.env, env_kwargs, host=args.host, port=args.port, max_sessions=args.max_sessions)
    return 0
