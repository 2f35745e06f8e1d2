"""``cvr-gym view``: see where the agent looked (a self-contained HTML page, or a PNG timeline)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "view", help="HTML episode viewer: timelines of where the agent looked, transcripts, scores",
        description="Draw episodes from results files (cvr-gym eval --out X.jsonl) or comparisons (cvr-gym compare: "
                    "its compare.json or output folder) as one self-contained HTML page that works offline: per "
                    "video a timeline of the observed instants (ticks, coloured by call), listen windows (bars), "
                    "gold evidence spans (shaded) and clip windows; the step-by-step transcript with evidence "
                    "lines, costs and reward components; the answer against the gold one. Several files are "
                    "shown side by side, aligned per task. Over several tasks the page opens with a summary: "
                    "per-family score, frames and look distance, and the episodes sorted by look distance "
                    "(mean gap in seconds between each gold span and the nearest look on its video; 0 when "
                    "looked at).")
    p.add_argument("results", nargs="+", help="results JSONL files, compare.json files or compare output folders")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--episode", type=int, default=None, help="only episode N (its index in the run)")
    which.add_argument("--task", default=None, help="only the episodes of task ID")
    p.add_argument("-o", "--out", default=None, help="HTML file to write (default view.html unless --png is given)")
    p.add_argument("--png", default=None, metavar="PATH",
                   help="also draw the first selected task's timelines as a PNG (matplotlib), for papers")
    p.add_argument("--suite", default=None,
                   help="suite to find tasks in when a record does not name one (gold answers, spans, clip windows)")
    p.add_argument("--summary-only", action="store_true", help="only the summary tables, no episodes")
    p.add_argument("--title", default=None, help="page title (default: the runs' names)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cvr_gym.evaluation.viewer import TaskLookup, align, load_runs, render_page, select
    from cvr_gym.evaluation.viewer.model import ResultsFormatError

    try:
        runs = [run for path in args.results for run in load_runs(path)]
    except ResultsFormatError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    runs = select(runs, episode=args.episode, task=args.task)
    if not any(run.episodes for run in runs):
        what = f"episode {args.episode}" if args.episode is not None else f"task {args.task!r}"
        print(f"error: no {what} in {', '.join(args.results)}", file=sys.stderr)
        return 2
    lookup = TaskLookup(args.suite)
    written = []
    if args.png:
        from cvr_gym.evaluation.viewer.png import render_png

        rows = align(runs, lookup)
        written.append(render_png(rows[0], [run.label for run in runs], args.png))
        if len(rows) > 1:
            print(f"note: the PNG shows the first of {len(rows)} tasks ({rows[0].task_id}); "
                  f"pick one with --episode or --task", file=sys.stderr)
    if args.out or not args.png:
        out = Path(args.out or "view.html")
        page = render_page(runs, lookup, title=args.title, summary=True if args.summary_only else None,
                           episodes=not args.summary_only)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
        written.append(out)
    for problem in lookup.problems:
        print(f"warning: {problem}", file=sys.stderr)
    print("wrote " + " and ".join(str(p) for p in written))
    return 0
