"""The simulator's perceiver: looks evidence up in each video's script.

``observe`` returns the visual items (visual, text, object) whose span contains at least one of
the sampled frame times, so a sparse scan can miss a short event. ``listen`` returns the speech
and sound items overlapping the window. An optional seeded noise model drops items (misses) or
swaps their content for another item's of the same kind (confusions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cvr_gym.core.evidence import AUDIO_KINDS, VISUAL_KINDS, Evidence, ScriptItem
from cvr_gym.core.suites import Suite
from cvr_gym.core.tasks import Task, VideoSpec


@dataclass(frozen=True)
class PerceptionNoise:
    """Seeded perception noise for the simulator (off by default).

    Arguments:
        miss_prob: chance that an item that should be seen or heard is not reported.
        confusion_prob: chance that a reported item's content is replaced by another item's
            content of the same kind from the same task.
    """

    miss_prob: float = 0.0
    confusion_prob: float = 0.0

    def __post_init__(self) -> None:
        for name in ("miss_prob", "confusion_prob"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")

    @property
    def active(self) -> bool:
        return self.miss_prob > 0 or self.confusion_prob > 0


class _Track:
    """Items of one modality of one video as arrays for fast time look-ups."""

    __slots__ = ("items", "starts", "ends")

    def __init__(self, items: list[ScriptItem]):
        self.items = items
        self.starts = np.array([i.start for i in items], dtype=np.float64)
        self.ends = np.array([i.end for i in items], dtype=np.float64)


class _VideoIndex:
    __slots__ = ("visual", "audio")

    def __init__(self, video: VideoSpec):
        self.visual = _Track([i for i in video.script if i.kind in VISUAL_KINDS])
        self.audio = _Track([i for i in video.script if i.kind in AUDIO_KINDS])


# Indexes are pure functions of immutable tasks, so every env in a process shares them.
_INDEX_CACHE: dict[int, tuple[Task, tuple[_VideoIndex, ...]]] = {}
_INDEX_CACHE_LIMIT = 20_000


def _index(task: Task) -> tuple[_VideoIndex, ...]:
    hit = _INDEX_CACHE.get(id(task))
    if hit is not None and hit[0] is task:
        return hit[1]
    if len(_INDEX_CACHE) >= _INDEX_CACHE_LIMIT:
        _INDEX_CACHE.clear()
    index = tuple(_VideoIndex(v) for v in task.videos)
    _INDEX_CACHE[id(task)] = (task, index)
    return index


class ScriptPerceiver:
    """Answers ``observe``/``listen`` from scripts. See the module docstring.

    Arguments:
        noise: a :class:`PerceptionNoise` (default: none).
    """

    name = "script"
    #: ``observe`` takes ``resize`` (EVA's frame scale): text and objects whose script item gives
    #: a ``size`` (height as a share of the frame height) are unreadable when
    #: ``size * resize < min_readable_size``; the default 0.02 is about 14 px of a 720p frame.
    supports_resize = True

    def __init__(self, noise: PerceptionNoise | None = None, min_readable_size: float = 0.02):
        self.noise = noise or PerceptionNoise()
        self.min_readable_size = float(min_readable_size)

    def load_task(self, task: Task, suite: Suite) -> None:
        _index(task)

    def observe(self, task: Task, video: int, times: np.ndarray, focus: str,
                rng: np.random.Generator, resize: float = 1.0) -> list[Evidence]:
        track = _index(task)[video - 1].visual
        if not track.items:
            return []
        # times are sorted: an item is seen iff the first time at or after its start is <= its end.
        first = np.searchsorted(times, track.starts, side="left")
        last = np.searchsorted(times, track.ends, side="right") - 1
        out = []
        for i in np.flatnonzero(first <= last).tolist():
            item = track.items[i]
            if resize != 1.0 and not self._readable(item, resize):
                continue
            # Copies of attributes: tasks are shared by every env in the process.
            out.append(Evidence(video, float(times[first[i]]), float(times[last[i]]), item.kind, item.content,
                                dict(item.attributes) if item.attributes else {}))
        return self._perturb(out, task, rng) if self.noise.active else out

    def listen(self, task: Task, video: int, start: float, end: float, focus: str,
               rng: np.random.Generator) -> list[Evidence]:
        track = _index(task)[video - 1].audio
        if not track.items:
            return []
        hits = np.flatnonzero((track.starts < end) & (track.ends > start))
        out = [Evidence(video, it.start, it.end, it.kind, it.content, dict(it.attributes) if it.attributes else {})
               for it in (track.items[i] for i in hits)]
        return self._perturb(out, task, rng) if self.noise.active else out

    def _readable(self, item, resize: float) -> bool:
        size = item.attributes.get("size") if item.attributes and item.kind in ("text", "object") else None
        if not isinstance(size, (int, float)) or isinstance(size, bool):
            return True
        return size * resize >= self.min_readable_size

    def _perturb(self, evidence: list[Evidence], task: Task, rng: np.random.Generator) -> list[Evidence]:
        kept = []
        for ev in evidence:
            if rng.random() < self.noise.miss_prob:
                continue
            if rng.random() < self.noise.confusion_prob:
                pool = [i.content for v in task.videos for i in v.script
                        if i.kind == ev.kind and i.content != ev.content]
                if pool:
                    ev = Evidence(ev.video, ev.start, ev.end, ev.kind, pool[int(rng.integers(len(pool)))],
                                  ev.attributes, confidence=0.5)
            kept.append(ev)
        return kept

    def close(self) -> None:
        pass
