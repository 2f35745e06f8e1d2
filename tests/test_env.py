"""CVRSim-v0: Gymnasium conformance, episode rules, rewards, reproducibility, fuzzed steps."""

import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cvr_gym
from cvr_gym import ToolCall
from cvr_gym.envs import CVREnv, PerceptionNoise


def make(path, **kw):
    return gym.make("CVRSim-v0", suite=str(path), split=None, disable_env_checker=True, **kw)


def test_check_env_passes(mini_suite_path):
    env = gym.make("CVRSim-v0", suite=str(mini_suite_path), split=None)
    check_env(env.unwrapped, skip_render_check=False)


def test_make_with_module_prefix(mini_suite_path):
    env = gym.make("cvr_gym:CVRSim-v0", suite=str(mini_suite_path), split=None)
    assert isinstance(env.unwrapped, CVREnv)


def test_prompt_lists_question_options_and_videos(sim_env):
    obs, info = sim_env.reset(options={"task_id": "car-colour"})
    assert "Which colour is the car" in obs and "(B) blue" in obs
    assert "Video 1: 60.0 s" in obs and "Video 2: 40.0 s, 30 fps, no audio" in obs
    assert info["task_id"] == "car-colour" and info["family"] == "BU"
    assert sim_env.observation_space.contains(obs)


def test_observe_samples_frames_so_sparse_scans_miss_short_events(sim_env):
    sim_env.reset(options={"task_id": "car-colour"})
    # 2 frames over 0-60 s sit at 15 s and 45 s: the blue car at 30-32 s is missed
    obs, *_ , info = sim_env.step(ToolCall.observe(1, 0, 60, 2))
    assert "blue car" not in obs and "street" in obs
    obs, *_, info = sim_env.step(ToolCall.observe(1, 28, 34, 6, focus="car"))
    assert "blue car" in obs
    assert info["evidence"][0].content == "blue car"
    assert info["call_costs"] == [{"tool": "observe", "frames": 6, "visual_tokens": 6 * 256,
                                   "audio_seconds": 0.0, "latency_s": pytest.approx(0.5 + 6 * 0.05)}]
    assert info["totals"]["frames"] == 8


def test_listen_returns_overlapping_speech_and_sounds(sim_env):
    sim_env.reset(options={"task_id": "car-colour"})
    obs, *_, info = sim_env.step(ToolCall.listen(1, 12, 52))
    assert "look at that car" in obs and "car horn" in obs
    assert info["call_costs"][0]["audio_seconds"] == 40
    obs, *_ = sim_env.step(ToolCall.listen(2, 0, 10))
    assert "no audio track" in obs


def test_non_ascii_observation_is_in_space(sim_env):
    sim_env.reset(options={"task_id": "car-colour"})
    obs, *_ = sim_env.step(ToolCall.observe(2, 20, 25, 4))
    assert "停车" in obs and sim_env.observation_space.contains(obs)


def test_out_of_range_video_and_window_get_messages(sim_env):
    sim_env.reset(options={"task_id": "car-colour"})
    obs, reward, term, trunc, info = sim_env.step(ToolCall.observe(3, 0, 10, 4))
    assert "there is no video 3" in obs and not term and not trunc
    obs, *_ = sim_env.step(ToolCall.observe(1, 50, 500, 4))
    assert "clamped to 50.0-60.0 s" in obs
    obs, *_ = sim_env.step(ToolCall.observe(1, 70, 80, 4))
    assert "starts after video 1 ends" in obs


def test_answer_terminates_with_score_and_components(sim_env):
    sim_env.reset(options={"task_id": "car-colour"})
    sim_env.step(ToolCall.observe(1, 28, 34, 8))  # 8 of 256 frames -> cost -0.1 * 8/256
    obs, reward, term, trunc, info = sim_env.step('<tool_call>{"name": "answer", "arguments": {"answer": "B"}}</tool_call>')
    assert term and not trunc and info["termination_reason"] == "answer" and info["score"] == 1.0
    assert reward == pytest.approx(1.0)
    assert info["episode_reward_components"]["cost"] == pytest.approx(-0.1 * 8 / 256)
    assert info["episode_reward_components"]["outcome"] == 1.0


def test_parallel_calls_run_in_order_and_answer_stops(sim_env):
    sim_env.reset(options={"task_id": "car-colour"})
    action = [ToolCall.observe(1, 28, 34, 4), ToolCall.answer("A"), ToolCall.observe(2, 0, 10, 4)]
    obs, reward, term, trunc, info = sim_env.step(action)
    assert term and info["score"] == 0.0 and "ignored" in obs
    assert info["totals"]["frames"] == 4


