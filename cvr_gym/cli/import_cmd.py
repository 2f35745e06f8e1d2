"""``cvr-gym import agentcvr|crossvid``: convert other projects' task files into a suite."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from rich.console import Console

from cvr_gym.core.suites import SuiteError

_EPILOG_AGENTCVR = """\
SRC is one task JSON file, a JSONL file, or a folder searched recursively (e.g. the
build_data/finished_task folder holding assembly_synthesis/, behavior_synthesis/, ...).
The generator type of each record comes from its folder name (<type>_synthesis), its file
name (moc_task_*, msr_task_*) or its fields; --type forces one.
AgentCVR's verl training data is read too: a .parquet file (or a folder of them; needs
pyarrow, the `data` extra) or the same rows as JSONL, each row naming its task in
extra_info.task_name and carrying the scripts in extra_info.videos.

Mapping: assembly->PEA, behavior->BU (multi), cooking->CC, grounding->FSA (interval),
movie->NC, plot->PI, sort->PSS (order), uav_count->MOC, uav_position->MSR.
Timeline `visual` -> visual evidence; `caption` (subtitles: dialogue, voice-over, [sound
effects]) -> speech and sound evidence (see --caption-kind).

Records that cannot be mapped are listed with the reason; the rest are written. The exit
status is 1 only if nothing was imported.

examples:
  cvr-gym import agentcvr build_data/finished_task -o envs_data/agentcvr/train.jsonl
  cvr-gym import agentcvr format_data/crossvid_train_mini.parquet -o envs_data/agentcvr/verl.jsonl
