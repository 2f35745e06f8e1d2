"""``cvr-gym build-scripts``: scripts from dense real perception of videos (a suite's or a folder's)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "build-scripts", help="write scripts perceived densely from real videos (sim/real parity)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Run the real env's perception over whole videos (FPS frames per second through the visual backend,\n"
            "the whole sound track through the audio backend, in chunks) and write what it reports as script\n"
            "items, consecutive identical records merged into spans.\n\n"
            "Given a suite (a bundled name, a folder of split files or a .jsonl file), the same tasks are written\n"
            "with their scripts replaced by the perceived ones: OUT is a .jsonl file, or a folder for one file per\n"
            "split, and must sit where the videos are inside its folder (e.g. next to the suite's own files).\n"
            "CVRSim-v0 on that suite then sees what CVRReal-v0 would. Given a folder of videos (or one file), OUT\n"
            "gets one JSON line per video: path, duration, fps, has_audio, script."),
        epilog="examples:\n  cvr-gym build-scripts --videos corpus --out envs_data/corpus/perceived.jsonl\n"
               "  cvr-gym build-scripts --videos my_videos/ --out scripts.jsonl --fps 2")
    p.add_argument("--videos", required=True, metavar="DIR_OR_SUITE",
                   help="a suite (name, folder or .jsonl), a folder of videos or a video file")
    p.add_argument("--out", required=True, help="output .jsonl file (or a folder, for a suite's splits)")
    p.add_argument("--split", default=None, help="only this split of a suite (default: all)")
    p.add_argument("--fps", type=float, default=1.0, help="visual frames per second of video (default 1)")
    p.add_argument("--visual", default="offline", help="visual backend spec (default offline)")
    p.add_argument("--audio", default="offline", help="audio backend spec (default offline)")
    p.add_argument("--chunk", type=float, default=30.0, help="longest audio chunk in seconds (default 30)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from cvr_gym.data.build_scripts import (
        BuildConfig, ScriptBuilder, build_suite_scripts, build_video_scripts, is_suite, total_seconds,
    )

    config = BuildConfig(fps=args.fps, visual=args.visual, audio=args.audio, chunk=args.chunk)
    try:
        suite = is_suite(args.videos)
        seconds = total_seconds(args.videos, args.split)
        builder = ScriptBuilder(config)
        with tqdm(total=round(seconds, 1), desc="perceiving", unit="s", disable=args.no_progress, file=sys.stderr,
                  bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}]") as bar:
            if suite:
                written = build_suite_scripts(args.videos, args.out, args.split, progress=bar.update, builder=builder)
            else:
                written = [build_video_scripts(args.videos, args.out, progress=bar.update, builder=builder)]
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0
