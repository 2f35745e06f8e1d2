"""Simulator speed: step with a JSON-string action, reset. Run with --benchmark-only.

Targets (issue 2): median step >= 20,000 steps/s on one core (<= 50 us), reset <= 100 us.
"""

import gymnasium as gym
import pytest

import cvr_gym  # noqa: F401
from cvr_gym.core.suites import bundled_suites

OBSERVE_JSON = ('{"name": "observe", "arguments": {"targets": [{"video": 1, "start": 0, "end": 60, '
                '"num_frames": 8}], "focus": "car"}}')
TAGGED = "I will scan first.\n<tool_call>" + OBSERVE_JSON + "</tool_call>"


def _env(mini_suite_path):
    if "default" in bundled_suites():
        return gym.make("CVRSim-v0", suite="default", split="test", disable_env_checker=True).unwrapped
    return gym.make("CVRSim-v0", suite=str(mini_suite_path), split=None, disable_env_checker=True).unwrapped


@pytest.mark.parametrize("action", [OBSERVE_JSON, TAGGED], ids=["json", "tool_call_tag"])
def test_bench_step(benchmark, mini_suite_path, action):
    env = _env(mini_suite_path)
    env.reset(seed=0)
    env.max_steps = env.frame_budget = 10**9  # keep one episode running so only step() is timed

    benchmark.pedantic(env.step, args=(action,), rounds=20_000, iterations=1, warmup_rounds=200)


def test_bench_listen_step(benchmark, mini_suite_path):
    env = _env(mini_suite_path)
    env.reset(seed=0)
    env.max_steps = env.frame_budget = 10**9
    action = '{"name": "listen", "arguments": {"video": 1, "start": 0, "end": 30}}'
    benchmark.pedantic(env.step, args=(action,), rounds=20_000, iterations=1, warmup_rounds=200)


def test_bench_reset(benchmark, mini_suite_path):
    env = _env(mini_suite_path)
    env.reset(seed=0)
    benchmark.pedantic(env.reset, rounds=20_000, iterations=1, warmup_rounds=200)