"""

_EPILOG_CROSSVID = """\
SRC is one QA file (QA/BU.json ... QA/CCQA.json; the file name says the task) or the QA
folder. Video paths in the records are relative to --videos (CrossVid's videos/ folder);
MSR and MOC read frame folders and boxes from --uav (CrossVid's uav/ folder).

Paths in the written suite are relative to the output file's folder (the suite's data
root), so --videos and --uav must be inside it; records naming files outside are refused.
Durations are read from the video files with PyAV, else from a duration/durations field in
the record, else --default-duration; otherwise the record is reported as needing videos.

example (from the CrossVid checkout):
  cvr-gym import crossvid QA -o crossvid.jsonl --videos videos --uav uav
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``import`` with its ``agentcvr`` and ``crossvid`` subcommands."""
    parser = subparsers.add_parser(
        "import", help="convert AgentCVR or CrossVid task files into a cvr_gym suite (JSONL)",
        description="Convert other projects' task files into a cvr_gym suite (JSONL of tasks). "
                    "Every record is converted on its own; what cannot be mapped is reported with the reason.",
    )
    parser.set_defaults(func=lambda args: _usage(parser))
    sub = parser.add_subparsers(dest="source", metavar="SOURCE")

    agent = sub.add_parser(
        "agentcvr", help="AgentCVR synthesised tasks (scripts for CVRSim-v0)",
        description="Import AgentCVR's synthesised task JSON (the output of its data_synthesis "
                    "generators) as tasks with per-video scripts for the simulator.",
        epilog=_EPILOG_AGENTCVR, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    agent.add_argument("src", metavar="SRC", help="task JSON/JSONL file, verl .parquet file, or folder")
    _common(agent)
    agent.add_argument("--type", dest="source_type", metavar="TYPE",
                       help="generator type of every record: assembly, behavior, cooking, grounding, movie, plot, "
                            "sort, uav_count, uav_position (default: detect per record)")
    agent.add_argument("--caption-kind", default="auto", choices=("auto", "speech", "sound", "text", "skip"),
                       help="how to read timeline captions: auto = [bracketed] parts are sounds, the rest speech "
                            "(default); or all speech / sound / on-screen text; skip drops them")
    agent.set_defaults(func=_run_agentcvr)

    cross = sub.add_parser(
        "crossvid", help="CrossVid benchmark QA files (real videos, no scripts)",
        description="Import the CrossVid benchmark's evaluation JSON (all ten tasks) as tasks over real "
                    "video files, for CVRReal-v0.",
        epilog=_EPILOG_CROSSVID, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cross.add_argument("src", metavar="SRC", help="a QA/<TASK>.json file or the QA folder")
    _common(cross)
    cross.add_argument("--videos", metavar="DIR",
                       help="CrossVid's videos/ folder, inside the output's folder (default: <output folder>/videos)")
    cross.add_argument("--uav", metavar="DIR",
                       help="CrossVid's uav/ folder with frames/ and bbox/ (default: 'uav' beside --videos)")
    cross.add_argument("--task", metavar="TASK", help="CrossVid task of every record (default: from the file name)")
    cross.add_argument("--default-duration", type=float, metavar="S",
                       help="seconds to assume for videos that are missing and not described in the record")
    cross.add_argument("--uav-fps", type=float, default=30.0, metavar="FPS",
                       help="frame rate assumed for the UAV frame folders (default: 30)")
    cross.set_defaults(func=_run_crossvid)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", required=True, metavar="OUT.jsonl", help="suite file to write")
    parser.add_argument("--report", metavar="FILE.json", help="also write the full report (every skipped record, "
                                                              "every warning) as JSON")
    parser.add_argument("--max-rows", type=int, default=30, metavar="N",
                        help="skipped records listed in the summary table (default: 30)")
    parser.add_argument("--license", metavar="TEXT", help="license string stored in every task")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _run_agentcvr(args: argparse.Namespace) -> int:
    from cvr_gym.importers.agentcvr import LICENSE, AgentCVROptions, import_agentcvr

    options = AgentCVROptions(type=args.source_type, caption_mode=args.caption_kind, license=args.license or LICENSE)
    try:
        report = import_agentcvr(args.src, options)
    except (FileNotFoundError, ValueError) as err:
        Console(stderr=True).print(f"[red]error:[/red] {err}")
        return 2
    return _finish(report, args)


def _run_crossvid(args: argparse.Namespace) -> int:
    from cvr_gym.importers.crossvid import LICENSE, CrossVidOptions, import_crossvid
    from cvr_gym.importers.media import MediaLocator

    console = Console(stderr=True)
    # Paths as written, not resolved: a videos/ folder linked into the output's folder is inside it.
    root = Path(os.path.abspath(args.output)).parent
    videos = Path(os.path.abspath(args.videos)) if args.videos else root / "videos"
    uav = Path(args.uav) if args.uav else videos.parent / "uav"
    locator = MediaLocator(root)
    if not locator.inside(videos):
        console.print(f"[red]error:[/red] --videos {videos} is not inside {root}, the folder of the output file; "
                      "task files name videos relative to that folder. Write the output next to the videos.")
        return 2
    if args.default_duration is not None and args.default_duration <= 0:
        console.print("[red]error:[/red] --default-duration must be positive")
        return 2
    if args.uav_fps <= 0:
        console.print("[red]error:[/red] --uav-fps must be positive")
        return 2
    options = CrossVidOptions(data_root=root, videos_dir=videos, uav_dir=Path(os.path.abspath(uav)), task=args.task,
                              default_duration=args.default_duration, uav_fps=args.uav_fps,
                              license=args.license or LICENSE)
    try:
        report = import_crossvid(args.src, options)
    except (FileNotFoundError, ValueError) as err:
        console.print(f"[red]error:[/red] {err}")
        return 2
    return _finish(report, args)


def _finish(report, args: argparse.Namespace) -> int:
    from cvr_gym.importers.output import write_suite
    from cvr_gym.importers.summary import print_summary

    console = Console()
    if report.imported:
        try:
            write_suite(report.tasks, args.output)
        except SuiteError as err:
            console.print(f"[red]error:[/red] the written suite does not load: {err}")
            return 1
    print_summary(report, console, max_rows=args.max_rows, out=args.output)
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    return 0 if report.imported else 1
