"""One env instance must add less than 5 MB beyond the suite it shares with other instances."""

import gc
import tracemalloc

import gymnasium as gym

import cvr_gym
from cvr_gym import ToolCall
from cvr_gym.core.suites import bundled_suites


def test_env_instance_memory(mini_suite_path):
    suite = cvr_gym.load_suite("default", split="train") if "default" in bundled_suites() \
        else cvr_gym.load_suite(mini_suite_path)
    gym.make("CVRSim-v0", suite=suite, disable_env_checker=True)  # warm caches and imports
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    envs = []
    for _ in range(5):
        env = gym.make("CVRSim-v0", suite=suite, disable_env_checker=True)
        obs, info = env.reset(seed=0)
        for _ in range(5):
            env.step(ToolCall.observe(1, 0, 10, 8))
        envs.append(env)
    gc.collect()
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    per_env_mb = grown / len(envs) / 2**20
    assert per_env_mb < 5, f"{per_env_mb:.2f} MB per env"
