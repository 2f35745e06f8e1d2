"""``cvr-gym render``: generate the renderable corpus and render its videos (PyAV + espeak-ng)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render", help="generate and render the corpus of real videos with ground-truth scripts",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Generate renderable tasks of every family (groups of 2-3 videos of 20 s - 3 min: coloured scenes,\n"
            "large on-screen text, shapes to count, espeak-ng speech, beeps) and render the videos as h264 +\n"
            "AAC mono files (320x240, 10 fps, a keyframe per second) under OUT/videos, with OUT/test.jsonl\n"
            "(and OUT/train.jsonl when --test-groups is smaller than the groups per family). Scripts use the\n"
            "offline backends' vocabulary, so CVRSim-v0 and CVRReal-v0 see (nearly) the same evidence.\n\n"
            "The same seed and --videos always give the same tasks and scripts; on one machine the video\n"
            "files are byte-identical too. Rendering speech needs espeak-ng (apt-get install espeak-ng)."),
        epilog="example: cvr-gym render --suite-out envs_data/corpus --seed 0 --videos 40")
    p.add_argument("--suite-out", required=True, help="output suite folder (created if missing)")
    p.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    p.add_argument("--videos", type=int, default=40,
                   help="at least this many videos; whole rounds of one group per family are made (default 40)")
    p.add_argument("--families", default="all", help="comma-separated family codes (default all eleven)")
    p.add_argument("--test-groups", type=int, default=2,
                   help="groups per family in test.jsonl; later groups go to train.jsonl (default 2)")
    p.add_argument("--crf", type=int, default=26, help="x264 quality, lower is better and bigger (default 26)")
    p.add_argument("--audio-bitrate", type=int, default=32_000, help="AAC bit rate in bit/s (default 32000)")
    p.add_argument("--tasks-only", action="store_true",
                   help="write only the task files (no videos; espeak-ng not needed)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from collections import Counter

    from rich.console import Console
    from rich.table import Table
    from tqdm import tqdm

    from cvr_gym.data.corpus import generate_corpus
    from cvr_gym.data.render import RenderError, render_corpus, write_suite

    try:
        corpus = generate_corpus(args.seed, args.videos, args.families, args.test_groups)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = Path(args.suite_out)
    if args.tasks_only:
        written = write_suite(corpus, out)
    else:
        try:
            with tqdm(total=round(corpus.total_seconds), desc="rendering", unit="s", disable=args.no_progress,
                      file=sys.stderr) as bar:
                render_corpus(corpus, out, progress=lambda s: bar.update(round(s)), crf=args.crf,
                              audio_bitrate=args.audio_bitrate)
        except RenderError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        written = [out / f"{s}.jsonl" for s in corpus.splits]

    table = Table(title=f"corpus seed {args.seed}: {len(corpus.plans)} videos, {corpus.total_seconds / 60:.1f} min")
    table.add_column("family")
    for split in corpus.splits:
        table.add_column(split, justify="right")
    counts = {s: Counter(t.family for t in tasks) for s, tasks in corpus.splits.items()}
    for family in sorted({t.family for t in corpus.tasks}, key=[t.family for t in corpus.tasks].index):
        table.add_row(family, *(str(counts[s][family]) for s in corpus.splits))
    table.add_row("total", *(str(len(t)) for t in corpus.splits.values()), style="bold")
    Console(stderr=False).print(table)
    if not args.tasks_only:
        size = sum((out / p.path).stat().st_size for p in corpus.plans)
        print(f"videos: {len(corpus.plans)} files, {size / 1e6:.1f} MB under {out / 'videos'}")
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0
