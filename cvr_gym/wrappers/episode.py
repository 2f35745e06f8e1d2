"""What an agent knows about the current episode, rebuilt from the env's observations and infos.

:class:`EpisodeState` is fed ``(obs, info)`` at reset and after every step. It needs only what
every :class:`~cvr_gym.envs.cvr_env.CVREnv` reports (``info["task"]`` at reset, the budget in the
prompt, ``info["totals"]``, ``info["tool_calls"]``, ``info["evidence"]``), so the same code serves
the env wrappers and agents that talk to the env directly (see ``baselines/checkpoint_agent.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_BUDGET = re.compile(r"Budget:\s*(\d+)\s*steps?,\s*(\d+)\s*frames?")
DEFAULT_MAX_STEPS = 12
DEFAULT_FRAME_BUDGET = 256


def _get(ev: Any, key: str, default: Any = None) -> Any:
    return ev.get(key, default) if isinstance(ev, dict) else getattr(ev, key, default)


@dataclass
class EpisodeState:
    """The task, the budget and everything gathered so far in one episode.

    ``evidence`` holds each distinct (video, kind, content) record once, in the order it was
    first returned; ``all_evidence`` holds every record returned (with repeats), for readers that
    need every sighting; ``taken`` the catalogue indices already chosen.
    """

    question: str = ""
    options: list[str] = field(default_factory=list)
    answer_type: str = "single"
    answer_video: int | None = None
    family: str = ""
    durations: list[float] = field(default_factory=list)
    has_audio: list[bool] = field(default_factory=list)
    max_steps: int = DEFAULT_MAX_STEPS
    frame_budget: int = DEFAULT_FRAME_BUDGET
    steps: int = 0
    frames: int = 0
    audio_seconds: float = 0.0
    invalid_actions: int = 0
    evidence: list[Any] = field(default_factory=list)
    all_evidence: list[Any] = field(default_factory=list)
    tool_calls: list[dict] = field(default_factory=list)
    taken: set[int] = field(default_factory=set)
    last_new_evidence: int = 0
    task_info: dict = field(default_factory=dict)
    reset_info: dict = field(default_factory=dict)

    @property
    def num_videos(self) -> int:
        return len(self.durations)

    @property
    def num_options(self) -> int:
        return len(self.options)

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
        task = info.get("task")
        if task is None:
            raise KeyError("the reset info has no 'task': the env must be a CVREnv (or report the same info)")
        self.task_info = task
        self.reset_info = {k: info.get(k) for k in ("task", "family", "task_id", "action_context")}
        self.question = str(task.get("question", ""))
        self.options = [str(o) for o in task.get("options", ())]
        self.answer_type = str(task.get("answer_type", "single"))
        self.answer_video = task.get("answer_video")
        self.family = str(info.get("family", ""))
        videos = task.get("videos", ())
        self.durations = [float(v["duration"]) for v in videos]
        self.has_audio = [bool(v.get("has_audio", True)) for v in videos]
        m = _BUDGET.search(obs) if isinstance(obs, str) else None
        self.max_steps = int(m.group(1)) if m else DEFAULT_MAX_STEPS
        self.frame_budget = int(m.group(2)) if m else DEFAULT_FRAME_BUDGET
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
