"""The perceiver interface: the one thing that differs between the simulator and the real env.

The env owns the episode (parsing, budgets, sampling of frame times, costs, rewards, text); a
perceiver only answers "what is visible at these times" and "what is heard in this window".
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from cvr_gym.core.evidence import Evidence
from cvr_gym.core.suites import Suite
from cvr_gym.core.tasks import Task
from cvr_gym.perception.base import PerceptionError

__all__ = ["PerceptionError", "Perceiver"]


@runtime_checkable
class Perceiver(Protocol):
    """Answers tool calls for one task at a time.

    ``load_task`` runs at ``reset`` and must raise a clear error naming the file when a task's
    media is missing or unreadable; ``observe``/``listen`` return :class:`Evidence` records and
    raise :class:`PerceptionError` on a failed call.
    """

    name: str

    def load_task(self, task: Task, suite: Suite) -> None: ...

    def observe(self, task: Task, video: int, times: np.ndarray, focus: str,
                rng: np.random.Generator) -> list[Evidence]: ...

    def listen(self, task: Task, video: int, start: float, end: float, focus: str,
               rng: np.random.Generator) -> list[Evidence]: ...

    def close(self) -> None: ...
