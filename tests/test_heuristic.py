"""The heuristic agent: active search beats a uniform single pass at no more frames."""

import gymnasium as gym
import pytest

import cvr_gym  # noqa: F401
from baselines import make_agent, play_episode
from baselines.heuristic import HeuristicAgent, _named_windows


def _run(agent_spec, tasks_per_family=4):
    env = gym.make("CVRSim-v0", suite="default", split="test", disable_env_checker=True)
    agent = make_agent(agent_spec, seed=0, action_space=env.action_space)
    suite = env.unwrapped.suite
    by_family = {}
    for i, task in enumerate(suite):
        by_family.setdefault(task.family, []).append(i)
    scores, frames = [], []
    for indices in by_family.values():
        for i in indices[:tasks_per_family]:
            info = play_episode(env, agent, {"task_index": i})
            scores.append(info["score"] or 0.0)
            frames.append(info["totals"]["frames"])
    return sum(scores) / len(scores), sum(frames) / len(frames)


def test_heuristic_beats_single_pass_at_no_more_frames():
    heuristic_score, heuristic_frames = _run("heuristic")
    single_score, single_frames = _run("single-pass:32")
    assert heuristic_frames <= single_frames
    assert heuristic_score > single_score + 0.05


def test_spec_and_named_windows():
    agent = make_agent("heuristic:24,skim=8,spacing=1.5")
    assert isinstance(agent, HeuristicAgent) and agent.frames_per_video == 24 and agent.dense_spacing == 1.5
    windows = _named_windows("In video 1, between 49.9 and 52.6 s, the cook does a step.", [100.0, 80.0])
    assert [(w.video, w.start, w.end) for w in windows] == [(1, 49.9, 52.6)]
    windows = _named_windows("Between 13.95 and 17.45 s, video 1 shows a cooking step.", [100.0, 80.0])
    assert [(w.video, w.start, w.end) for w in windows] == [(1, 13.95, 17.45)]
    with pytest.raises(ValueError):
        make_agent("heuristic:4,skim=8")
