"""Search wrappers: features reflect what was observed, relative zooms land around matches, a short
GRPO run over them improves, and a checkpoint plays the same through the checkpoint agent."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

import cvr_gym  # noqa: F401
from cvr_gym.core.view import TaskView
from cvr_gym.train.config import GRPOConfig
from cvr_gym.train.grpo import GRPOTrainer
from cvr_gym.wrappers.episode import EpisodeState
from cvr_gym.wrappers.search import (SearchCatalogue, SearchEncoder, SearchMemory, catalogue_from_config,
                                     encoder_from_config, memory_of, named_windows, wrap_search_env)


def _env(mini_suite_path, **kw):
    return wrap_search_env(gym.make("CVRSim-v0", suite=str(mini_suite_path), split=None, disable_env_checker=True, **kw))


def _index(cat: SearchCatalogue, move: str, **want) -> int:
    for i in range(len(cat)):
        e = cat.entry(i)
        if e.move == move and all(getattr(e, k) == v for k, v in want.items()):
            return i
    raise KeyError(move)


def test_features_reflect_what_was_observed(mini_suite_path):
    env = _env(mini_suite_path)
    cat, enc = env.get_wrapper_attr("catalogue"), env.get_wrapper_attr("encoder")
    obs, info = env.reset(options={"task_index": 0})  # car colour: video 1 (60 s), video 2 (40 s, no audio)
    assert env.observation_space.contains(obs)
    assert not obs["coverage"].any() and not obs["heat"].any() and not obs["candidates"].any()
    # observe only the second half of video 1, densely
    second_half = _index(cat, "window", video=0, window=2, frames=16)  # scales (1, 2, 4): window 2 = [0.5, 1]
    obs, *_ = env.step(second_half)
    assert env.observation_space.contains(obs)
    windows = enc.windows  # scales 1, 2, 4, 8
    first_half = int(np.flatnonzero((windows[:, 0] == 0.0) & (windows[:, 1] == 0.5))[0])
    late = int(np.flatnonzero((windows[:, 0] == 0.5) & (windows[:, 1] == 1.0))[0])
    assert obs["coverage"][0, 0, late] == pytest.approx(min(1.0, 16 * 2.0 / 30.0))
    assert obs["coverage"][0, 0, first_half] == 0.0
    assert not obs["coverage"][1].any()  # video 2 untouched
    # "blue car" (30-32 s) shares "car" with the question: heat in the window holding it, none elsewhere
    assert obs["heat"][0, 0, late] > 0
    assert obs["heat"][0, 0, first_half] == 0.0
    assert obs["candidates"][0, 0] == 1.0 and obs["candidates"][0, 7] == 1.0  # present, video 1
    # listening adds audio heat and marks the track heard
    obs, *_ = env.step(_index(cat, "listen"))
    assert obs["heat"][0, 1].max() > 0  # "look at that car" / "car horn"
    assert obs["progress"][5] == 1.0  # the only audio track was heard
    env.close()


def test_zoom_windows_are_inside_the_video_and_around_the_match(mini_suite_path):
    env = _env(mini_suite_path)
    cat = env.get_wrapper_attr("catalogue")
    env.reset(options={"task_index": 0})
    env.step(_index(cat, "skim", frames=16, listen=False))  # video 1: a frame every 3.75 s, one at 31.9 s sees the blue car
    state = env.get_wrapper_attr("state")
    mem = memory_of(state)
    blue = [c for c in mem.candidates() if c.video == 0 and c.start <= 30 and c.end >= 32]
    assert blue, mem.candidates()
    mask = env.action_masks()
    zoom = _index(cat, "zoom", level=1.0, frames=48)
    assert mask[zoom]
    call = cat.to_tool_call(zoom, state)
    (target,) = call.arguments.targets
    best = mem.unresolved()[0]
    assert target.video == best.video + 1
    assert 0.0 <= target.start < target.end <= state.durations[best.video]
    assert (target.start, target.end) == pytest.approx((best.start, best.end), abs=1e-3)
    assert target.end - target.start < state.durations[best.video] / 2  # a zoom, not the whole video
    _, _, _, _, info = env.step(zoom)
    assert info["totals"]["frames"] > 16
    env.close()


def test_masks_and_named_windows(mini_suite_path):
    assert named_windows("In video 2, between 10 and 20 s, what happens?", [60.0, 90.0]) == [(1, 10.0, 20.0)]
    assert named_windows("Between 13.95 and 17.45 s, video 1 shows what?", [30.0]) == [(0, 13.95, 17.45)]
    assert named_windows("In video 3, between 10 and 20 s?", [60.0]) == []  # no such video
    env = _env(mini_suite_path)
    cat = env.get_wrapper_attr("catalogue")
    _, info = env.reset(options={"task_index": 0})
    mask = info["action_mask"]
    assert mask[cat.reader_index] and mask[_index(cat, "listen")]
    assert not mask[_index(cat, "zoom", level=1.0, frames=16)]  # nothing seen yet
    assert not mask[_index(cat, "window", video=2, window=0, frames=8)]  # the task has 2 videos
    env.step(_index(cat, "listen"))
    assert not env.action_masks()[_index(cat, "listen")]  # every track heard
    env.close()


def _config(mini_suite_path, tmp_path, **kw):
    base = dict(wrappers="search", suite=str(mini_suite_path), split=None, eval_split=None, group_size=8,
                tasks_per_update=6, num_envs=8, epochs=2, learning_rate=3e-3, entropy_coef=0.0,
                log_dir=str(tmp_path / "run"), checkpoint_every=0, seed=0, env_kwargs={"reward": {"cost": 0.4}})
    base.update(kw)
    return GRPOConfig(**base)


def test_short_training_improves_over_its_start(mini_suite_path, tmp_path):
    trainer = GRPOTrainer(_config(mini_suite_path, tmp_path), policy_kwargs={"hidden_sizes": (64,)})
    before = trainer.evaluate(split=None, episodes=6 * 8, greedy=False)
    trainer.train(25)
    after = trainer.evaluate(split=None, episodes=6 * 8, greedy=False)
    trainer.close()
    assert after["return"] > before["return"] + 0.05, (before, after)


def test_checkpoint_round_trip_through_the_agent(mini_suite_path, tmp_path):
    from baselines.checkpoint_agent import CheckpointAgent
    from baselines import play_episode

    trainer = GRPOTrainer(_config(mini_suite_path, tmp_path), policy_kwargs={"hidden_sizes": (32,)})
    trainer.train(2)
    path = trainer.save_checkpoint(tmp_path / "ck.pt")
    meta = torch.load(path, weights_only=False)["wrappers"]
    assert isinstance(catalogue_from_config(meta["catalogue"]), SearchCatalogue)
    assert isinstance(encoder_from_config(meta["encoder"]), SearchEncoder)
    expected = trainer.evaluate(split=None, episodes=6)
    trainer.close()
    agent = CheckpointAgent(path)
    env = gym.make("CVRSim-v0", suite=str(mini_suite_path), split=None, disable_env_checker=True,
                   reward={"cost": 0.4})
    scores, frames = [], []
    for i in range(6):
        info = play_episode(env, agent, {"task_index": i, "group_id": f"eval-None-{i}"}, seed=i)
        scores.append(info["score"] or 0.0)
        frames.append(info["totals"]["frames"])
    assert np.mean(scores) == pytest.approx(expected["score"])
    assert np.mean(frames) == pytest.approx(expected["frames"])


def test_check_env_and_maskable_ppo(mini_suite_path):
    import warnings

    from gymnasium.utils.env_checker import check_env as gym_check
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.env_checker import check_env as sb3_check

    env = _env(mini_suite_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sb3_check(env)
        gym_check(env, skip_render_check=True)
    model = MaskablePPO("MultiInputPolicy", env, n_steps=16, batch_size=16, n_epochs=1, seed=0, device="cpu")
    model.learn(16)
    obs, _ = env.reset(seed=1)
    action, _ = model.predict(obs, action_masks=env.action_masks(), deterministic=True)
    assert env.action_masks()[int(action)]


def test_masked_moves_sent_anyway_never_crash(mini_suite_path):
    env = _env(mini_suite_path)
    cat = env.get_wrapper_attr("catalogue")
    for task in range(6):
        for index in range(len(cat) - 1):
            env.reset(options={"task_index": task})
            obs, _, _, _, info = env.step(index)  # many of these are masked at the start
            assert env.observation_space.contains(obs)
    env.close()


def test_frame_allowance_per_video_caps_looks(mini_suite_path):
    env = wrap_search_env(gym.make("CVRSim-v0", suite=str(mini_suite_path), split=None, disable_env_checker=True),
                          catalogue={"frames_per_video": 10})
    cat, enc = env.get_wrapper_attr("catalogue"), env.get_wrapper_attr("encoder")
    assert enc.frames_per_video == 10 and cat.config()["frames_per_video"] == 10
    obs, _ = env.reset(options={"task_index": 0})  # 2 videos: 20 frames allowed of the env's 256
    assert obs["progress"][2] == 1.0
    obs, _, _, _, info = env.step(_index(cat, "skim", frames=8, listen=False))  # 16 frames
    assert info["totals"]["frames"] == 16
    assert obs["progress"][1] == pytest.approx(16 / 20) and obs["progress"][2] == pytest.approx(4 / 20)
    _, _, _, _, info = env.step(_index(cat, "window", video=0, window=0, frames=16))  # cut to the 4 left
    assert info["totals"]["frames"] == 20
    mask = env.action_masks()
    looks = [i for i in range(len(cat)) if cat.entry(i).kind == "observe"]
    assert not mask[looks].any() and mask[cat.reader_index]
    env.close()


def test_look_before_answer_masks_the_reader_until_every_video_was_seen(mini_suite_path):
    env = wrap_search_env(gym.make("CVRSim-v0", suite=str(mini_suite_path), split=None, disable_env_checker=True),
                          catalogue={"look_before_answer": True})
    cat = env.get_wrapper_attr("catalogue")
    _, info = env.reset(options={"task_index": 0})
    assert not info["action_mask"][cat.reader_index] and info["action_mask"][_index(cat, "listen")]
    env.step(_index(cat, "window", video=0, window=0, frames=8))  # video 2 still unseen
    assert not env.action_masks()[cat.reader_index]
    env.step(_index(cat, "window", video=1, window=0, frames=8))
    assert env.action_masks()[cat.reader_index]
    env.close()


def test_scan_looks_at_the_answer_video_between_the_frames_taken(mini_suite_path):
    env = wrap_search_env(gym.make("CVRSim-v0", suite=str(mini_suite_path), split=None, disable_env_checker=True),
                          catalogue={"scan_frames": (8,)})
    cat = env.get_wrapper_attr("catalogue")
    scan = _index(cat, "scan", frames=8)
    assert cat.action_groups()[scan] == cat.action_groups()[_index(cat, "rescan", frames=8)]
    state = env.get_wrapper_attr("state")
    for task in range(6):
        _, info = env.reset(options={"task_index": task})
        if state.answer_video:
            break
    else:
        pytest.skip("no task of the mini suite names an answer video")
    assert info["action_mask"][scan]
    env.step(_index(cat, "skim", frames=8, listen=False))
    v, d = state.answer_video, state.durations[state.answer_video - 1]
    (target,) = cat.to_tool_call(scan, state).arguments.targets
    assert target.video == v and target.num_frames == 8
    assert target.start == pytest.approx(d / 8 / 2, abs=1e-3) and target.end == pytest.approx(d)
    env.close()


def test_active_search_recipe_config(tmp_path):
    from cvr_gym.train.recipes import get_recipe

    recipe = get_recipe("active-search")
    cfg = recipe.build(str(tmp_path), seed=3, updates=7, perception_noise=(0.1, 0.05))
    assert cfg.wrappers == "search" and cfg.select_split == "val" and cfg.log_dir == str(tmp_path)
    assert (cfg.seed, cfg.updates) == (3, 7)
    assert cfg.env_kwargs["perception_noise"] == {"miss_prob": 0.1, "confusion_prob": 0.05}
    assert cfg.env_kwargs["reward"] == recipe.config["env_kwargs"]["reward"]  # noise keeps the recipe's reward
    assert "perception_noise" not in recipe.build(str(tmp_path)).env_kwargs
    with pytest.raises(ValueError, match="unknown recipe"):
        get_recipe("nope")


def test_train_recipe_writes_best_checkpoint_and_curve(tmp_path):
    from cvr_gym.cli import main

    out = tmp_path / "run"
    assert main(["train", "--recipe", "active-search", "--out", str(out), "--updates", "1", "--no-progress"]) == 0
    assert (out / "checkpoints" / "best.pt").is_file() and (out / "learning_curve.png").stat().st_size > 0
    from baselines.checkpoint_agent import CheckpointAgent

    agent = CheckpointAgent(out / "checkpoints" / "best.pt")
    assert isinstance(agent.catalogue, SearchCatalogue) and agent.catalogue.look_before_answer


def test_evidence_in_a_named_window_is_looked_for_in_the_other_videos():
    # The question points at a step by time, not by what it is: what was seen there ("flour",
    # "sauce", "whisk") scores the records of the other videos; the named video keeps the question's words.
    question = "In video 1, between 10 and 14 s, the cook does one step. In video 2, when does the cook do a step with the same purpose?"
    state = EpisodeState(view=TaskView(question, durations=(60.0, 60.0)))
    state.all_evidence = [
        {"video": 1, "start": 12.0, "end": 12.0, "kind": "visual", "content": "the cook whisks flour into the sauce"},
        {"video": 2, "start": 30.0, "end": 30.0, "kind": "visual", "content": "the cook stirs cornstarch into the sauce"},
        {"video": 2, "start": 50.0, "end": 50.0, "kind": "visual", "content": "the cook slices onions"},
        {"video": 1, "start": 40.0, "end": 40.0, "kind": "visual", "content": "the cook stirs cornstarch into the sauce"},
    ]
    mem = SearchMemory(state).update()
    assert mem.feedback_words() == {"whisk", "flour", "sauce"}
    # IDF over the 3 distinct contents: "cook" is in all 3, "sauce" in 2
    cook, sauce = math.log(4 / 3.5), math.log(4 / 2.5)
    assert mem.scores() == pytest.approx([cook, cook + sauce, cook, cook])
    named, found = mem.candidates()
    assert (named.video, named.start, named.end) == (0, 10.0, 14.0)
    assert (found.video, found.start, found.end) == (1, 0.0, 60.0)  # nothing sampled yet: the whole video
    assert found.score == pytest.approx(cook + sauce)
