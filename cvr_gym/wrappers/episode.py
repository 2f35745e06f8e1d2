"""What an agent knows about the current episode, rebuilt from the env's observations and infos.

:class:`EpisodeState` is fed ``(obs, info)`` at reset and after every step. It needs only what
every :class:`~cvr_gym.envs.cvr_env.CVREnv` reports (``info["task"]`` and ``info["limits"]`` at
reset, ``info["totals"]``, ``info["tool_calls"]``, ``info["evidence"]``), so the same code serves
the env wrappers and agents that talk to the env directly (see ``baselines/checkpoint_agent.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cvr_gym.core.limits import Limits
from cvr_gym.core.view import TaskView


def _get(ev: Any, key: str, default: Any = None) -> Any:
    return ev.get(key, default) if isinstance(ev, dict) else getattr(ev, key, default)


@dataclass
class EpisodeState:
    """The task, the limits and everything gathered so far in one episode.

    ``view`` is the question side of the task and ``limits`` the episode's budget (both from the
    reset info); ``evidence`` holds each distinct (video, kind, content) record once, in the order
    it was first returned; ``all_evidence`` holds every record returned (with repeats), for readers
    that need every sighting; ``taken`` the catalogue indices already chosen.
    """

    view: TaskView = field(default_factory=lambda: TaskView(""))
    limits: Limits = field(default_factory=Limits)
    steps: int = 0
    frames: int = 0
    audio_seconds: float = 0.0
    invalid_actions: int = 0
    evidence: list[Any] = field(default_factory=list)
    all_evidence: list[Any] = field(default_factory=list)
    tool_calls: list[dict] = field(default_factory=list)
    taken: set[int] = field(default_factory=set)
    last_new_evidence: int = 0

    # The view's and the limits' fields, read directly off the state.
    question = property(lambda self: self.view.question)
    options = property(lambda self: list(self.view.options))
    answer_type = property(lambda self: self.view.answer_type)
    answer_video = property(lambda self: self.view.answer_video)
    family = property(lambda self: self.view.family or "")
    durations = property(lambda self: list(self.view.durations))
    has_audio = property(lambda self: list(self.view.has_audio))
    num_videos = property(lambda self: self.view.num_videos)
    num_options = property(lambda self: len(self.view.options))
    max_steps = property(lambda self: self.limits.max_steps)
    frame_budget = property(lambda self: self.limits.frame_budget)

    @property
    def frames_left(self) -> int:
        return max(0, self.frame_budget - self.frames)

    @property
    def steps_left(self) -> int:
        return max(0, self.max_steps - self.steps)

    @classmethod
    def from_reset(cls, obs: Any, info: dict) -> "EpisodeState":
        state = cls()
        state.reset(obs, info)
        return state

    def reset(self, obs: Any, info: dict) -> None:
        if info.get("task") is None:
            raise KeyError("the reset info has no 'task': the env must be a CVREnv (or report the same info)")
        self.view = TaskView.from_info(info)
        self.limits = Limits.from_info(info)
        self.steps = self.frames = self.invalid_actions = self.last_new_evidence = 0
        self.audio_seconds = 0.0
        self.evidence = []
        self.all_evidence = []
        self.tool_calls = []
        self.taken = set()
        self._seen: set[tuple] = set()
        self._absorb_totals(info)

    def update(self, obs: Any, info: dict, action_index: int | None = None) -> None:
        """Take in one step's info (and the catalogue index that caused it, if any)."""
        if action_index is not None:
            self.taken.add(int(action_index))
        self._absorb_totals(info)
        self.tool_calls.extend(info.get("tool_calls") or ())
        new = 0
        for ev in info.get("evidence") or ():
            self.all_evidence.append(ev)
            key = (_get(ev, "video"), _get(ev, "kind"), _get(ev, "content"))
            if key not in self._seen:
                self._seen.add(key)
                self.evidence.append(ev)
                new += 1
        self.last_new_evidence = new

    def _absorb_totals(self, info: dict) -> None:
        totals = info.get("totals")
        if totals:
            self.steps = int(totals.get("steps", self.steps))
            self.frames = int(totals.get("frames", self.frames))
            self.audio_seconds = float(totals.get("audio_seconds", self.audio_seconds))
            self.invalid_actions = int(totals.get("invalid_actions", self.invalid_actions))
