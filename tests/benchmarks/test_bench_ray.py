"""Ray vector env: per-step overhead of a remote step, and the speed-up from 1 to 2 workers.

Run with ``--benchmark-only -k ray``. Figures to compare, all from the same run:

- ``overhead``: a ``CVRSim-v0`` step (microseconds of work) in ``SyncVectorEnv`` against the same
  step in ``RayVectorEnv`` with one actor; the difference is Ray's round trip per step.
- ``speedup``: ``CVRReal-v0`` steps (decoding and offline OCR of 8 frames, no result caches) with
  1 and 2 actors; each call steps every actor once, so the speed-up is ``2 * t(1) / t(2)``. OCR
  runs on one thread per actor (``ocr_threads=1``; the backend's default of 2 would have one actor
  use both cores of a 2-core machine already).
"""

from __future__ import annotations

import itertools
from functools import partial

import gymnasium as gym
import pytest

ray = pytest.importorskip("ray")

import cvr_gym  # noqa: E402,F401
from cvr_gym.core.actions import ToolCall  # noqa: E402
from cvr_gym.envs.ray_vector import RayVectorEnv, init_ray  # noqa: E402

ENDLESS = {"max_steps": 10**9, "frame_budget": 10**12}


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    init_ray("local", num_cpus=2)
    yield
    ray.shutdown()


@pytest.mark.benchmark(group="ray-overhead")
@pytest.mark.parametrize("kind", ["local", "ray"])
def test_bench_ray_step_overhead(benchmark, kind):
    make_sim = partial(gym.make, "CVRSim-v0", suite="default", split="test", disable_env_checker=True, **ENDLESS)
    venv = (gym.vector.SyncVectorEnv([make_sim]) if kind == "local" else RayVectorEnv([make_sim]))
    try:
        venv.reset(seed=0)
        action = (ToolCall.observe(video=1, start=0.0, end=30.0, num_frames=8),)
        benchmark.pedantic(venv.step, args=(action,), rounds=2000, iterations=1, warmup_rounds=50)
    finally:
        venv.close()


@pytest.mark.benchmark(group="ray-speedup")
@pytest.mark.parametrize("workers", [1, 2])
def test_bench_ray_real_speedup(benchmark, workers):
    make_real = partial(gym.make, "CVRReal-v0", suite="corpus", split="test", disable_env_checker=True,
                        visual_options={"ocr_threads": 1},
                        perceiver_options={"cache": "private", "cache_size": 0, "frame_cache_mb": 0}, **ENDLESS)
    venv = RayVectorEnv([make_real] * workers)
    try:
        venv.reset(seed=[0] * workers, options={"task_index": 0})
        starts = itertools.count()

        def batch():  # a new window every call: nothing is served from a cache
            s = (next(starts) * 1.7) % 20.0
            return ((ToolCall.observe(video=1, start=s, end=s + 8.0, num_frames=8),) * workers,), {}

        benchmark.pedantic(venv.step, setup=batch, rounds=12, iterations=1, warmup_rounds=2)
        benchmark.extra_info["env_steps_per_call"] = workers
    finally:
        venv.close()


class _RemoteModelLatency(gym.Wrapper):
    """Each step waits ``seconds`` first, as a step does whose perception runs on a model server
    (``openai:URL`` backends): the worker waits, it does not compute."""

    def __init__(self, env: gym.Env, seconds: float):
        super().__init__(env)
        self.seconds = seconds

    def step(self, action):
        import time

        time.sleep(self.seconds)
        return self.env.step(action)


def _sim_with_latency(seconds: float) -> gym.Env:
    return _RemoteModelLatency(gym.make("CVRSim-v0", disable_env_checker=True, **ENDLESS), seconds)


@pytest.mark.benchmark(group="ray-speedup-waiting")
@pytest.mark.parametrize("workers", [1, 2])
def test_bench_ray_waiting_speedup(benchmark, workers):
    """Speed-up when a step waits on a model server (0.2 s) rather than computing: ``2 * t(1) / t(2)``."""
    import sys

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/
    venv = RayVectorEnv([partial(_sim_with_latency, 0.2)] * workers)
    try:
        venv.reset(seed=0)
        action = (ToolCall.observe(video=1, start=0.0, end=30.0, num_frames=8),) * workers
        benchmark.pedantic(venv.step, args=(action,), rounds=10, iterations=1, warmup_rounds=1)
    finally:
        venv.close()
