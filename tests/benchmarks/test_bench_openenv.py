"""OpenEnv: per-step overhead of a step over ``cvr-gym serve`` against the same step locally.

Run with ``--benchmark-only -k openenv``. Both time one ``CVRSim-v0`` observe step (microseconds
of work); ``remote`` goes through :class:`~cvr_gym.integrations.openenv.RemoteCVREnv` to a server
on loopback (WebSocket round trip, JSON of the observation and info), so the difference of the
medians is the protocol's cost per step.
"""

from __future__ import annotations

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
from cvr_gym.core.actions import ToolCall  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ENDLESS = ["--env-arg", "max_steps=1000000000", "--env-arg", "frame_budget=1000000000000"]


@pytest.fixture(scope="module")
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-c", "import sys; from cvr_gym.cli import main; sys.exit(main())", "serve",
           "--port", str(port), "--suite", "default", "--split", "test", *ENDLESS]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(url + "/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.benchmark(group="openenv-overhead")
@pytest.mark.parametrize("kind", ["local", "remote"])
def test_bench_openenv_step_overhead(benchmark, server, kind):
    settings = {"suite": "default", "split": "test", "max_steps": 10**9, "frame_budget": 10**12}
    env = (gym.make("CVRSim-v0", disable_env_checker=True, **settings) if kind == "local"
           else gym.make("CVRRemote-v0", url=server, disable_env_checker=True, **settings))
    try:
        env.reset(seed=0)
        action = ToolCall.observe(video=1, start=0.0, end=30.0, num_frames=8)
        benchmark.pedantic(env.step, args=(action,), rounds=2000, iterations=1, warmup_rounds=50)
    finally:
        env.close()
