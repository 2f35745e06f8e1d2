"""GRPO trainer: advantage and loss math by hand, short runs, exact resume, group starts, agent parity."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import torch

import cvr_gym  # noqa: F401
from cvr_gym.train.config import GRPOConfig
from cvr_gym.train.grpo import GRPOTrainer, clipped_surrogate, group_advantages, kl_k3, load_policy


def _config(mini_suite_path, tmp_path, **kw):
    base = dict(suite=str(mini_suite_path), split=None, eval_split=None, group_size=4, tasks_per_update=2,
                num_envs=4, epochs=2, log_dir=str(tmp_path / "run"), checkpoint_every=0, seed=3,
                catalogue={"scales": (1, 2, 4), "frame_counts": (8, 32)}, encoder={"text_dim": 32},
                env_kwargs={"perception_noise": {"miss_prob": 0.2}})
    base.update(kw)
    return GRPOConfig(**base)


# -- math ---------------------------------------------------------------------------------------------

def test_group_advantages_by_hand():
    adv = group_advantages([[1.0, 0.0, 0.0, 1.0], [0.5, 0.5, 0.5, 0.5], [0.0, 1.0, 2.0, 3.0]], eps=0.0)
    np.testing.assert_allclose(adv[0], [1, -1, -1, 1])  # mean 0.5, std 0.5
    np.testing.assert_allclose(adv[1], [0, 0, 0, 0])  # no signal in a uniform group
    std = np.sqrt(1.25)  # population std of 0, 1, 2, 3
    np.testing.assert_allclose(adv[2], np.array([-1.5, -0.5, 0.5, 1.5]) / std)
    np.testing.assert_allclose(group_advantages([[0.0, 1.0, 2.0]], scale=False), [[-1.0, 0.0, 1.0]])
    eps = group_advantages([[0.0, 2.0]], eps=1.0)  # mean 1, std 1: +-1 / (1 + 1)
    np.testing.assert_allclose(eps, [[-0.5, 0.5]])
    with pytest.raises(ValueError):
        group_advantages([1.0, 2.0])


def test_clipped_surrogate_and_kl_by_hand():
    ratio = torch.tensor([1.5, 1.5, 0.5, 0.5, 1.0])
    adv = torch.tensor([1.0, -1.0, 1.0, -1.0, 2.0])
    loss = clipped_surrogate(ratio, adv, 0.2)
    # +A: min(1.5, 1.2) = 1.2; -A: min(-1.5, -1.2) = -1.5; +A: min(0.5, 0.8) = 0.5; -A: min(-0.5, -0.8) = -0.8
    torch.testing.assert_close(loss, torch.tensor([-1.2, 1.5, -0.5, 0.8, -2.0]))
    logp, ref = torch.tensor([-1.0, -2.0]), torch.tensor([-1.0, -1.0])
    torch.testing.assert_close(kl_k3(logp, ref), torch.tensor([0.0, float(np.exp(1.0) - 2.0)]))


# -- training -----------------------------------------------------------------------------------------

def test_two_updates_on_the_mini_suite(mini_suite_path, tmp_path):
    cfg = _config(mini_suite_path, tmp_path, eval_split=None, kl_coef=0.05, checkpoint_every=1, tensorboard=True)
    trainer = GRPOTrainer(cfg, policy_kwargs={"hidden_sizes": (32,)})
    before = [p.detach().clone() for p in trainer.policy.parameters()]
    records = trainer.train(2)
    trainer.close()
    assert [r["update"] for r in records] == [1, 2]
    for r in records:
        assert r["rollout/episodes"] == 8 and r["actions"] > 0
        assert all(np.isfinite(r[k]) for k in ("loss", "policy_loss", "entropy", "kl_ref", "clip_frac"))
        assert 0.0 <= r["rollout/score"] <= 1.0
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.policy.parameters()))
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["update"] for r in log] == [1, 2]
    assert (tmp_path / "run" / "checkpoints" / "update_00002.pt").is_file()
    assert (tmp_path / "run" / "checkpoints" / "last.pt").is_file()
    assert list((tmp_path / "run" / "tensorboard").iterdir())


def _params(trainer):
    return [p.detach().clone() for p in trainer.policy.parameters()]


def test_resume_continues_exactly(mini_suite_path, tmp_path):
    straight = GRPOTrainer(_config(mini_suite_path, tmp_path / "a", kl_coef=0.1, minibatches=2),
                           policy_kwargs={"hidden_sizes": (32,)})
    rec_straight = straight.train(4)
    straight.close()

    first = GRPOTrainer(_config(mini_suite_path, tmp_path / "b", kl_coef=0.1, minibatches=2),
                        policy_kwargs={"hidden_sizes": (32,)})
    first.train(2)
    ckpt = first.save_checkpoint(tmp_path / "b" / "mid.pt")
    first.close()
    resumed = GRPOTrainer.from_checkpoint(ckpt, log_dir=str(tmp_path / "c"))
    assert resumed.update_count == 2 and resumed.episodes_seen == 16
    rec_resumed = resumed.train(2)
    resumed.close()

    for a, b in zip(_params(straight), _params(resumed)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for a, b in zip(rec_straight[2:], rec_resumed):
        for key in ("update", "rollout/score", "rollout/return", "rollout/frames", "loss", "kl_ref"):
            assert a[key] == b[key], key


def test_group_rollouts_start_identically(mini_suite_path, tmp_path):
    trainer = GRPOTrainer(_config(mini_suite_path, tmp_path, group_size=3, num_envs=2),
                          policy_kwargs={"hidden_sizes": (16,)})
    groups = trainer.group_options(0)
    assert all(len({json.dumps(o, sort_keys=True) for o in g}) == 1 for g in groups)
    episodes = trainer.collect(groups)
    trainer.close()
    for group in episodes:
        first = group[0]
        for ep in group[1:]:
            for key in first.obs:
                np.testing.assert_array_equal(ep.obs[key][0], first.obs[key][0])
            np.testing.assert_array_equal(ep.masks[0], first.masks[0])
    # the env side: one group id = the same task and the same perception-noise draws
    env = gym.make("CVRSim-v0", suite=str(mini_suite_path), split=None, disable_env_checker=True,
                   perception_noise={"miss_prob": 0.5, "confusion_prob": 0.3})
    call = {"name": "observe", "arguments": {"targets": [{"video": 1, "start": 0, "end": 30, "num_frames": 16}]}}
    seen = []
    for seed in (1, 2):
        obs, info = env.reset(seed=seed, options={"group_id": "g-7"})
        out = env.step(call)[0]
        seen.append((obs, info["task_id"], out))
    assert seen[0] == seen[1]


def test_evaluate_and_checkpoint_agent_match(mini_suite_path, tmp_path):
    from baselines import play_episode
    from baselines.checkpoint_agent import CheckpointAgent, make_agent

    cfg = _config(mini_suite_path, tmp_path, env_kwargs={})
    trainer = GRPOTrainer(cfg, policy_kwargs={"hidden_sizes": (32,)})
    trainer.train(1)
    path = trainer.save_checkpoint(tmp_path / "agent.pt")
    result = trainer.evaluate(split=None)
    trainer.close()
    assert result["episodes"] == 6 and 0.0 <= result["score"] <= 1.0

    policy, meta = load_policy(path)
    assert not policy.training and meta["update"] == 1
    agent = make_agent(str(path), seed=0)
    assert isinstance(agent, CheckpointAgent) and agent.name == "checkpoint:agent.pt"
    env = gym.make("CVRSim-v0", suite=str(mini_suite_path), split=None, disable_env_checker=True)
    scores, frames = [], []
    for i in range(6):
        info = play_episode(env, agent, {"task_index": i, "group_id": f"eval-None-{i}"}, seed=0)
        scores.append(info["score"] or 0.0)
        frames.append(info["totals"]["frames"])
    # the wrapper-free agent reproduces the trainer's greedy evaluation
    assert np.mean(scores) == pytest.approx(result["score"])
    assert np.mean(frames) == pytest.approx(result["frames"])


def test_train_cli(mini_suite_path, tmp_path, capsys):
    from cvr_gym.cli import main

    out = tmp_path / "cli"
    code = main(["train", "--suite", str(mini_suite_path), "--split", "all", "--eval-split", "none",
                 "--select-split", str(mini_suite_path), "--eval-every", "1",
                 "--updates", "2", "--group-size", "2", "--tasks-per-update", "2", "--num-envs", "2",
                 "--hidden", "16", "--scales", "1,2", "--frame-counts", "8", "--out", str(out), "--no-progress"])
    assert code == 0
    assert (out / "checkpoints" / "last.pt").is_file() and (out / "learning_curve.png").is_file()
    assert (out / "checkpoints" / "best.pt").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["updates"] == 2 and summary["best"]["update"] in (0, 1, 2)
    # resume to 3 updates in total
    code = main(["train", "--suite", str(mini_suite_path), "--split", "all", "--eval-split", "none",
                 "--select-split", "none", "--updates", "3", "--resume", str(out / "checkpoints" / "last.pt"), "--out", str(out), "--no-progress"])
    assert code == 0 and json.loads((out / "summary.json").read_text())["updates"] == 3
    assert "Summary" in capsys.readouterr().out


def test_train_cli_llm_without_module(monkeypatch, capsys):
    import argparse
    import importlib.util

    from cvr_gym.cli import train as train_cli

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "trl" else real_find_spec(name, *a))
    code = train_cli.run(argparse.Namespace(policy="llm"))
    assert code == 2
    assert "--policy llm needs" in capsys.readouterr().err
