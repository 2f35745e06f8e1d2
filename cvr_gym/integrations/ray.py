"""Ray workers for whole-episode jobs: ``cvr-gym compare --ray`` compares tasks on a Ray cluster.

Each worker is a Ray actor holding a :class:`~cvr_gym.evaluation.compare.TaskComparer` (the
simulator, the real env with its perception models, the shadow simulator and the agent), built
once; Ray's ``ActorPool`` hands it one task at a time and returns the results in task order.
A comparison is a whole episode pair, so Ray's own fault tolerance is enough: a worker that dies
is restarted (``max_restarts``) and the task it was running is sent again (``max_task_retries``).
Episodes are seeded per task, so results do not depend on which worker played them.

Step-level scale-out (eval, GRPO rollouts) is :mod:`cvr_gym.envs.ray_vector`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from cvr_gym.evaluation.compare import CompareConfig, TaskComparer
from cvr_gym.envs.ray_vector import init_ray


class CompareWorker:
    """A Ray actor comparing tasks with its own envs and agent (see the module's notes)."""

    def __init__(self, config: CompareConfig):
        self.comparer = TaskComparer(config)

    def compare(self, task_id: str) -> dict[str, Any]:
        return self.comparer.compare(task_id)

    def pid(self) -> int:
        return os.getpid()


def ray_map_tasks(address: str | None = None, workers: int = 2, max_restarts: int = 3,
                  actor_options: dict[str, Any] | None = None
                  ) -> Callable[[CompareConfig, list[str]], Iterator[dict[str, Any]]]:
    """A ``map_tasks`` for :func:`~cvr_gym.evaluation.compare.run_comparison` running on ``workers`` actors."""

    def map_tasks(config: CompareConfig, task_ids: list[str]) -> Iterator[dict[str, Any]]:
        import ray
        from ray.util import ActorPool

        if not task_ids:
            return
        n = max(1, min(int(workers), len(task_ids)))
        init_ray(address, num_cpus=max(n, os.cpu_count() or 1))
        options = {"num_cpus": 1, **(actor_options or {}), "max_restarts": max_restarts,
                   "max_task_retries": max_restarts}
        actors = [ray.remote(CompareWorker).options(**options).remote(config) for _ in range(n)]
        try:
            yield from ActorPool(actors).map(lambda actor, task_id: actor.compare.remote(task_id), task_ids)
        finally:
            for actor in actors:
                ray.kill(actor, no_restart=True)

    return map_tasks
