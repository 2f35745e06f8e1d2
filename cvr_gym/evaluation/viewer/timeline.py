"""Per-video timelines of an episode and the *look distance*: how far its looks were from the evidence.

Look distance, defined per gold evidence span (video ``v``, ``[start, end]``) from the observed
instants (the frames actually seen: decoded frame times in the real env, sampled times in the
simulator):

- 0 if a frame of ``v`` was seen inside ``[start, end]``;
- otherwise the gap in seconds between the span and the nearest frame seen on ``v``;
- ``v``'s duration if no frame of ``v`` was seen at all.

An episode's look distance is the mean over its task's spans (``None`` for tasks without
spans); ``spans_seen`` counts the spans at distance 0. Sorting a run by it, largest first, puts
the visual search failures (evidence never looked near) at the top. Listening is reported
beside it, not in it (``spans_heard``: spans a listen window overlapped): agents that listen to
whole videos would otherwise score 0 on every span and the ranking would say nothing.
``spans_seen`` or heard together is the grounding reward's rule
(:func:`cvr_gym.core.rewards.span_coverage`).
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
            video = task.videos[i] if i < len(task.videos) else None
            if i + 1 in timelines and getattr(video, "clip", None) is None:  # a clip video is its window
                timelines[i + 1].clips.append((start, end))
    return list(timelines.values())


@dataclass(frozen=True)
class LookDistance:
    """Mean gap in seconds between the gold spans and the nearest frame seen (see the module doc)."""

    mean_gap_s: float | None
    spans: int
    spans_seen: int
    spans_heard: int = 0
    gaps: tuple[float, ...] = ()

    @property
    def seen_share(self) -> float | None:
        return self.spans_seen / self.spans if self.spans else None


def span_gap(start: float, end: float, timeline: VideoTimeline) -> float:
    """The gap in seconds between a gold span and the nearest frame seen on its video (0: seen)."""
    gap = None
    for look in timeline.looks:
        if look.tool != "observe":
            continue
        for t in look.times:
            d = start - t if t < start else max(0.0, t - end)
            if d == 0.0:
                return 0.0
            gap = d if gap is None else min(gap, d)
    return timeline.duration if gap is None else gap


def span_heard(start: float, end: float, timeline: VideoTimeline) -> bool:
    """Whether a listen window on the span's video overlapped it."""
    return any(look.tool == "listen" and look.start < end and look.end > start for look in timeline.looks)


def look_distance(timelines: list[VideoTimeline]) -> LookDistance:
    spans = [(s, e, tl) for tl in timelines for s, e in tl.gold]
    if not spans:
        return LookDistance(None, 0, 0)
    gaps = [span_gap(s, e, tl) for s, e, tl in spans]
    heard = sum(span_heard(s, e, tl) for s, e, tl in spans)
    return LookDistance(sum(gaps) / len(gaps), len(gaps), sum(g == 0.0 for g in gaps), heard, tuple(gaps))
