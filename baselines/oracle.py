"""``oracle``: looks exactly where the gold evidence is (needs ``privileged_info=True``)."""

from __future__ import annotations

import math
from typing import Any

from baselines.planned import PlannedAgent, fit_budget, pack_targets, split_window
from cvr_gym.core.actions import ToolCall
from cvr_gym.evaluation.registry import parse_args


class OracleAgent(PlannedAgent):
    """Observe exactly each gold evidence span, listen to it where there is audio, then answer.

    The env must be made with ``privileged_info=True`` so that the reset info holds
    ``evidence_spans``. Each span is observed with ``frames_per_second`` frames per second of span
    (at least ``min_frames``, within the per-target limit and the frame budget), its window
    widened by about half a frame interval on each side so that the first and last frames fall
    just inside the span's ends, and listened to on videos with an audio track. The answer reader
    then runs on the gathered evidence: with a perfect reader this is the upper bound of what
    looking can achieve.

    Arguments:
        frames_per_second: frames per second of span (default 2).
        min_frames: frames per span at least (default 4).
        action_space: the env's action space (for per-call limits).
        reader: answer reader, ``"auto"``, ``"family"`` or ``"generic"`` (see :mod:`cvr_gym.data.readers`).
    """

    name = "oracle"
    privileged_info = True  # the registry makes its env with privileged_info=True

    def __init__(self, frames_per_second: float = 2.0, min_frames: int = 4, action_space: Any | None = None,
                 reader: str = "auto"):
        super().__init__(action_space, reader)
        self.frames_per_second = float(frames_per_second)
        self.min_frames = int(min_frames)

    @classmethod
    def from_spec(cls, arg: str | None, seed: int = 0, action_space: Any | None = None) -> "OracleAgent":
        """observe and listen exactly at the gold evidence spans; oracle[:F][,min_frames=N][,reader=R]

        F frames per second of span (default 2). The env needs ``privileged_info=True``.
        """
        positional, options = parse_args(arg)
        unknown = set(options) - {"min_frames", "reader"}
        if unknown or len(positional) > 1:
            raise ValueError(f"oracle takes [FPS][,min_frames=N][,reader=R], got {arg!r}")
        return cls(float(positional[0]) if positional else 2.0, int(options.get("min_frames", 4)),
                   action_space=action_space, reader=options.get("reader", "auto"))

    def plan(self, info: dict[str, Any]) -> list[ToolCall]:
        if "evidence_spans" not in info:
            raise ValueError("the oracle agent needs the env made with privileged_info=True "
                             "(reset info has no 'evidence_spans')")
        durations = [float(d) for d in info["action_context"]["durations"]]
        has_audio = info["action_context"].get("has_audio") or [True] * len(durations)
        spans = []
        for s in info["evidence_spans"]:
            video, start, end = int(s["video"]), float(s["start"]), float(s["end"])
            if not 1 <= video <= len(durations):
                continue
            end = min(end, durations[video - 1])
            if end - start < 0.5:  # a point in time: look at half a second around it
                start, end = max(0.0, start - 0.25), min(durations[video - 1], max(start, 0.0) + 0.25)
            if end > start:
                spans.append((video, start, end))
        frames = [max(self.min_frames, math.ceil(self.frames_per_second * (e - s))) for _, s, e in spans]
        frames = [min(f, self.limits.max_frames_per_target * self.limits.max_targets) for f in frames]
        frames = fit_budget(frames, self.limits.frame_budget)
        targets = []
        for (v, s, e), n in zip(spans, frames):
            # Widen by about half a frame interval each side: the first and last frames fall just
            # inside the span's ends, so the records' times cover the span (intervals are read off
            # them). The small margin keeps rounding from pushing an edge frame outside.
            step = (e - s) / (n - 1) if n > 1 else 0.0
            pad = max(0.0, step / 2 - min(0.02, step / 10))
            targets += split_window(v, round(max(0.0, s - pad), 3), round(min(durations[v - 1], e + pad), 3), n,
                                    self.limits)
        calls = pack_targets(targets, self.limits)
        calls += [ToolCall.listen(v, s, e) for v, s, e in spans if has_audio[v - 1]]
        return calls
