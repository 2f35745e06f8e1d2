"""``single-pass``: look at everything once, uniformly, then answer."""

from __future__ import annotations

from typing import Any

from baselines.planned import PlannedAgent, fit_budget, pack_targets, split_window
from cvr_gym.core.actions import ToolCall
from cvr_gym.evaluation.registry import parse_args


class SinglePassAgent(PlannedAgent):
    """Observe every video uniformly over its full length, listen to every audio track, answer.

    Step 1 is one ``observe`` call with one target per video (``frames_per_video`` frames each,
    neutral focus); then one ``listen`` per video with audio over its full length; then the answer
    reader runs on all gathered evidence. This is the "uniform sampling" baseline of video QA.

    When ``frames_per_video`` exceeds the env's per-target limit a video's window is split into
    equal sub-windows (same frame times); when the targets exceed the per-call limit they spill
    into further observe calls; when the frames of all videos exceed the frame budget every video
    gets an equal share of the budget.

    Arguments:
        frames_per_video: frames sampled per video (default 32).
        listen: whether to listen to the audio tracks (default True).
        action_space: the env's action space (for per-call limits).
        reader: answer reader, ``"auto"``, ``"family"`` or ``"generic"`` (see :mod:`cvr_gym.data.readers`).
    """

    def __init__(self, frames_per_video: int = 32, listen: bool = True, action_space: Any | None = None,
                 reader: str = "auto"):
        super().__init__(action_space, reader)
        if frames_per_video < 1:
            raise ValueError("frames_per_video must be at least 1")
        self.frames_per_video = int(frames_per_video)
        self.listen = bool(listen)
        self.name = f"single-pass:{self.frames_per_video}"

    @classmethod
    def from_spec(cls, arg: str | None, seed: int = 0, action_space: Any | None = None) -> "SinglePassAgent":
        """observe every video uniformly, listen to all, answer; single-pass[:N][,listen=no][,reader=R]

        N frames per video, default 32.
        """
        positional, options = parse_args(arg)
        unknown = set(options) - {"listen", "reader"}
        if unknown or len(positional) > 1:
            raise ValueError(f"single-pass takes [FRAMES][,listen=yes|no][,reader=R], got {arg!r}")
        return cls(int(positional[0]) if positional else 32,
                   listen=options.get("listen", "yes").lower() not in ("no", "false", "0"),
                   action_space=action_space, reader=options.get("reader", "auto"))

    def plan(self, info: dict[str, Any]) -> list[ToolCall]:
        durations = [float(d) for d in info["action_context"]["durations"]]
        has_audio = info["action_context"].get("has_audio") or [True] * len(durations)
        frames = fit_budget([self.frames_per_video] * len(durations), self.limits.frame_budget)
        targets = [t for v, (d, n) in enumerate(zip(durations, frames), start=1)
                   for t in split_window(v, 0.0, d, n, self.limits)]
        calls = pack_targets(targets, self.limits)
        if self.listen:
            calls += [ToolCall.listen(v, 0.0, d) for v, (d, a) in enumerate(zip(durations, has_audio), start=1) if a]
        return calls
