"""Episodes as the viewer sees them, read from results files (``cvr-gym eval``) and comparisons
(``cvr-gym compare``), with each episode's task (gold answer, evidence spans, clip windows)
looked up in its suite.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Look:
    """One place an episode looked: an observe target (frame instants) or a listen window.

    ``times`` are the instants actually seen (the decoded frame times in the real env, the
    sampled times otherwise); ``requested`` the times the env sampled. ``call`` numbers the
    episode's tool calls from 0 across steps; ``step`` is 1-based.
    """

    tool: str
    step: int
    call: int
    video: int
    start: float
    end: float
    times: list[float] = field(default_factory=list)
    requested: list[float] = field(default_factory=list)
    thumbnails: list[str] = field(default_factory=list)


@dataclass
class StepView:
    """One step: the calls, what came back, what it cost and earned."""

    number: int
    tool_calls: list[dict[str, Any]]
    first_call: int
    parse_error: str | None = None
    observation: str | None = None
    reward: float | None = None
    reward_components: dict[str, float] = field(default_factory=dict)
    call_costs: list[dict[str, Any]] = field(default_factory=list)
    looks: list[Look] = field(default_factory=list)


@dataclass
class EpisodeView:
    """One episode of one run, normalised from either results format."""

    run: str
    index: int
    task_id: str
    family: str
    env_id: str
    agent: str
    score: float | None
    answer: Any
    termination_reason: str | None
    steps: list[StepView]
    costs: dict[str, Any] = field(default_factory=dict)
    reward_components: dict[str, float] = field(default_factory=dict)
    suite: str | None = None
    split: str | None = None
    prompt: str | None = None
    error: str | None = None
    reconstructed: bool = False  # looks rebuilt from the tool calls (records without them)

    @property
    def looks(self) -> list[Look]:
        return [look for step in self.steps for look in step.looks]

    @property
    def frames(self) -> int:
        if "frames" in self.costs:
            return int(self.costs["frames"] or 0)
        return sum(len(look.requested) for look in self.looks)


@dataclass
class Run:
    """The episodes of one agent in one env, from one file."""

    label: str
    source: str
    env_id: str
    agent: str
    episodes: list[EpisodeView]


class ResultsFormatError(ValueError):
    """A file that is neither a results file nor a comparison."""


# -- reading --------------------------------------------------------------------------------------

def load_runs(path: str | Path) -> list[Run]:
    """The runs in ``path``: a JSONL results file (one run per agent and env in it), a
    ``compare.json`` (its sim and real runs) or a folder holding ``compare.json``."""
    path = Path(path)
    if path.is_dir():
        if not (path / "compare.json").is_file():
            raise FileNotFoundError(f"{path} is a folder without compare.json")
        path = path / "compare.json"
    if not path.is_file():
        raise FileNotFoundError(f"no such results file: {path}")
    text_start = path.open(encoding="utf-8").read(2048).lstrip()
    if path.suffix == ".json" or (text_start.startswith("{") and '"episodes"' in text_start[:200] and "\n{" not in text_start):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as err:
            raise ResultsFormatError(f"{path}: not JSON ({err})") from None
        if isinstance(data, dict) and isinstance(data.get("episodes"), list):
            return _compare_runs(data, path)
        raise ResultsFormatError(f"{path}: not a comparison (no 'episodes' list)")
    return _jsonl_runs(path)


# Results files are data from elsewhere: every field is checked for its type before use, and a
# field of the wrong type is dropped rather than allowed to break the page.

def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _numbers(value: Any) -> dict[str, float]:
    return {str(k): v for k, v in ((k, _number(v)) for k, v in _dict(value).items()) if v is not None}


def _call_costs(value: Any) -> list[dict[str, Any]]:
    return [{"tool": str(c.get("tool", "?")), **_numbers(c)} for c in _list(value) if isinstance(c, dict)]


def _jsonl_runs(path: Path) -> list[Run]:
    from cvr_gym.evaluation.results import read_results

    records = read_results(path, check_fields=False)  # damaged fields are shown as such
    if not records:
        raise ResultsFormatError(f"{path}: no result records")
    by_run: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_run[(str(r.get("env_id", "?")), str(r.get("agent", "?")))].append(r)
    runs = []
    for (env_id, agent), recs in by_run.items():
        label = f"{agent} · {env_id}"
        eps = [_from_record(r, label) for r in sorted(recs, key=lambda r: int(r.get("episode", 0)))]
        runs.append(Run(label, str(path), env_id, agent, eps))
    return runs


def _from_record(r: dict[str, Any], label: str) -> EpisodeView:
    tool_calls = [_list(c) for c in _list(r.get("tool_calls"))]
    traces = [_dict(t) for t in _list(r.get("steps"))]
    observations = _list(r.get("observations"))
    parse_errors = _list(r.get("parse_errors"))
    steps, first = [], 0
    for k in range(max(len(tool_calls), len(traces))):
        calls = tool_calls[k] if k < len(tool_calls) else []
        trace = traces[k] if k < len(traces) else {}
        obs = _text(observations[k + 1]) if len(observations) > k + 1 else None
        error = _text(parse_errors[k]) if k < len(parse_errors) else None
        steps.append(_step(k + 1, calls, first, trace, obs, error, trace.get("reward")))
        first += len(calls)
    return EpisodeView(
        run=label, index=int(r.get("episode", 0)), task_id=str(r.get("task_id")), family=str(r.get("family", "?")),
        env_id=str(r.get("env_id", "?")), agent=str(r.get("agent", "?")), score=_number(r.get("score")),
        answer=_answer_of(tool_calls), termination_reason=_text(r.get("termination_reason")), steps=steps,
        costs=_numbers(r.get("costs")), reward_components=_numbers(r.get("reward_components")),
        suite=_text(r.get("suite")), split=_text(r.get("split")),
        prompt=_text(observations[0]) if observations else None,
        error=None if r.get("error") is None else str(r.get("error")), reconstructed=bool(steps) and not traces)


def _compare_runs(data: dict[str, Any], path: Path) -> list[Run]:
    config = _dict(data.get("config"))
    agent = str(config.get("agent", "?"))
    mode = str(config.get("mode", "paired"))
    runs = []
    for world, env_id in (("sim", "CVRSim-v0"), ("real", "CVRReal-v0")):
        label = f"{agent} · {env_id}" + (" (replayed sim actions)" if world == "real" and mode == "replay" else "")
        eps = []
        for i, ep in enumerate(data["episodes"]):
            ep = _dict(ep)
            side = _dict(ep.get(world))
            traces = [_dict(s) for s in _list(side.get("steps"))]
            steps, first = [], 0
            for k, s in enumerate(traces):
                calls = _list(s.get("tool_calls"))
                steps.append(_step(k + 1, calls, first, s, _text(s.get("observation")), _text(s.get("parse_error")),
                                   s.get("reward")))
                first += len(calls)
            traced = any("looks" in s for s in traces)
            eps.append(EpisodeView(
                run=label, index=i, task_id=str(ep.get("task_id")), family=str(ep.get("family", "?")), env_id=env_id,
                agent=agent, score=_number(side.get("score")), answer=side.get("answer"), termination_reason=None,
                steps=steps, costs={"frames": _number(side.get("frames")) or 0, "steps": len(steps)},
                suite=_text(config.get("suite")), split=_text(config.get("split")),
                reconstructed=bool(steps) and not traced))
        runs.append(Run(label, str(path), env_id, agent, eps))
    return runs


def _step(number: int, calls: list[dict[str, Any]], first: int, trace: dict[str, Any], obs: str | None,
          parse_error: str | None, reward: float | None) -> StepView:
    calls = [c for c in calls if isinstance(c, dict)]
    looks = []
    for lk in _list(trace.get("looks")):
        look = _look(_dict(lk), number, first)
        if look is not None:
            looks.append(look)
    return StepView(number, calls, first, parse_error, obs, _number(reward), _numbers(trace.get("reward_components")),
                    _call_costs(trace.get("call_costs")), looks)


def _look(lk: dict[str, Any], step: int, first: int) -> Look | None:
    """A look from a record, or ``None`` for a damaged one (left out, not fatal)."""
    tool, video, call = lk.get("tool"), lk.get("video"), lk.get("call", 0)
    start, end = _number(lk.get("start")), _number(lk.get("end"))
    if tool not in ("observe", "listen") or start is None or end is None:
        return None
    if isinstance(video, bool) or not isinstance(video, int) or not 1 <= video <= 64:
        return None
    if isinstance(call, bool) or not isinstance(call, int) or not 0 <= call < 10_000:
        return None
    requested = [t for t in map(_number, _list(lk.get("times"))) if t is not None]
    seen = [t for t in map(_number, _list(lk.get("decoded_times"))) if t is not None] or requested
    thumbs = [t for t in _list(lk.get("thumbnails")) if isinstance(t, str) and t.startswith("data:image/png;base64,")]
    return Look(tool, step, first + call, video, start, end, seen, requested, thumbs)


def _answer_of(tool_calls: list[list[dict[str, Any]]]) -> Any:
    for calls in reversed(tool_calls):
        for c in calls or []:
            if isinstance(c, dict) and c.get("name") == "answer":
                return _dict(c.get("arguments")).get("answer")
    return None


def select(runs: list[Run], episode: int | None = None, task: str | None = None) -> list[Run]:
    """The runs with only episode number ``episode`` and/or the episodes of task ``task``."""
    out = []
    for run in runs:
        eps = [ep for ep in run.episodes
               if (episode is None or ep.index == episode) and (task is None or ep.task_id == task)]
        out.append(Run(run.label, run.source, run.env_id, run.agent, eps))
    return out


# -- looks for records that predate them -----------------------------------------------------------

def reconstruct_looks(episode: EpisodeView, durations: dict[int, float]) -> None:
    """Fill in the looks of an episode recorded without them, from its tool calls and the env's
    rule (``num_frames`` bin centres of the window clamped to the video). Frame-budget clipping
    is not replayed, so the last observe of a budget-capped episode may show too many frames."""
    if not episode.reconstructed:
        return
    for step in episode.steps:
        step.looks = []
        for n, call in enumerate(step.tool_calls):
            args = _dict(call.get("arguments"))
            try:
                if call.get("name") == "observe":
                    for target in args.get("targets") or []:
                        v = int(target["video"])
                        start = float(target["start"])
                        end = min(float(target["end"]), durations.get(v, float(target["end"])))
                        k = int(target.get("num_frames", 1))
                        if not (math.isfinite(start) and math.isfinite(end)) or end <= start or not 0 < k <= 4096:
                            continue
                        times = [start + (i + 0.5) * (end - start) / k for i in range(k)]
                        step.looks.append(Look("observe", step.number, step.first_call + n, v, start, end, times, times))
                elif call.get("name") == "listen":
                    v = int(args["video"])
                    start, end = max(0.0, float(args["start"])), min(float(args["end"]), durations.get(v, float(args["end"])))
                    if math.isfinite(start) and math.isfinite(end) and end > start:
                        step.looks.append(Look("listen", step.number, step.first_call + n, v, start, end))
            except (KeyError, TypeError, ValueError, OverflowError, AttributeError):
                continue


# -- tasks ----------------------------------------------------------------------------------------

class TaskLookup:
    """Finds an episode's task in its suite (loaded once per suite); ``fallback`` is tried when a
    record names no suite or its suite does not hold the task."""

    def __init__(self, fallback: str | None = None):
        self.fallback = fallback
        self._suites: dict[str, dict[str, Any] | None] = {}
        self.problems: list[str] = []

    def _index(self, suite: str) -> dict[str, Any] | None:
        if suite not in self._suites:
            from cvr_gym.core.suites import load_suite

            try:
                self._suites[suite] = {t.id: t for t in load_suite(suite, split=None)}
            except (ValueError, OSError) as err:  # a missing or broken suite costs the gold lines, not the page
                self.problems.append(f"suite {suite!r} could not be loaded ({type(err).__name__}: {err})")
                self._suites[suite] = None
        return self._suites[suite]

    def get(self, episode: EpisodeView) -> Any | None:
        for suite in (episode.suite, self.fallback):
            if suite:
                index = self._index(str(suite))
                if index is not None and episode.task_id in index:
                    return index[episode.task_id]
        return None
