"""``preset="agentcvr"`` / ``preset="eva"``: the upstream limits and prompt layouts in one argument."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

import cvr_gym  # noqa: F401  (registers the envs)
from cvr_gym.core.presets import PRESETS, fit_visual_tokens
from cvr_gym.core.tasks import Task


def _task():
    videos = [{"index": i, "duration": 120.5, "script": [{"start": 0, "end": 100, "kind": "visual", "content": f"v{i}"}]}
              for i in (1, 2, 3, 4, 5)]
    return Task(id="p", family="PSS", question="Put the segments in order.", options=["s1", "s2", "s3", "s4", "s5"],
                answer_type="order", answer=["B", "D", "C", "A", "E"], videos=videos)


def test_agentcvr_preset_limits_prompt_and_answer():
    env = gym.make("CVRSim-v0", preset="agentcvr", tasks=[_task()])
    obs, info = env.reset(seed=0)
    unwrapped = env.unwrapped
    assert (unwrapped.max_steps, unwrapped.max_frames_per_call) == (20, 128)
    payload = json.loads(obs)  # the executor's user payload (agent_executor.py run_agent_loop)
    assert payload["query"] == "Put the segments in order."
    assert payload["videos"][0] == {"video_index": 1, "duration_seconds": 120.5}
    assert payload["possible_answers"][0] == "A. s1"
    _, _, _, _, info = env.step('{"action": "observe", "thought": "t", "params": {"observation_targets": ['
                                '{"video_index": 1, "num_frames": 64}, {"video_index": 2, "num_frames": 65}]}}')
    assert "at most 128 per call" in info["parse_error"]
    *_, info = env.step('{"action": "answer", "thought": "done", "final_answer": "2->4->3->1->5"}')
    assert info["score"] == 1.0


def test_agentcvr_preset_runs_five_segment_videos_and_20_turns():
    env = gym.make("CVRSim-v0", preset="agentcvr", tasks=[_task()])
    env.reset(seed=0)
    for turn in range(20):
        _, _, terminated, truncated, info = env.step({"action": "get_caption", "params": {"video_index": 5}})
        assert info["parse_error"] is None
    assert truncated and info["termination_reason"] == "max_steps"


def test_eva_preset_prompt_turns_and_token_cap():
    task = Task(id="e", family="NC", question="What happens?", options=["a", "b", "c"], answer_type="single",
                answer="C", videos=[{"index": 1, "duration": 120.5}])
    env = gym.make("CVRSim-v0", preset="eva", tasks=[task])
    obs, _ = env.reset(seed=0)
    assert obs.startswith("Video Length: 120 seconds. What happens?")  # int(max(120.5 - 0.5, 1)), eval-eva.py
    assert env.unwrapped.max_steps == 6
    _, _, _, _, info = env.step('<tool_call>{"tool": "frame_select", "arguments": {"start_time": "00:00", '
                                '"end_time": "01:40", "nframes": 128, "resize": 1.0}}</tool_call>')
    cost = info["call_costs"][0]
    assert cost["visual_tokens"] <= 12_000 and cost["frames"] < 128
    assert obs.endswith("C. c")
    *_, info = env.step("<answer>C</answer>")
    assert info["score"] == 1.0


def test_explicit_arguments_win_over_the_preset():
    env = gym.make("CVRSim-v0", preset="agentcvr", tasks=[_task()], max_steps=5)
    assert env.unwrapped.max_steps == 5
    with pytest.raises(ValueError, match="unknown preset"):
        gym.make("CVRSim-v0", preset="nope", tasks=[_task()])


def test_eva_fallback_arithmetic():
    # 128 frames x 256 tokens = 32768 > 12000: r = (12000 / 32768) ** (1/3) = 0.71541
    frames, resize = fit_visual_tokens(128, 1.0, 256, 12_000)
    assert (frames, round(resize, 4)) == (91, 0.7154)
    assert fit_visual_tokens(8, 0.5, 256, 12_000) == (8, 0.5)


def test_presets_name_their_sources():
    for preset in PRESETS.values():
        assert preset.sources and preset.env_kwargs


def test_agentcvr_prompt_gives_frame_folders_as_frame_counts():
    from cvr_gym.core.presets import agentcvr_prompt

    task = Task(id="m", family="MOC", question="How many cars?", options=["1", "2"], answer_type="single",
                answer="A", videos=[{"index": 1, "duration": 2.0, "fps": 30, "path": "uav/frames/1/7-1"},
                                    {"index": 2, "duration": 2.0, "fps": 30, "path": "v.mp4"}])
    assert json.loads(agentcvr_prompt(task))["videos"] == [{"video_index": 1, "total_frames": 60},
                                                           {"video_index": 2, "duration_seconds": 2.0}]
