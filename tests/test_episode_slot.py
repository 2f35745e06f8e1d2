"""EpisodeSlot: the sub-env that evaluation and GRPO rollouts both schedule episodes onto."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np

import cvr_gym  # noqa: F401  (registers the envs)
from cvr_gym.core.actions import ToolCall
from cvr_gym.envs.episode_slot import EpisodeSlot, unpack_infos
from cvr_gym.wrappers import wrap_env


def _sim(mini_suite_path):
    return gym.make("CVRSim-v0", suite=str(mini_suite_path), split=None, disable_env_checker=True)


def test_packed_slots_play_their_own_tasks_and_idle_slots_wait(mini_suite_path):
    envs = gym.vector.SyncVectorEnv([lambda i=i: EpisodeSlot(_sim(mini_suite_path), i) for i in range(2)],
                                    autoreset_mode=gym.vector.AutoresetMode.DISABLED)
    obs, info = envs.reset(options={"per_env": [{"task_index": 1}, None]})
    infos = unpack_infos(info, 2)
    assert infos[1] is None and infos[0]["task_id"] == envs.envs[0].unwrapped.suite[1].id
    assert obs[0] and obs[1] == ""
    obs, reward, term, trunc, info = envs.step((ToolCall.answer("A"), ToolCall.answer("A")))
    infos = unpack_infos(info, 2)
    assert term[0] and not term[1] and reward[1] == 0.0 and infos[1] is None
    assert infos[0]["score"] is not None
    envs.close()


def test_summary_slots_absorb_after_the_end(mini_suite_path):
    envs = gym.vector.SyncVectorEnv(
        [lambda i=i: EpisodeSlot(wrap_env(_sim(mini_suite_path)), i, info="summary") for i in range(2)],
        autoreset_mode=gym.vector.AutoresetMode.DISABLED)
    obs, info = envs.reset(options={"per_env": [{"task_index": 0}, None]})
    assert list(info["done"]) == [False, True] and list(info["real"]) == [True, False]
    answer = envs.envs[0].get_wrapper_attr("catalogue").reader_index  # the reader macro-action
    for _ in range(3):  # the first step ends slot 0's episode; later steps do not reach the env
        obs, reward, term, trunc, info = envs.step(np.array([answer, 0]))
        assert not term.any() and not trunc.any() and info["done"].all()
    assert not info["real"][0] and reward[0] == 0.0 and math.isfinite(info["score"][0])
    assert info["steps"][0] == 1 and math.isnan(info["score"][1])
    envs.close()
