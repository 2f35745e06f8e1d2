"""Reference agents: registry, protocol, and behaviour on the mini suite (and the default suite when bundled)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import cvr_gym  # noqa: F401  (registers the envs)
from baselines import (Agent, OracleAgent, RandomAgent, SinglePassAgent, available_agents, make_agent,
                       needs_privileged_info, parse_spec)
from baselines.planned import fit_budget, split_window
from cvr_gym.core.actions import ToolCall
from cvr_gym.core.limits import Limits
from cvr_gym.evaluation.registry import parse_args


def play(env, agent, options=None, seed=0):
    obs, info = env.reset(seed=seed, options=options)
    agent.reset(obs, info, seed=seed)
    actions = []
    while True:
        action = agent.act(obs, info)
        actions.append(action)
        obs, reward, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return info, actions


@pytest.fixture
def oracle_env(mini_suite_path):
    env = gym.make("CVRSim-v0", suite=str(mini_suite_path), split=None, privileged_info=True,
                   disable_env_checker=True)
    yield env
    env.close()


def _default_suite_or_skip(split="test"):
    try:
        return cvr_gym.load_suite("default", split=split)
    except (FileNotFoundError, ValueError):
        pytest.skip("the default suite is not bundled yet")


# -- registry ------------------------------------------------------------------------------------

def test_specs_and_registry():
    assert parse_spec("single-pass:32") == ("single-pass", "32")
    assert parse_spec("random") == ("random", None)
    assert parse_args("32,reader=generic") == (["32"], {"reader": "generic"})
    assert {"random", "single-pass", "oracle", "heuristic", "checkpoint", "llm"} <= set(available_agents())
    assert needs_privileged_info("oracle") and not needs_privileged_info("single-pass:8")
    assert make_agent("single-pass:8").name == "single-pass:8"
    assert make_agent("single-pass").frames_per_video == 32
    assert isinstance(make_agent("oracle:4,reader=generic"), OracleAgent)
    for spec in ("random", "single-pass:128", "oracle"):
        assert isinstance(make_agent(spec, seed=1), Agent)
    with pytest.raises(ValueError, match="unknown agent"):
        make_agent("nope")
    with pytest.raises(ValueError):
        make_agent("single-pass:8,colour=red")
    with pytest.raises(ValueError, match="reader"):
        make_agent("oracle:reader=psychic")


def test_unavailable_agent_module_is_a_clear_error():
    from cvr_gym.evaluation.registry import register_agent

    register_agent("test-missing", "baselines.no_such_module:make_agent", overwrite=True)
    with pytest.raises(ValueError, match="not available"):
        make_agent("test-missing")


# -- planning helpers ----------------------------------------------------------------------------

def test_split_window_samples_the_same_times():
    limits = Limits(max_frames_per_target=64)
    pieces = split_window(1, 0.0, 90.0, 128, limits)
    assert len(pieces) == 2 and all(p[3] == 64 for p in pieces)
    times = np.concatenate([s + (np.arange(n) + 0.5) * (e - s) / n for _, s, e, n in pieces])
    whole = (np.arange(128) + 0.5) * 90.0 / 128
    np.testing.assert_allclose(times, whole, atol=1e-6)
    assert split_window(2, 5.0, 10.0, 8, limits) == [(2, 5.0, 10.0, 8)]


def test_fit_budget():
    assert fit_budget([32, 32], 256) == [32, 32]
    assert sum(fit_budget([128] * 4, 256)) <= 256
    assert fit_budget([128] * 4, 256) == [64] * 4


# -- agents on the mini suite ---------------------------------------------------------------------

def test_oracle_scores_one_on_the_mini_suite(oracle_env, mini_suite_path):
    agent = make_agent("oracle:reader=generic", action_space=oracle_env.action_space)
    scores = []
    for i in range(6):
        info, _ = play(oracle_env, agent, {"task_index": i})
        assert info["termination_reason"] == "answer"
        assert info["totals"]["invalid_actions"] == 0
        scores.append(info["score"])
    assert np.mean(scores) >= 0.95, scores


def test_oracle_looks_only_at_the_spans(oracle_env):
    agent = OracleAgent(action_space=oracle_env.action_space, reader="generic")
    info, actions = play(oracle_env, agent, {"task_id": "car-colour"})
    observe = actions[0]
    assert observe.name == "observe"
    targets = observe.arguments.targets
    assert [t.video for t in targets] == [1, 2] and all(t.num_frames >= 4 for t in targets)
    for t, (start, end) in zip(targets, [(30.0, 32.0), (5.0, 8.0)]):
        # The window is the span widened by less than half a frame interval on each side.
        half = (end - start) / (t.num_frames - 1) / 2
        assert start - half <= t.start < start and end < t.end <= end + half
        times = t.start + (np.arange(t.num_frames) + 0.5) * (t.end - t.start) / t.num_frames
        assert start <= times.min() < start + 0.05 and end - 0.05 < times.max() <= end
    listens = [a for a in actions if isinstance(a, ToolCall) and a.name == "listen"]
    assert [(a.arguments.video, a.arguments.start) for a in listens] == [(1, 30.0)]  # video 2 has no audio


def test_oracle_needs_privileged_info(sim_env):
    obs, info = sim_env.reset(seed=0)
    with pytest.raises(ValueError, match="privileged_info"):
        OracleAgent().reset(obs, info)


def test_single_pass_observes_everything_once(sim_env):
    agent = SinglePassAgent(32, action_space=sim_env.action_space, reader="generic")
    info, actions = play(sim_env, agent, {"task_id": "count-cups"})
    first = actions[0]
    assert first.name == "observe" and first.arguments.focus == ""
    assert [(t.video, t.start, t.end, t.num_frames) for t in first.arguments.targets] == [
        (1, 0.0, 30.0, 32), (2, 0.0, 45.0, 32), (3, 0.0, 90.0, 32)]
    assert [a.name for a in actions[1:]] == ["listen", "listen", "listen", "answer"]
    assert info["totals"]["frames"] == 96 and info["score"] == 1.0


def test_single_pass_stays_within_limits(mini_suite_path):
    env = gym.make("CVRSim-v0", suite=str(mini_suite_path), split=None, max_frames_per_target=32, max_targets=2,
                   frame_budget=200, disable_env_checker=True)
    agent = make_agent("single-pass:128,reader=generic", action_space=env.action_space)
    for i in range(6):
        info, actions = play(env, agent, {"task_index": i})
        assert info["termination_reason"] == "answer", info
        assert info["totals"]["invalid_actions"] == 0
        assert info["totals"]["frames"] <= 200
    env.close()


def test_single_pass_more_frames_score_higher(sim_env):
    means = {}
    for frames in (8, 128):
        agent = make_agent(f"single-pass:{frames},reader=generic", action_space=sim_env.action_space)
        means[frames] = np.mean([play(sim_env, agent, {"task_index": i})[0]["score"] for i in range(6)])
    assert means[128] > means[8]


def test_random_agent_is_valid_seeded_and_near_chance(sim_env):
    agent = RandomAgent(seed=3, action_space=sim_env.action_space)
    single_scores, runs = [], []
    for episode in range(150):
        info, actions = play(sim_env, agent, {"task_id": "car-colour"}, seed=episode)
        assert info["totals"]["invalid_actions"] == 0
        assert info["termination_reason"] == "answer"
        single_scores.append(info["score"])
        runs.append(len(actions))
    assert 0.12 <= np.mean(single_scores) <= 0.40  # 4 options: chance is 0.25
    assert len(set(runs)) > 3  # a random number of steps
    # Same episode seed, same actions.
    a = play(sim_env, RandomAgent(seed=0), {"task_index": 2}, seed=7)[1]
    b = play(sim_env, RandomAgent(seed=99), {"task_index": 2}, seed=7)[1]
    assert [x.to_dict() for x in a] == [x.to_dict() for x in b]


def test_random_answers_every_type(sim_env):
    agent = RandomAgent(seed=0, action_space=sim_env.action_space)
    for i in range(6):
        info, actions = play(sim_env, agent, {"task_index": i}, seed=i)
        assert actions[-1].name == "answer"
        assert info["score"] is not None and 0.0 <= info["score"] <= 1.0


def test_generic_reader_answers_from_evidence():
    from cvr_gym.core.evidence import Evidence
    from cvr_gym.core.view import TaskView
    from cvr_gym.data.readers import read_answer

    view = TaskView("Which colour is the car?", ("red", "blue"), "single")
    ev = [Evidence(1, 3, 3, "object", "blue car"), Evidence(2, 5, 5, "object", "blue car"),
          Evidence(1, 9, 9, "object", "red bicycle")]
    assert read_answer(view, ev, reader="generic") == "B"
    assert read_answer(view, ev) == "B"  # no family: auto takes the generic reader
    assert read_answer(TaskView("How many cups?", answer_type="count"),
                       [Evidence(1, 1, 1, "object", "2 cups"), Evidence(2, 1, 1, "object", "3 cups")]) == 5


# -- the default suite (once bundled) -------------------------------------------------------------

@pytest.mark.parametrize("spec", ["oracle", "single-pass:8", "random"])
def test_agents_on_the_default_suite(spec):
    suite = _default_suite_or_skip()
    env = gym.make("CVRSim-v0", suite="default", split="test", privileged_info=needs_privileged_info(spec))
    agent = make_agent(spec, seed=0, action_space=env.action_space)
    rng = np.random.default_rng(0)
    scores = []
    for index in rng.choice(len(suite), size=min(12, len(suite)), replace=False):
        info, _ = play(env, agent, {"task_index": int(index)}, seed=int(index))
        assert info["totals"]["invalid_actions"] == 0
        scores.append(info["score"] or 0.0)
    env.close()
    if spec == "oracle":
        assert np.mean(scores) >= 0.85, scores
