"""Per-video timelines of an episode and the *look distance*: how far its looks were from the evidence.

Look distance, defined per gold evidence span (video ``v``, ``[start, end]``):

- 0 if the episode looked at it: an observed instant on ``v`` inside ``[start, end]`` or a
  listen window on ``v`` overlapping it (the rule of the grounding reward,
  :func:`cvr_gym.core.rewards.span_coverage`);
- otherwise the gap in seconds between the span and the nearest observed instant or listen
  window on ``v``;
- ``v``'s duration if the episode never looked at ``v`` at all.

An episode's look distance is the mean over its task's spans (``None`` for tasks without
spans); ``spans_hit`` counts the spans at distance 0. Sorting a run by it, largest first,
puts the search failures (evidence never looked near) at the top. The observed instants are the
frames actually seen: decoded frame times in the real env, sampled times in the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cvr_gym.evaluation.viewer.model import EpisodeView, Look, reconstruct_looks


@dataclass
class VideoTimeline:
    """What one episode did on one video: its looks in call order, the gold spans and clip windows."""

    video: int
    duration: float
    looks: list[Look] = field(default_factory=list)
    gold: list[tuple[float, float]] = field(default_factory=list)
    clips: list[tuple[float, float]] = field(default_factory=list)

    @property
    def ticks(self) -> int:
        return sum(len(look.times) for look in self.looks if look.tool == "observe")


def task_durations(task: Any) -> dict[int, float]:
    return {v.index: float(v.duration) for v in task.videos} if task is not None else {}


def episode_timelines(episode: EpisodeView, task: Any | None) -> list[VideoTimeline]:
    """One timeline per video of the task (or per video looked at, when the task is unknown)."""
    durations = task_durations(task)
    reconstruct_looks(episode, durations)  # records written before looks were kept
    looks = episode.looks
    for look in looks:  # without the task, a video is as long as the furthest look
        if look.video not in durations or task is None:
            durations[look.video] = max(durations.get(look.video, 0.0), look.end, *look.times, 1e-3)
    timelines = {v: VideoTimeline(v, d) for v, d in sorted(durations.items())}
    for look in looks:
        timelines[look.video].looks.append(look)
    if task is not None:
        for span in task.evidence:
            if span.video in timelines:
                timelines[span.video].gold.append((float(span.start), float(span.end)))
        for i, window in enumerate((task.meta or {}).get("clips") or []):
            try:
                start, end = float(window[0]), float(window[1])
            except (TypeError, ValueError, IndexError):
                continue
            if i + 1 in timelines:
                timelines[i + 1].clips.append((start, end))
    return list(timelines.values())


@dataclass(frozen=True)
class LookDistance:
    """Mean gap in seconds between the gold spans and the nearest look (see the module doc)."""

    mean_gap_s: float | None
    spans: int
    spans_hit: int
    gaps: tuple[float, ...] = ()

    @property
    def hit_share(self) -> float | None:
        return self.spans_hit / self.spans if self.spans else None


def _interval_gap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, b0 - a1, a0 - b1)


def span_gap(start: float, end: float, timeline: VideoTimeline) -> float:
    """The gap between a gold span and the nearest look on its video (0: looked at)."""
    gaps = []
    for look in timeline.looks:
        if look.tool == "listen":
            if look.start < end and look.end > start:
                return 0.0
            gaps.append(_interval_gap(start, end, look.start, look.end))
        else:
            for t in look.times:
                if start <= t <= end:
                    return 0.0
                gaps.append(start - t if t < start else t - end)
    return min(gaps) if gaps else timeline.duration


def look_distance(timelines: list[VideoTimeline]) -> LookDistance:
    gaps = [span_gap(s, e, tl) for tl in timelines for s, e in tl.gold]
    if not gaps:
        return LookDistance(None, 0, 0)
    return LookDistance(sum(gaps) / len(gaps), len(gaps), sum(g == 0.0 for g in gaps), tuple(gaps))
