"""Ray env actors and the Ray vector env: same records as local runs, dead workers replaced."""

from __future__ import annotations

import json
import os
import signal
from functools import partial

import gymnasium as gym
import numpy as np
import pytest

ray = pytest.importorskip("ray")

import cvr_gym  # noqa: E402,F401
from cvr_gym.cli import main  # noqa: E402
from cvr_gym.core.actions import ToolCall  # noqa: E402
from cvr_gym.envs.ray_vector import RayVectorEnv, init_ray  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    init_ray("local", num_cpus=2)
    yield
    ray.shutdown()


def _records(path):
    """Records without wall-clock times (the only thing allowed to differ between runs)."""
    out = []
    for line in open(path, encoding="utf-8"):
        rec = json.loads(line)
        rec["costs"] = {k: v for k, v in rec["costs"].items() if not k.startswith("wall")}
        out.append(rec)
    return sorted(out, key=lambda r: r["episode"])


EVAL = ["eval", "--agent", "heuristic", "--episodes", "6", "--seed", "3", "--no-progress", "--json"]


def test_ray_eval_with_two_workers_equals_local_run(tmp_path, capsys):
    assert main(EVAL + ["--out", str(tmp_path / "local.jsonl")]) == 0
    local = json.loads(capsys.readouterr().out)
    assert main(EVAL + ["--out", str(tmp_path / "ray.jsonl"), "--ray", "local", "--workers", "2"]) == 0
    remote = json.loads(capsys.readouterr().out)
    assert remote["families"] == local["families"]  # the same score and costs per family
    a, b = _records(tmp_path / "local.jsonl"), _records(tmp_path / "ray.jsonl")
    assert len(a) == 6 and a == b  # the same frames, actions, observations, rewards per episode
    assert [r["costs"]["frames"] for r in a] == [r["costs"]["frames"] for r in b]


