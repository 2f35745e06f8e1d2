"""The ``cvr-gym`` command. Each subcommand lives in its own module in this package.

A subcommand module defines ``register(subparsers)`` which adds a parser and sets
``func=callable(args) -> int`` as its default; modules are discovered automatically, so adding
a command means adding a file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cvr-gym",
        description="Gymnasium environments for cross-video reasoning agents: simulate, evaluate, train, compare.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        if hasattr(module, "register"):
            module.register(sub)
    return parser


def _user_errors() -> tuple[type[BaseException], ...]:
    from gymnasium import error as gym_error

    from cvr_gym.core.suites import SuiteError
    from cvr_gym.evaluation.registry import AgentSpecError
    from cvr_gym.perception.base import BackendLoadError
    from cvr_gym.perception.decode import MediaError

    errors: tuple[type[BaseException], ...] = (SuiteError, MediaError, BackendLoadError, AgentSpecError,
                                               FileNotFoundError, gym_error.Error)
    grpo = sys.modules.get("cvr_gym.train.grpo")  # loaded (with torch) only by commands that read checkpoints
    return errors if grpo is None else (*errors, grpo.CheckpointError)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from cvr_gym.cli._worker_errors import held_worker_errors

    try:
        with held_worker_errors(lambda err: isinstance(err, _user_errors())):
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error of ours.
        sys.stderr.close()
        return 0
    except Exception as err:
        if not isinstance(err, _user_errors()):
            raise
        # Problems with the user's data or setup: a one-line message, not a traceback.
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
