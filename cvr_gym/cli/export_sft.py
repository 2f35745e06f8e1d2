"""``cvr-gym export-sft``: successful eval episodes as chat transcripts for SFT."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export-sft", help="turn eval results into chat transcripts (JSONL) for SFT warm-starts",
        description="Read results files written by `cvr-gym eval --out` and write one chat record per episode "
                    "that scored at least --min-score: system prompt, task prompt, assistant turns with "
                    "<tool_call> blocks, tool turns with the observations. The file loads with "
                    "datasets.load_dataset('json', data_files=...) and trains with TRL's SFTTrainer.")
    p.add_argument("results", nargs="+", help="results files (JSONL) from cvr-gym eval")
    p.add_argument("-o", "--out", required=True, help="output JSONL file")
    p.add_argument("--min-score", type=float, default=1.0, help="keep episodes scoring at least this (default 1.0)")
    p.add_argument("--keep-invalid", action="store_true",
                   help="keep invalid actions and their error feedback (default: leave them out)")
    p.add_argument("--prompt-style", choices=("full", "compact"), default="full",
                   help="compact: short system prompt, no tool schemas, tool results cut to --max-evidence records "
                        "(for small models; default full)")
    p.add_argument("--max-evidence", type=int, default=4, help="compact style: records kept per tool result (default 4)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cvr_gym.train.sft_export import export_sft

    try:
        stats = export_sft(args.results, args.out, min_score=args.min_score, keep_invalid=args.keep_invalid,
                           prompt_style=args.prompt_style, max_evidence=args.max_evidence)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(stats.skipped.items())) or "none"
    print(f"{stats.kept} of {stats.episodes} episodes written to {args.out} (skipped: {skipped})")
    return 0 if stats.episodes else 1
