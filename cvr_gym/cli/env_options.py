"""What several subcommands say about the env they build: split names and ``--env-arg`` values."""

from __future__ import annotations

import argparse
import json
from typing import Any

#: Split names that mean "every task of the suite".
ALL_SPLITS = ("all", "none", "")


def env_id_arg(env: str) -> str:
    """``--env`` as a Gymnasium id: ``sim`` and ``real`` are short for the two worlds."""
    return {"sim": "CVRSim-v0", "real": "CVRReal-v0"}.get(env, env)


def split_arg(split: str | None) -> str | None:
    """``--split`` as ``gym.make`` takes it: ``None`` for every task (``all``/``none``)."""
    return None if split is None or str(split).lower() in ALL_SPLITS else split


def parse_env_args(items: list[str]) -> dict[str, Any]:
    """``["frame_budget=512", "families=[\"CC\"]"]`` -> ``{"frame_budget": 512, "families": ["CC"]}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--env-arg takes KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out


def env_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """``gym.make`` keyword arguments from ``--suite``, ``--split`` and ``--env-arg``."""
    return {"suite": args.suite, "split": split_arg(args.split), **parse_env_args(args.env_arg)}
