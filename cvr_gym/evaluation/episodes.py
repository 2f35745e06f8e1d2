"""Which task and which seeds each evaluation episode uses, derived from one seed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EpisodeSpec:
    """One planned episode.

    Arguments:
        index: the episode's position in the run (0-based).
        task_id: the task it plays.
        family: the task's family.
        seed: the run's seed.
        env_seed: the seed passed to ``env.reset`` (perception noise stream).
        agent_seed: the seed passed to ``agent.reset`` (the agent's randomness).
    """

    index: int
    task_id: str
    family: str
    seed: int
    env_seed: int
    agent_seed: int

    @property
    def key(self) -> tuple[int, str, int]:
        """What identifies the episode in a results file: (index, task id, seed)."""
        return (self.index, self.task_id, self.seed)


def plan_episodes(tasks: Sequence[tuple[str, str]], episodes: int, seed: int) -> list[EpisodeSpec]:
    """Plan ``episodes`` episodes over ``tasks`` (``(task_id, family)`` pairs) from ``seed``.

    Tasks are visited in a seeded random order; past the end of the list a new seeded order
    starts (every task is played once per pass). Episode ``i``'s seeds depend only on ``seed`` and
    ``i``, so a run's episodes are the same however they are scheduled (sequentially, in a vector
    env, resumed).
    """
    if not tasks:
        raise ValueError("no tasks to plan episodes over")
    if episodes < 0:
        raise ValueError("episodes must be non-negative")
    n = len(tasks)
    out: list[EpisodeSpec] = []
    order: np.ndarray | None = None
    for i in range(episodes):
        if i % n == 0:
            order = np.random.default_rng([seed, i // n]).permutation(n)
        task_id, family = tasks[int(order[i % n])]
        env_seed, agent_seed = (int(x) for x in np.random.SeedSequence([seed, i]).generate_state(2))
        out.append(EpisodeSpec(i, task_id, family, seed, env_seed, agent_seed))
    return out
