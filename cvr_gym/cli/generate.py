"""``cvr-gym generate``: write a procedural task suite (train/val/test JSONL) and summarise it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SPLITS = ("train", "val", "test")


def _range(text: str) -> tuple[float, float]:
    lo, sep, hi = text.partition(",")
    try:
        return (float(lo), float(hi if sep else lo))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH (or one number), got {text!r}") from None


def _int_range(text: str) -> tuple[int, int]:
    lo, hi = _range(text)
    if lo != int(lo) or hi != int(hi):
        raise argparse.ArgumentTypeError(f"expected whole numbers, got {text!r}")
    return (int(lo), int(hi))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate", help="generate a procedural task suite (train/val/test JSONL)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Generate script-only tasks of the eleven families (BU NC CC PEA PI FSA PSS MSR MOC CCQA AUD)\n"
            "and write OUT/train.jsonl, OUT/val.jsonl and OUT/test.jsonl. Split sizes are totals, shared\n"
            "out evenly over the families. The same arguments always give byte-identical files.\n\n"
            "Each task has 2-4 videos whose scripts hide short key evidence inside longer context scenes,\n"
            "among distractors and background items; see cvr_gym.data for the design."),
        epilog="example: cvr-gym generate --out envs_data/mine --seed 1 --train 110 --val 22 --test 44 "
               "--families CC,AUD --difficulty easy")
    p.add_argument("--out", required=True, help="output folder (created if missing); split files in it are replaced")
    p.add_argument("--seed", type=int, default=0, help="suite seed: the same seed gives the same tasks (default 0)")
    p.add_argument("--train", type=int, default=660, help="tasks in train.jsonl, over all families (default 660)")
    p.add_argument("--val", type=int, default=110, help="tasks in val.jsonl, over all families (default 110)")
    p.add_argument("--test", type=int, default=220, help="tasks in test.jsonl, over all families (default 220)")
    p.add_argument("--families", default="all",
                   help="comma-separated family codes, e.g. BU,NC,AUD (default all eleven)")
    p.add_argument("--difficulty", default="mixed", choices=("easy", "medium", "hard", "mixed"),
                   help="easy: 30-150 s videos, 2-3 of them, 2.5-4 s key evidence; medium: 2-10 min, 2-3 videos, "
                        "1.5-3.5 s keys; hard: 10-30 min, 3-4 videos, 1.5-4 s keys, more distractors; "
                        "mixed: each task draws one of the three (default mixed)")
    p.add_argument("--min-duration", type=float, default=None,
                   help="shortest video in seconds (>= 30; overrides the preset)")
    p.add_argument("--max-duration", type=float, default=None,
                   help="longest video in seconds (<= 1800; overrides the preset)")
    p.add_argument("--videos", type=_int_range, default=None, metavar="LOW,HIGH",
                   help="videos per task, e.g. 2,4 (2 to 4; overrides the preset)")
    p.add_argument("--key-length", type=_range, default=None, metavar="LOW,HIGH",
                   help="length of each key evidence item in seconds, e.g. 1,4 (overrides the preset)")
    p.add_argument("--context-length", type=_range, default=None, metavar="LOW,HIGH",
                   help="length of the context scene around each key item in seconds, e.g. 10,90 "
                        "(overrides the preset)")
    p.add_argument("--distractors", type=int, default=None,
                   help="distractor scenes per video, as room allows (overrides the preset)")
    p.add_argument("--filler-density", type=float, default=None,
                   help="background items per minute of video (overrides the preset)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _presets(args: argparse.Namespace) -> tuple:
    """The difficulty presets with the command-line overrides applied.

    ``--min-duration``/``--max-duration`` replace one bound of each preset's duration range and
    keep the other (raised to the given bound when they would cross).
    """
    from cvr_gym.data.difficulty import resolve_difficulty

    overrides = {"num_videos": args.videos, "key_length": args.key_length, "context_length": args.context_length,
                 "distractors": args.distractors, "filler_per_minute": args.filler_density}
    presets = []
    for preset in resolve_difficulty(args.difficulty, **overrides):
        lo, hi = preset.duration
        lo = args.min_duration if args.min_duration is not None else lo
        hi = args.max_duration if args.max_duration is not None else hi
        if args.max_duration is None:
            hi = max(hi, lo)
        if args.min_duration is None:
            lo = min(lo, hi)
        presets.append(preset.with_overrides(duration=(lo, hi)))
    return tuple(presets)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from tqdm import tqdm

    from cvr_gym.data.generator import generate_suite, parse_families, spread, write_jsonl

    sizes = {"train": args.train, "val": args.val, "test": args.test}
    try:
        families = parse_families(args.families)
        if any(n < 0 for n in sizes.values()):
            raise ValueError("split sizes must be non-negative")
        presets = _presets(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    out = Path(args.out)
    counts: dict[str, dict[str, int]] = {}
    written: dict[str, Path] = {}
    with tqdm(total=sum(sizes.values()), desc="generating", unit="task", disable=args.no_progress,
              file=sys.stderr) as bar:
        for split, total in sizes.items():
            per_family = spread(total, families)
            tasks = generate_suite(args.seed, per_family, families, presets, split, progress=bar.update)
            written[split] = write_jsonl(tasks, out / f"{split}.jsonl")
            counts[split] = per_family

    table = Table(title=f"seed {args.seed}, {args.difficulty}")
    table.add_column("family")
    for split in sizes:
        table.add_column(split, justify="right")
    for family in families:
        table.add_row(family, *(str(counts[s][family]) for s in sizes))
    table.add_row("total", *(str(sizes[s]) for s in sizes), style="bold")
    table.add_row("MB", *(f"{written[s].stat().st_size / 1e6:.2f}" for s in sizes))
    Console().print(table)
    print(f"wrote {', '.join(str(p) for p in written.values())}")
    return 0
