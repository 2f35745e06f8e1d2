"""Gymnasium conventions: stable info schema, vector envs (sync/async, shared memory), step limits."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import cvr_gym  # noqa: F401
from cvr_gym.core.spaces import UnicodeText
from cvr_gym.wrappers import DiscreteActions, wrap_env

UNICODE_ANSWER = '{"name": "answer", "arguments": {"answer": "é 東京 🙂"}}'


def _schema(value, path=""):
    """(path, type) pairs of a nested info dict, lists summarised by their own type."""
    if isinstance(value, dict):
        return {p for k, v in value.items() for p in _schema(v, f"{path}.{k}")}
    return {(path, type(value).__name__)}


def test_step_info_has_the_same_keys_and_types_every_step():
    env = gym.make("CVRSim-v0", split=None)
    seen: dict[str, set] = {}
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=0)
    reset_schema = _schema(info)
    for i in range(600):
        action = env.action_space.sample(mask=info["action_context"]) if i % 5 else "not an action"
        obs, _, term, trunc, info = env.step(action)
        for path, kind in _schema(info):
            seen.setdefault(path, set()).add(kind)
        if term or trunc:
            obs, info = env.reset(seed=int(rng.integers(1000)))
            assert _schema(info) == reset_schema or {p for p, _ in _schema(info)} == {p for p, _ in reset_schema}
    numeric = {p: k for p, k in seen.items() if k & {"int", "float", "bool"}}
    assert all(len(k) == 1 for k in numeric.values()), numeric
    assert seen[".score"] == {"float"}
    assert all(_schema(info) for _ in [0])


def test_reset_info_types_do_not_depend_on_the_task():
    env = gym.make("CVRSim-v0", split=None)
    types = set()
    for i in range(len(env.unwrapped.suite)):
        _, info = env.reset(options={"task_index": i})
        types.add(type(info["task"]["answer_video"]).__name__)
    assert types == {"int"}


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("wrapped", [False, True], ids=["raw", "wrapped"])
def test_vector_envs_run_thousands_of_steps_with_autoreset_and_close(mode, wrapped):
    kwargs = {"wrappers": [wrap_env]} if wrapped else {"max_episode_steps": 5}
    envs = gym.make_vec("CVRSim-v0", num_envs=2, vectorization_mode=mode, split=None, **kwargs)
    try:
        envs.reset(seed=0)
        episodes = 0
        for i in range(2000):
            if wrapped:
                actions = envs.action_space.sample()
            else:  # non-ASCII text crosses the shared memory of async workers
                actions = tuple(UNICODE_ANSWER if (i + k) % 4 == 0 else envs.single_action_space.sample()
                                for k in range(2))
            obs, reward, term, trunc, info = envs.step(actions)
            episodes += int(np.sum(term | trunc))
            if not wrapped and i % 4 == 0 and (term | trunc)[0]:
                assert "é 東京" in obs[0]
        assert episodes > 300
    finally:
        envs.close()


def test_unicode_text_round_trips_through_shared_memory():
    from gymnasium.vector.utils import create_shared_memory, read_from_shared_memory, write_to_shared_memory

    space = UnicodeText(16)
    shm = create_shared_memory(space, n=3)
    texts = ["é東京\ud800🙂", "", "x" * 16]
    for i, t in enumerate(texts):
        write_to_shared_memory(space, i, t, shm)
    assert read_from_shared_memory(space, shm, n=3) == tuple(texts)


def test_time_limit_is_the_step_limit_the_agent_is_told():
    env = gym.make("CVRSim-v0", split=None, max_episode_steps=5)
    obs, info = env.reset(seed=0)
    assert "Budget: 5 steps" in obs and "5 steps" in env.unwrapped.system_prompt
    listen = {"name": "listen", "arguments": {"video": 1, "start": 0, "end": 1}}
    for step in range(1, 6):
        obs, _, term, trunc, info = env.step(listen)
        assert f"step {step}/5" in obs
    assert trunc and not term and info["termination_reason"] == "max_steps"


def test_a_larger_time_limit_keeps_the_env_limit():
    env = gym.make("CVRSim-v0", split=None, max_steps=4, max_episode_steps=50)
    obs, _ = env.reset(seed=0)
    assert "Budget: 4 steps" in obs


def test_masked_random_agent_answers_at_the_time_limit():
    env = DiscreteActions(gym.make("CVRSim-v0", split=None, max_episode_steps=5))
    rng = np.random.default_rng(0)
    reasons = []
    for ep in range(30):
        _, info = env.reset(seed=ep)
        done = False
        while not done:
            mask = info["action_mask"]
            _, _, term, trunc, info = env.step(int(rng.choice(np.flatnonzero(mask))))
            done = term or trunc
        reasons.append(info["termination_reason"])
        assert info["step"] <= 5
    assert reasons.count("answer") == 30


def test_discrete_actions_over_a_hand_made_time_limit_forces_the_answer():
    from cvr_gym.envs import make_sim_env

    env = DiscreteActions(gym.wrappers.TimeLimit(make_sim_env(split=None), 3))
    obs, info = env.reset(seed=1)
    assert "Budget: 3 steps" in obs
    for _ in range(3):
        _, _, term, trunc, info = env.step(int(np.flatnonzero(info["action_mask"])[0]))
    assert term and info["termination_reason"] == "answer"


def _run_unmasked(env, rng, episodes=20):
    """Uniform random actions, masks ignored: what plain PPO does at first."""
    scores, reasons, total_extra = [], [], 0.0
    for ep in range(episodes):
        env.reset(seed=ep)
        done = False
        while not done:
            _, reward, term, trunc, info = env.step(int(rng.integers(env.action_space.n)))
            total_extra += info["reward_components"]["call_cost"] + info["reward_components"]["masked_action"]
            done = term or trunc
        scores.append(info["score"])
        reasons.append(info["termination_reason"])
    return scores, reasons, total_extra


def test_unmasked_agents_always_answer_and_pay_for_calls():
    env = wrap_env(gym.make("CVRSim-v0", split=None, max_episode_steps=6), flat=True, call_cost=0.01)
    assert isinstance(env.observation_space, gym.spaces.Box)
    _, reasons, extra = _run_unmasked(env, np.random.default_rng(0))
    assert set(reasons) == {"answer"} and extra < 0
    # The classic-RL options off: the env's reward unchanged, and random play often never answers.
    plain = wrap_env(gym.make("CVRSim-v0", split=None, max_episode_steps=6), call_cost=0, masked_penalty=0,
                     force_answer_at_last_step=False)
    _, reasons, extra = _run_unmasked(plain, np.random.default_rng(0))
    assert extra == 0 and "max_steps" in reasons


def test_call_cost_and_masked_penalty_are_charged_as_documented():
    env = DiscreteActions(gym.make("CVRSim-v0", split=None), call_cost=0.25, masked_penalty=0.5,
                          force_answer_at_last_step=False)
    _, info = env.reset(seed=0)
    mask = info["action_mask"]
    cat = env.catalogue
    observe = int(np.flatnonzero(mask[: cat.n_observe])[0])
    _, reward, _, _, info = env.step(observe)
    assert info["reward_components"]["call_cost"] == -0.25 and info["reward_components"]["masked_action"] == 0.0
    assert reward == pytest.approx(sum(info["reward_components"].values()))
    masked = int(np.flatnonzero(~info["action_mask"][: cat.n_observe])[0])
    _, reward, _, _, info = env.step(masked)
    assert info["reward_components"]["masked_action"] == -0.5
    with pytest.raises(ValueError):
        DiscreteActions(gym.make("CVRSim-v0"), call_cost=float("nan"))


def test_huge_integers_do_not_kill_async_workers():
    big = '{"name": "answer", "arguments": {"answer": %s}}' % ("9" * 5000)
    envs = gym.make_vec("CVRSim-v0", num_envs=2, vectorization_mode="async", split=None)
    try:
        envs.reset(seed=0)
        obs, reward, term, trunc, info = envs.step((big, big))
        assert all("Invalid action" in o for o in obs) and (reward < 0).all()
        obs, *_ = envs.step((envs.single_action_space.sample(), envs.single_action_space.sample()))
    finally:
        envs.close()


@pytest.mark.parametrize("factored", [False, True], ids=["flat", "factored"])
def test_numeric_actions_outside_the_space_get_an_error_naming_it(factored):
    env = wrap_env(gym.make("CVRSim-v0", split=None), factored=factored)
    env.reset(seed=0)
    for bad in (float("nan"), "abc", None, [1, 2, 3], np.zeros((2, 2))):
        with pytest.raises(ValueError, match=r"is not in (Discrete|MultiDiscrete)"):
            env.step(bad)
    for bad in ((-1, 10**30) if not factored else (np.array([9, 9, 9, 9, 9]), np.array([-1, 0, 0, 0, 0]))):
        with pytest.raises(IndexError, match="is outside"):
            env.step(bad)
    _, _, _, _, info = env.step(env.action_space.sample())  # the episode goes on
    assert "catalogue_action" in info
