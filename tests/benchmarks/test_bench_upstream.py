"""Step time for actions written the way AgentCVR and EVA write them, against the canonical
JSON form in the same run. Run with --benchmark-only; compare the medians as ratios."""

import gymnasium as gym
import pytest

import cvr_gym  # noqa: F401
from cvr_gym.core.suites import bundled_suites

CANONICAL = ('{"name": "observe", "arguments": {"targets": [{"video": 1, "start": 0, "end": 60, '
             '"num_frames": 8}], "focus": "car"}}')
AGENTCVR = ('```json\n{\n  "action": "observe",\n  "thought": "Compare both views; truck ID#1.",\n  "params": {\n'
            '    "observation_targets": [\n      {"video_index": 1, "start_time": 0, "end_time": 60, "num_frames": 8}, '
            '# View A\n      {"video_index": 2}  // whole clip\n    ],\n    "focus_prompt": "car"\n  }\n}\n```')
EVA = ('<think>scan</think><tool_call>{"tool": "frame_select", "arguments": {"start_time": "00:00", '
       '"end_time": "01:00", "nframes": 8, "resize": 0.5}}\n{"tool": "frame_select", "parameters": '
       '{"start_time": 0, "end_time": 30, "nframes": 4}}</tool_call>')


@pytest.mark.parametrize("action", [CANONICAL, AGENTCVR, EVA], ids=["canonical", "agentcvr_commented", "eva_two_calls"])
def test_bench_upstream_step(benchmark, mini_suite_path, action):
    suite = "default" if "default" in bundled_suites() else str(mini_suite_path)
    env = gym.make("CVRSim-v0", suite=suite, split="test" if suite == "default" else None,
                   disable_env_checker=True).unwrapped
    env.reset(seed=0)
    env.max_steps = env.frame_budget = 10**9
    _, _, _, _, info = env.step(action)
    assert info["parse_error"] is None
    benchmark.pedantic(env.step, args=(action,), rounds=5_000, iterations=1, warmup_rounds=100)
