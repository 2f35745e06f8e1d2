"""``cvr-gym report``: compare evaluation runs side by side and plot accuracy against cost."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="compare results files: agent x family table and a score-vs-frames PNG",
        description="Read one or more JSONL results files written by `cvr-gym eval`, print a table of mean score "
                    "and frames per episode for every run (agent) and family, and optionally plot score against "
                    "frames per episode (one panel per family) to a PNG.")
    p.add_argument("results", nargs="+", help="results files (JSONL) from cvr-gym eval")
    p.add_argument("--out", default=None, help="write the score-vs-frames plot to this PNG")
    p.add_argument("--json", action="store_true", help="print the per-run, per-family summary as JSON")
    p.add_argument("--title", default="", help="title of the table and plot")
    p.add_argument("--label", action="append", default=None, metavar="NAME",
                   help="name for the run in each results file, once per file in order (default: the agent spec)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cvr_gym.evaluation.results import read_results
    from cvr_gym.evaluation.summary import comparison_table, console, group_runs, summarise, summary_table

    if args.label is not None and len(args.label) != len(args.results):
        print(f"error: give --label once per results file ({len(args.results)}), got {len(args.label)}", file=sys.stderr)
        return 2
    records = []
    for n, path in enumerate(args.results):
        skipped: list[str] = []
        try:
            found = read_results(path, skipped=skipped)
        except OSError as err:
            print(f"error: cannot read {path}: {err}", file=sys.stderr)
            return 2
        if skipped:
            print(f"warning: skipped {len(skipped)} line(s) that are not result records, e.g. {skipped[0]}",
                  file=sys.stderr)
        if not found:
            print(f"warning: {path} holds no result records", file=sys.stderr)
        if args.label is not None:  # the run is named by its agent spec: rename it for the report
            found = [{**r, "agent": args.label[n]} for r in found]
        records.extend(found)
    if not records:
        print("error: no result records to report", file=sys.stderr)
        return 2
    runs = group_runs(records)
    summaries = {run: summarise(recs) for run, recs in runs.items()}
    if args.json:
        print(json.dumps({"runs": summaries, "plot": args.out}, indent=2))
    else:
        out = console()
        out.print(comparison_table(summaries, args.title))
        # every cost per run, so runs that trade frames for steps (teams: steps = rounds) compare at a glance
        out.print(summary_table({run: s["ALL"] for run, s in summaries.items() if "ALL" in s}, first="run"))
    if args.out:
        from cvr_gym.evaluation.plots import plot_score_vs_frames

        path = plot_score_vs_frames(runs, args.out, args.title)
        print(f"wrote {path}", file=sys.stderr)
    return 0
