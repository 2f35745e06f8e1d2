"""``cvr-gym demo``: the sim-vs-real comparison on the bundled corpus, with the offline backends."""

from __future__ import annotations

import argparse

from cvr_gym.cli import compare


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="run real episodes on the bundled corpus in both worlds and print the comparison",
        description="Runs the heuristic agent on the bundled corpus of real videos in CVRSim-v0 (scripts) and "
                    "CVRReal-v0 (PyAV decoding, offline OCR and speech recognition), and prints the "
                    "comparison table. Same as `cvr-gym compare` with demo defaults.")
    compare.add_arguments(p)
    p.set_defaults(func=compare.run, episodes=None)


