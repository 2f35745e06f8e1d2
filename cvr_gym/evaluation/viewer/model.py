"""Episodes as the viewer sees them, read from results files (``cvr-gym eval``) and comparisons
(``cvr-gym compare``), with each episode's task (gold answer, evidence spans, clip windows)
looked up in its suite.
"""

from __future__ import annotations

import json
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


def _jsonl_runs(path: Path) -> list[Run]:
    from cvr_gym.evaluation.results import read_results

    records = read_results(path)
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
    tool_calls = r.get("tool_calls") or []
    traces = r.get("steps") or []
    observations = r.get("observations") or []
    parse_errors = r.get("parse_errors") or []
    steps, first = [], 0
    for k in range(max(len(tool_calls), len(traces))):
        calls = tool_calls[k] if k < len(tool_calls) else []
        trace = traces[k] if k < len(traces) else {}
        obs = observations[k + 1] if len(observations) > k + 1 else None
        error = parse_errors[k] if k < len(parse_errors) else None
        steps.append(_step(k + 1, calls, first, trace, obs, error, trace.get("reward")))
        first += len(calls)
    return EpisodeView(
        run=label, index=int(r.get("episode", 0)), task_id=str(r.get("task_id")), family=str(r.get("family", "?")),
        env_id=str(r.get("env_id", "?")), agent=str(r.get("agent", "?")), score=r.get("score"),
        answer=_answer_of(tool_calls), termination_reason=r.get("termination_reason"), steps=steps,
        costs=dict(r.get("costs") or {}), reward_components=dict(r.get("reward_components") or {}),
        suite=r.get("suite"), split=r.get("split"), prompt=observations[0] if observations else None,
        error=r.get("error"), reconstructed=bool(steps) and not traces)


def _compare_runs(data: dict[str, Any], path: Path) -> list[Run]:
    config = data.get("config") or {}
    agent = str(config.get("agent", "?"))
    mode = str(config.get("mode", "paired"))
    runs = []
    for world, env_id in (("sim", "CVRSim-v0"), ("real", "CVRReal-v0")):
        label = f"{agent} · {env_id}" + (" (replayed sim actions)" if world == "real" and mode == "replay" else "")
        eps = []
        for i, ep in enumerate(data["episodes"]):
            side = ep.get(world) or {}
            steps, first = [], 0
            for k, s in enumerate(side.get("steps") or []):
                calls = s.get("tool_calls") or []
                steps.append(_step(k + 1, calls, first, s, s.get("observation"), s.get("parse_error"), s.get("reward")))
                first += len(calls)
            traced = any("looks" in s for s in side.get("steps") or [])
            eps.append(EpisodeView(
                run=label, index=i, task_id=str(ep.get("task_id")), family=str(ep.get("family", "?")), env_id=env_id,
                agent=agent, score=side.get("score"), answer=side.get("answer"), termination_reason=None, steps=steps,
                costs={"frames": side.get("frames", 0), "steps": len(steps)}, suite=config.get("suite"),
                split=config.get("split"), reconstructed=bool(steps) and not traced))
        runs.append(Run(label, str(path), env_id, agent, eps))
    return runs


def _step(number: int, calls: list[dict[str, Any]], first: int, trace: dict[str, Any], obs: str | None,
          parse_error: str | None, reward: float | None) -> StepView:
    calls = [c for c in calls if isinstance(c, dict)]
    looks = []
    for lk in trace.get("looks") or []:
        try:
            requested = [float(t) for t in lk.get("times") or []]
            seen = [float(t) for t in lk.get("decoded_times") or []] or requested
            looks.append(Look(str(lk["tool"]), number, first + int(lk.get("call", 0)), int(lk["video"]),
                              float(lk["start"]), float(lk["end"]), seen, requested,
                              [t for t in lk.get("thumbnails") or [] if isinstance(t, str) and t.startswith("data:image/")]))
        except (KeyError, TypeError, ValueError):
            continue  # a damaged entry is left out, not fatal
    return StepView(number, calls, first, parse_error, obs, reward, dict(trace.get("reward_components") or {}),
                    list(trace.get("call_costs") or []), looks)


def _answer_of(tool_calls: list[list[dict[str, Any]]]) -> Any:
    for calls in reversed(tool_calls):
        for c in calls or []:
            if isinstance(c, dict) and c.get("name") == "answer":
                return (c.get("arguments") or {}).get("answer")
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
            args = call.get("arguments") or {}
            try:
                if call.get("name") == "observe":
                    for target in args.get("targets") or []:
                        v = int(target["video"])
                        start = float(target["start"])
                        end = min(float(target["end"]), durations.get(v, float(target["end"])))
                        k = int(target.get("num_frames", 1))
                        if end <= start or k <= 0:
                            continue
                        times = [start + (i + 0.5) * (end - start) / k for i in range(k)]
                        step.looks.append(Look("observe", step.number, step.first_call + n, v, start, end, times, times))
                elif call.get("name") == "listen":
                    v = int(args["video"])
                    start, end = max(0.0, float(args["start"])), min(float(args["end"]), durations.get(v, float(args["end"])))
                    if end > start:
                        step.looks.append(Look("listen", step.number, step.first_call + n, v, start, end))
            except (KeyError, TypeError, ValueError):
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
            except Exception as err:  # a missing or broken suite costs the gold lines, not the page
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
