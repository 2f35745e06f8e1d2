"""``cvr-gym export-kto``: eval episodes as desirable/undesirable turns for KTO."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export-kto", help="turn eval results into labelled turns (JSONL) for KTO",
        description="Read results files written by `cvr-gym eval --out` and write one record per assistant turn "
                    "in TRL's KTO format (prompt, completion, label). Successful episodes (score >= --min-score, "
                    "evidence gathered before answering) are desirable; failed and guessed episodes (answered "
                    "without looking or listening) are undesirable. The file loads with "
                    "datasets.load_dataset('json', data_files=...) and trains with TRL's KTOTrainer "
                    "(cvr-gym train --policy llm --stage kto --data FILE).")
    p.add_argument("results", nargs="+", help="results files (JSONL) from cvr-gym eval")
    p.add_argument("-o", "--out", required=True, help="output JSONL file")
    p.add_argument("--min-score", type=float, default=1.0, help="desirable from this score (default 1.0)")
    p.add_argument("--prompt-style", choices=("full", "compact"), default="full",
                   help="system prompt and tool results as the model will see them (default full)")
    p.add_argument("--max-evidence", type=int, default=4, help="compact style: records kept per tool result (default 4)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cvr_gym.train.kto_export import export_kto

    try:
        stats, labels = export_kto(args.results, args.out, min_score=args.min_score,
                                   prompt_style=args.prompt_style, max_evidence=args.max_evidence)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(stats.skipped.items())) or "none"
    print(f"{labels[True]} desirable and {labels[False]} undesirable turns from {stats.kept} of "
          f"{stats.episodes} episodes written to {args.out} ({reasons})")
    return 0 if stats.kept else 1
