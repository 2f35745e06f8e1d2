"""OpenEnv: `cvr-gym serve` on loopback; RemoteCVREnv episodes equal local ones step by step."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import gymnasium as gym
import pytest

pytest.importorskip("openenv")
pytest.importorskip("uvicorn")

import cvr_gym  # noqa: E402,F401
from cvr_gym.cli import main  # noqa: E402
from cvr_gym.core.actions import ToolCall  # noqa: E402
from cvr_gym.evaluation.records import jsonable  # noqa: E402
from cvr_gym.integrations.openenv import RemoteCVREnv  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-c", "import sys; from cvr_gym.cli import main; sys.exit(main())",
           "serve", "--port", str(port), "--env", "CVRSim-v0", "--suite", "default", "--split", "test"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                pytest.fail(f"server exited: {proc.stdout.read()}")
            try:
                with urllib.request.urlopen(url + "/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


ACTIONS = [
    ToolCall.observe(video=1, start=0.0, end=20.0, num_frames=8, focus="what is shown"),
    '{"name": "listen", "arguments": {"video": 1, "start": 0, "end": 30}}',  # text, as a model writes it
    "not a tool call",  # invalid: an error observation and a format penalty, the same remotely
    {"name": "observe", "arguments": {"targets": [{"video": 2, "start": 5, "end": 15, "num_frames": 4}]}},
    ToolCall.answer("B"),
]


def _episode(env, seed, task_index):
    obs, info = env.reset(seed=seed, options={"task_index": task_index})
    out = [(obs, jsonable(info))]
    for action in ACTIONS:
        obs, reward, term, trunc, info = env.step(action)
        out.append((obs, reward, term, trunc, info))
        if term or trunc:
            break
    return out


def test_remote_episodes_equal_local_ones_step_by_step(server):
    local = gym.make("CVRSim-v0", suite="default", split="test")
    remote = gym.make("CVRRemote-v0", url=server, suite="default", split="test")
    try:
        assert remote.action_space == local.action_space and remote.observation_space == local.observation_space
        for seed, task in ((0, 0), (7, 3)):
            a, b = _episode(local, seed, task), _episode(remote, seed, task)
            assert len(a) == len(b) > 2
            assert a[0] == b[0]
            for x, y in zip(a[1:], b[1:]):
                assert x[:4] == y[:4]  # observation text, reward, terminated, truncated
                assert y[4]["evidence"] == x[4]["evidence"]  # Evidence records again
                assert jsonable(y[4]) == jsonable(x[4])
        state = remote.unwrapped.state()
        assert state.env_id == "CVRSim-v0" and state.step_count == len(b) - 1
    finally:
        local.close()
        remote.close()


def test_concurrent_sessions_are_isolated(server):
    one, two = RemoteCVREnv(server), RemoteCVREnv(server)
    try:
        _, i1 = one.reset(seed=1, options={"task_index": 0})
        _, i2 = two.reset(seed=2, options={"task_index": 5})
        assert i1["task_id"] != i2["task_id"]
        one.step(ACTIONS[0])
        assert two.state().step_count == 0 and one.state().step_count == 1
        assert one.step(ToolCall.answer("A"))[2] is True  # terminated: answering ends only its own episode
        assert two.step(ACTIONS[0])[2] is False
    finally:
        one.close()
        two.close()


def test_remote_env_refuses_other_settings(server):
    with pytest.raises(ValueError, match="split='train'"):
        RemoteCVREnv(server, split="train")


def test_eval_on_remote_env_equals_local_eval(server, tmp_path, capsys):
    args = ["eval", "--agent", "heuristic", "--episodes", "3", "--no-progress", "--json", "--suite", "default",
            "--split", "test"]
    assert main(args + ["--out", str(tmp_path / "local.jsonl")]) == 0
    local = json.loads(capsys.readouterr().out)
    assert main(args + ["--out", str(tmp_path / "remote.jsonl"), "--env", "CVRRemote-v0",
                        "--env-arg", f"url={server}"]) == 0
    remote = json.loads(capsys.readouterr().out)
    assert remote["families"] == local["families"]

    def strip(path):
        recs = [json.loads(line) for line in open(path, encoding="utf-8")]
        return [(r["score"], r["costs"]["frames"], r["actions"], r["observations"]) for r in recs]

    assert strip(tmp_path / "local.jsonl") == strip(tmp_path / "remote.jsonl")


def test_remote_env_exposes_what_trainers_read(server):
    local = gym.make("CVRSim-v0", suite="default", split="test").unwrapped
    remote = RemoteCVREnv(server)
    try:
        for name in ("system_prompt", "tools", "max_steps", "frame_budget"):
            assert getattr(remote, name) == jsonable(getattr(local, name)), name
        assert [t.id for t in remote.suite] == [t.id for t in local.suite]
    finally:
        remote.close()
        local.close()


def test_grpo_trainer_on_remote_env_equals_local_training(server, tmp_path):
    """The GRPO trainer, unchanged, on CVRRemote-v0: the same rollouts and losses as on CVRSim-v0."""
    pytest.importorskip("torch")
    from cvr_gym.train import GRPOConfig, GRPOTrainer

    base = dict(suite="default", split="test", eval_split=None, group_size=2, tasks_per_update=2, updates=2,
                num_envs=2, max_steps=12, checkpoint_every=0, seed=5)  # 12: the served default
    history = []
    for name, env_id, kwargs in (("local", "CVRSim-v0", {}), ("remote", "CVRRemote-v0", {"url": server})):
        trainer = GRPOTrainer(GRPOConfig(env_id=env_id, env_kwargs=kwargs, log_dir=str(tmp_path / name), **base))
        try:
            records = trainer.train()
            history.append([{k: v for k, v in r.items() if k != "time" and not k.endswith("_s")}  # wall times
                            for r in records])
        finally:
            trainer.close()
    local, remote = history
    assert len(local) == 2 and remote == local


def test_trl_adapter_on_remote_env_equals_local(server):
    """The TRL adapter's rows and tool calls over CVRRemote-v0 are those of the local env."""
    from cvr_gym.train.llm.datasets import build_rows
    from cvr_gym.train.llm.env_adapter import CVRToolEnv

    settings = {"suite": "default", "split": "test"}
    remote_kwargs = {**settings, "url": server}
    assert build_rows("CVRRemote-v0", remote_kwargs, max_tasks=3) == build_rows("CVRSim-v0", settings, max_tasks=3)
    transcripts = []
    for env_id, kwargs in (("CVRSim-v0", settings), ("CVRRemote-v0", remote_kwargs)):
        tool_env = CVRToolEnv(env_id, kwargs)
        try:
            out = [tool_env.reset(task_id="s0-test-BU-00001", group_id="g")]
            out.append(tool_env.observe([{"video": 1, "start": 0, "end": 30, "num_frames": 8}], focus="people"))
            out.append(tool_env.listen(video=2, start=0, end=20))
            out.append(tool_env.answer("B"))
            transcripts.append((out, tool_env.get_reward(), tool_env.done))
        finally:
            tool_env.env.close()
    assert transcripts[0] == transcripts[1] and transcripts[0][2] is True


def test_serve_binds_loopback_unless_told(monkeypatch, capsys):
    import cvr_gym.integrations.openenv as openenv

    calls = []
    monkeypatch.setattr(openenv, "serve", lambda *a, **kw: calls.append(kw))
    assert main(["serve", "--port", "8123"]) == 0
    assert calls[-1]["host"] == "127.0.0.1" and "warning" not in capsys.readouterr().err
    assert main(["serve", "--host", "0.0.0.0", "--port", "8123"]) == 0
    assert calls[-1]["host"] == "0.0.0.0" and "anyone who can reach it" in capsys.readouterr().err