def test_invalid_action_feedback_penalty(sim_env):
    sim_env.reset(options={"task_id": "car-colour"})
    obs, reward, term, trunc, info = sim_env.step("let me think")
    assert not term and not trunc and "Invalid action" in obs
    assert reward == pytest.approx(-0.1) and info["reward_components"]["format"] == -0.1
    assert info["parse_error"] and info["totals"]["invalid_actions"] == 1


def test_invalid_action_terminate_policy(mini_suite_path):
    env = make(mini_suite_path, invalid_action="terminate")
    env.reset(options={"task_id": "car-colour"})
    *_, term, trunc, info = env.step("{broken")
    assert term and info["termination_reason"] == "invalid_action"


def test_invalid_action_retry_policy(mini_suite_path):
    env = make(mini_suite_path, invalid_action="retry", max_retries=1)
    env.reset(options={"task_id": "car-colour"})
    obs, reward, *_, info = env.step("oops")
    assert reward == 0.0 and info["step"] == 0 and "Retry allowed" in obs
    obs, reward, *_, info = env.step("oops again")
    assert reward == pytest.approx(-0.1) and info["step"] == 1


def test_step_limit_truncates(mini_suite_path):
    env = make(mini_suite_path, max_steps=2)
    env.reset(options={"task_id": "car-colour"})
    _, _, term, trunc, _ = env.step(ToolCall.listen(1, 0, 5))
    assert not trunc
    _, _, term, trunc, info = env.step(ToolCall.listen(1, 0, 5))
    assert trunc and not term and info["termination_reason"] == "max_steps"


def test_frame_budget_clips_then_truncates(mini_suite_path):
    env = make(mini_suite_path, frame_budget=10)
    env.reset(options={"task_id": "car-colour"})
    obs, _, _, trunc, info = env.step(ToolCall.observe(1, 0, 60, 16))
    assert "only 10 frames were left" in obs and info["totals"]["frames"] == 10 and not trunc
    assert "frame budget is spent" in obs
    _, _, term, trunc, info = env.step(ToolCall.listen(1, 0, 5))  # listening still allowed
    assert not trunc
    _, _, term, trunc, info = env.step(ToolCall.observe(1, 0, 60, 1))
    assert trunc and info["termination_reason"] == "frame_budget"


def test_step_after_end_raises(sim_env):
    sim_env.reset(options={"task_id": "car-colour"})
    sim_env.step(ToolCall.answer("B"))
    with pytest.raises(RuntimeError):
        sim_env.step(ToolCall.answer("B"))


def test_grounding_reward(mini_suite_path):
    env = make(mini_suite_path, reward={"grounding": 1.0, "cost": 0.0})
    env.reset(options={"task_id": "car-colour"})
    env.step(ToolCall.observe(1, 30, 32, 2))  # touches span 1 of 2
    *_, info = env.step(ToolCall.answer("B"))
    assert info["reward_components"]["grounding"] == pytest.approx(0.5)


def test_unknown_reward_weight_rejected(mini_suite_path):
    with pytest.raises(ValueError, match="unknown reward weights"):
        make(mini_suite_path, reward={"speed": 1.0})


def test_group_id_gives_identical_starts(mini_suite_path):
    env = make(mini_suite_path, perception_noise={"miss_prob": 0.5})
    a = env.reset(options={"group_id": "task-7/group-3"})
    step_a = env.step(ToolCall.observe(1, 0, 60, 32))[0]
    b = env.reset(seed=123, options={"group_id": "task-7/group-3"})
    step_b = env.step(ToolCall.observe(1, 0, 60, 32))[0]
    assert a[0] == b[0] and a[1]["task_id"] == b[1]["task_id"] and step_a == step_b


def _rollout(env, seed):
    obs, info = env.reset(seed=seed)
    trace = [obs]
    env.action_space.seed(seed)
    done = False
    while not done:
        obs, r, term, trunc, info = env.step(env.action_space.sample(mask=info["action_context"]))
        trace.append((obs, r))
        done = term or trunc
    return trace


def test_seeded_episodes_replay_identically(mini_suite_path):
    env = make(mini_suite_path, perception_noise=PerceptionNoise(miss_prob=0.3, confusion_prob=0.3))
    for seed in range(5):
        assert _rollout(env, seed) == _rollout(env, seed)


def test_perception_noise_is_off_by_default_and_changes_evidence(mini_suite_path):
    clean = make(mini_suite_path)
    noisy = make(mini_suite_path, perception_noise={"miss_prob": 1.0})
    clean.reset(options={"task_id": "car-colour"})
    noisy.reset(options={"task_id": "car-colour"})
    assert "blue car" in clean.step(ToolCall.observe(1, 28, 34, 6))[0]
    assert "blue car" not in noisy.step(ToolCall.observe(1, 28, 34, 6))[0]