def test_ray_eval_resume_completes_an_interrupted_file(tmp_path, capsys):
    full, part = tmp_path / "full.jsonl", tmp_path / "part.jsonl"
    assert main(EVAL + ["--out", str(full), "--ray", "local", "--workers", "2"]) == 0
    lines = full.read_text(encoding="utf-8").splitlines(keepends=True)
    part.write_text("".join(lines[:2]) + lines[2][: len(lines[2]) // 2], encoding="utf-8")  # killed mid-write
    assert main(EVAL + ["--out", str(part), "--ray", "local", "--workers", "2", "--resume"]) == 0
    capsys.readouterr()
    assert _records(part) == _records(full)


def test_workers_needs_ray(capsys):
    assert main(["eval", "--workers", "2", "--no-progress"]) == 2
    assert "--workers needs --ray" in capsys.readouterr().err


_sim = partial(gym.make, "CVRSim-v0", disable_env_checker=True)  # importable on the workers


def _play(venv, actions, seeds):
    """Reset with ``seeds`` then step ``actions`` (one tuple per step); all observations/rewards."""
    obs, _ = venv.reset(seed=seeds, options={"task_index": 2})
    trace = [list(obs)]
    for batch in actions:
        obs, rew, term, trunc, info = venv.step(batch)
        trace.append((list(obs), rew.tolist(), term.tolist(), trunc.tolist()))
    return trace


OBSERVE = ToolCall.observe(video=1, start=0.0, end=20.0, num_frames=8)
LISTEN = ToolCall.listen(video=1, start=0.0, end=30.0)
STEPS = [(OBSERVE, LISTEN), (LISTEN, OBSERVE), (OBSERVE, OBSERVE), (ToolCall.answer("A"), ToolCall.answer("B"))]


def test_dead_actor_is_replaced_and_its_episode_rerun():
    from gymnasium.vector import AutoresetMode, SyncVectorEnv

    local = SyncVectorEnv([_sim, _sim], autoreset_mode=AutoresetMode.DISABLED)
    expected = _play(local, STEPS, [11, 12])
    local.close()

    venv = RayVectorEnv([_sim, _sim], autoreset_mode=AutoresetMode.DISABLED)
    try:
        obs, _ = venv.reset(seed=[11, 12], options={"task_index": 2})
        got = [list(obs)]
        for k, batch in enumerate(STEPS):
            if k == 2:  # the worker of sub-env 1 dies in the middle of its episode
                os.kill(venv.describe_workers()[1]["pid"], signal.SIGKILL)
            obs, rew, term, trunc, _ = venv.step(batch)
            got.append((list(obs), rew.tolist(), term.tolist(), trunc.tolist()))
        assert got == expected
        assert venv.restarts == [0, 1]
        assert [w["builds"] for w in venv.describe_workers()] == [1, 1]
    finally:
        venv.close()


def test_unseeded_reset_reruns_alike_after_a_death():
    """A reset without seed draws its task from the env's RNG; the replacement restores that RNG."""
    fns = [_sim]
    venv = RayVectorEnv(fns)
    sync = gym.vector.SyncVectorEnv(fns)
    try:
        for v in (venv, sync):
            v.reset(seed=5)
        seq_remote, seq_local = [], []
        for _ in range(3):  # unseeded resets: tasks drawn from np_random
            seq_local.append(sync.reset()[1]["task_id"][0])
            seq_remote.append(venv.reset()[1]["task_id"][0])
            sync.step((OBSERVE,))
            os.kill(venv.describe_workers()[0]["pid"], signal.SIGKILL)
            obs_r = venv.step((OBSERVE,))[0]
        assert seq_remote == seq_local
        assert venv.restarts == [3]
        assert list(obs_r)[0]
    finally:
        venv.close()
        sync.close()


@pytest.mark.real
def test_perception_models_load_once_per_actor():
    """Real env in two actors: each builds its env (and perception backends) once for all episodes,
    and a remote real step reads the same evidence as a local one."""
    from gymnasium.vector import AutoresetMode

    make_real = partial(gym.make, "CVRReal-v0", suite="corpus", split="test", disable_env_checker=True)
    venv = RayVectorEnv([make_real] * 2, autoreset_mode=AutoresetMode.DISABLED)
    local = make_real()
    try:
        before = venv.describe_workers()
        look = ToolCall.observe(video=1, start=0.0, end=4.0, num_frames=2)
        for seed in (1, 2):
            venv.reset(seed=[seed, seed + 10], options={"task_index": seed})
            local.reset(seed=seed, options={"task_index": seed})
            obs = venv.step((look, look))[0]
            assert obs[0] == local.step(look)[0]
        after = venv.describe_workers()
        assert before == after and [w["builds"] for w in after] == [1, 1]
        assert len({w["pid"] for w in after}) == 2
    finally:
        venv.close()
        local.close()


def test_grpo_rollouts_on_ray_equal_sync_rollouts():
    import torch

    from cvr_gym.train.config import GRPOConfig
    from cvr_gym.train.policy import MLPPolicy
    from cvr_gym.train.rollout import make_vector_env, run_episodes

    base = dict(group_size=2, tasks_per_update=1, updates=1, num_envs=2, eval_split=None, max_steps=4)
    sync_cfg, ray_cfg = GRPOConfig(**base), GRPOConfig(**base, vectorization="ray")
    options = [{"task_index": 1, "group_id": "g1"}, {"task_index": 1, "group_id": "g1"}, {"task_index": 4, "group_id": "g2"}]
    out = []
    for cfg in (sync_cfg, ray_cfg):
        envs = make_vector_env(cfg, cfg.split)
        try:
            torch.manual_seed(0)
            pol = MLPPolicy(envs.single_observation_space, int(envs.single_action_space.n), hidden_sizes=(32,))
            out.append(run_episodes(envs, pol, options, generator=torch.Generator().manual_seed(7)))
        finally:
            envs.close()
    a, b = out
    assert [e.actions for e in a] == [e.actions for e in b]
    assert [e.ret for e in a] == [e.ret for e in b] and [e.frames for e in a] == [e.frames for e in b]
    assert all(np.allclose(x.logps, y.logps) for x, y in zip(a, b))


@pytest.mark.real
def test_ray_compare_equals_local_compare(tmp_path, capsys):
    args = ["compare", "--agent", "single-pass:4", "--episodes", "2", "--json", "--env-arg", "max_steps=3"]
    assert main(args + ["--out", str(tmp_path / "local")]) == 0
    assert main(args + ["--out", str(tmp_path / "ray"), "--ray", "local", "--workers", "2"]) == 0
    capsys.readouterr()

    def episodes(folder):
        def strip(x):
            if isinstance(x, dict):
                return {k: strip(v) for k, v in x.items() if not k.startswith("wall")}
            return [strip(v) for v in x] if isinstance(x, list) else x

        return strip(json.loads((tmp_path / folder / "compare.json").read_text(encoding="utf-8"))["episodes"])

    local, remote = episodes("local"), episodes("ray")
    assert len(local) == 2 and local == remote


def test_workers_must_be_positive(capsys):
    assert main(["eval", "--ray", "local", "--workers", "0", "--no-progress"]) == 2
    assert main(["compare", "--ray", "local", "--workers", "0"]) == 2
    assert capsys.readouterr().err.count("--workers") == 2
