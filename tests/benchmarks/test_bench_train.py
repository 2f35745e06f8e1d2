"""Training speed: wrapped-env rollouts and GRPO updates on one core. Run with --benchmark-only.

- ``test_bench_wrapped_episode``: one episode of ``VectorObservation(DiscreteActions(CVRSim-v0))``
  driven by a masked random policy (episodes per second = 1 / mean).
- ``test_bench_policy_rollouts``: 64 episodes played by an untrained ``MLPPolicy`` through the
  trainer's vector env (8 envs, batched policy calls).
- ``test_bench_search_policy_rollouts``: the same 64 episodes through the search wrappers
  (``GRPOConfig(wrappers="search")``: coverage / match-heat features and relative zoom moves), to
  compare with ``test_bench_policy_rollouts`` from the same run.
- ``test_bench_grpo_update``: one GRPO update (8 tasks x 8 rollouts, collection + 2 optimiser
  passes) with the default ``MLPPolicy`` (256, 256).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import cvr_gym  # noqa: F401
from cvr_gym.core.suites import bundled_suites
from cvr_gym.train.config import GRPOConfig
from cvr_gym.train.grpo import GRPOTrainer
from cvr_gym.train.rollout import run_episodes
from cvr_gym.wrappers import wrap_env

CATALOGUE = {"scales": (1, 2), "frame_counts": (8, 16, 32, 64), "num_choices": 0}


def _suite(mini_suite_path) -> tuple[str, str | None]:
    if "default" in bundled_suites():
        return "default", "train"
    return str(mini_suite_path), None


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_bench_wrapped_episode(benchmark, mini_suite_path):
    suite, split = _suite(mini_suite_path)
    env = wrap_env(gym.make("CVRSim-v0", suite=suite, split=split, disable_env_checker=True), **CATALOGUE)
    rng = np.random.default_rng(0)
    env.reset(seed=0)

    def episode():
        env.reset()
        done = False
        while not done:
            *_, term, trunc, _ = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
            done = term or trunc

    benchmark.pedantic(episode, rounds=300, iterations=1, warmup_rounds=10)


def _trainer(mini_suite_path, tmp_path, wrappers: str = "classic") -> GRPOTrainer:
    suite, split = _suite(mini_suite_path)
    cfg = GRPOConfig(suite=suite, split=split, eval_split=None, group_size=8, tasks_per_update=8, num_envs=8,
                     catalogue=CATALOGUE if wrappers == "classic" else {}, log_dir=str(tmp_path), checkpoint_every=0,
                     scale_advantages=False, wrappers=wrappers)
    return GRPOTrainer(cfg)


def test_bench_policy_rollouts(benchmark, mini_suite_path, tmp_path):
    trainer = _trainer(mini_suite_path, tmp_path)
    gen = torch.Generator().manual_seed(0)
    options = [{"task_index": i % trainer.n_tasks, "group_id": f"b{i}"} for i in range(64)]
    benchmark.pedantic(run_episodes, args=(trainer.envs, trainer.policy, options, gen), rounds=5, iterations=1,
                       warmup_rounds=1)
    trainer.close()


def test_bench_search_policy_rollouts(benchmark, mini_suite_path, tmp_path):
    trainer = _trainer(mini_suite_path, tmp_path, wrappers="search")
    gen = torch.Generator().manual_seed(0)
    options = [{"task_index": i % trainer.n_tasks, "group_id": f"b{i}"} for i in range(64)]
    benchmark.pedantic(run_episodes, args=(trainer.envs, trainer.policy, options, gen), rounds=5, iterations=1,
                       warmup_rounds=1)
    trainer.close()


def test_bench_grpo_update(benchmark, mini_suite_path, tmp_path):
    trainer = _trainer(mini_suite_path, tmp_path)
    benchmark.pedantic(trainer.update, rounds=5, iterations=1, warmup_rounds=1)
    trainer.close()