def test_tools_and_system_prompt(sim_env):
    tools = sim_env.unwrapped.tools
    assert [t["function"]["name"] for t in tools] == ["observe", "listen", "answer"]
    json.dumps(tools)
    assert "<tool_call>" in sim_env.unwrapped.system_prompt


def test_render_ansi_transcript(mini_suite_path):
    env = make(mini_suite_path, render_mode="ansi")
    env.reset(options={"task_id": "car-colour"})
    env.step(ToolCall.observe(1, 28, 34, 6))
    text = env.render()
    assert "Question:" in text and "blue car" in text


def test_families_filter(mini_suite_path):
    env = make(mini_suite_path, families=["MOC"])
    for seed in range(5):
        assert env.reset(seed=seed)[1]["family"] == "MOC"
    with pytest.raises(ValueError):
        make(mini_suite_path, families=["XYZ"])


@pytest.mark.parametrize("vector_cls", [gym.vector.SyncVectorEnv, gym.vector.AsyncVectorEnv])
def test_vector_envs(mini_suite_path, vector_cls):
    fns = [lambda: gym.make("CVRSim-v0", suite=str(mini_suite_path), split=None) for _ in range(2)]
    venv = vector_cls(fns)
    try:
        obs, info = venv.reset(seed=0)
        assert len(obs) == 2
        actions = (ToolCall.observe(1, 0, 10, 4), ToolCall.answer("A"))
        obs, rewards, term, trunc, info = venv.step(actions)
        assert len(rewards) == 2 and bool(term[1])
    finally:
        venv.close()


fuzz_actions = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=50),
    st.none(), st.integers(), st.floats(),
    st.lists(st.text(max_size=30), max_size=3),
    st.dictionaries(st.text(max_size=10), st.text(max_size=10) | st.integers(), max_size=4),
    st.fixed_dictionaries({
        "name": st.sampled_from(["observe", "listen", "answer"]),
        "arguments": st.fixed_dictionaries({
            "video": st.integers(-2, 9), "start": st.floats(-10, 5000), "end": st.floats(-10, 5000),
            "num_frames": st.integers(-1, 300), "answer": st.text(max_size=10),
        }),
    }),
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(fuzz_actions, min_size=1, max_size=4), seed=st.integers(0, 10))
def test_fuzzed_steps_never_raise(sim_env, actions, seed):
    obs, info = sim_env.reset(seed=seed)
    for action in actions:
        obs, reward, term, trunc, info = sim_env.step(action)
        assert sim_env.observation_space.contains(obs)
        assert np.isfinite(reward)
        if term or trunc:
            break


def test_random_valid_actions_thousands_of_steps(mini_suite_path):
    env = make(mini_suite_path)
    obs, info = env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(3000):
        obs, r, term, trunc, info = env.step(env.action_space.sample(mask=info["action_context"]))
        assert env.observation_space.contains(obs)
        if term or trunc:
            obs, info = env.reset()


@pytest.mark.parametrize("action", [
    "[" * 20000,                                                   # json.loads would overflow the stack
    "x " + '{"a":' * 9000,
    '{"name": "answer", "arguments": {"answer": %s}}' % ("1" + "0" * 400),  # too large for a float
    '{"name": "answer", "arguments": {"answer": NaN}}',
    '{"name": "answer", "arguments": {"answer": "\\ud800"}}',          # lone surrogate
    '{"name": "observe", "arguments": {"targets": [{"video": 1, "start": 0, "end": 5}], "focus": "\\ud800"}}',
])
def test_hostile_actions_get_observations(sim_env, action):
    sim_env.reset(options={"task_id": "count-cups"})
    obs, reward, *_ = sim_env.step(action)
    assert sim_env.observation_space.contains(obs)
    obs.encode("utf-8")
    assert np.isfinite(reward)


def test_evidence_attributes_are_copies(sim_env):
    sim_env.reset(options={"task_id": "car-colour"})
    *_, info = sim_env.step(ToolCall.observe(1, 28, 34, 6))
    info["evidence"][0].attributes["tampered"] = True
    task = sim_env.unwrapped.task
    assert all("tampered" not in item.attributes for v in task.videos for item in v.script)


@pytest.mark.parametrize("options,error", [
    ([1], TypeError), ({"taskid": "x"}, ValueError), ({"task_index": 1.9}, TypeError),
    ({"task_index": True}, TypeError), ({"task_index": 99}, IndexError), ({"task_id": "nope"}, KeyError),
])
def test_bad_reset_options_are_refused(sim_env, options, error):
    with pytest.raises(error):
        sim_env.reset(options=options)
    with pytest.raises(RuntimeError):  # no half-started episode to step
        sim_env.unwrapped.step(ToolCall.answer("A"))
