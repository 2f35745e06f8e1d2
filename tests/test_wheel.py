"""The built wheel carries the bundled data: both envs run from an installed wheel, in any folder."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import sys
    import gymnasium as gym
    import cvr_gym
    from cvr_gym import ToolCall

    assert cvr_gym.__file__.startswith(sys.argv[1]), cvr_gym.__file__
    env = gym.make("CVRSim-v0", suite="default", split="test")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(ToolCall.observe(1, 0, 10, num_frames=4))
    obs, reward, terminated, truncated, info = env.step(ToolCall.answer("A"))
    assert terminated and info["score"] is not None
    real = gym.make("CVRReal-v0", suite="corpus")
    obs, info = real.reset(seed=0)
    obs, reward, terminated, truncated, info = real.step(ToolCall.observe(1, 0, 4, num_frames=2))
    assert info["totals"]["frames"] == 2, info["totals"]
    print("wheel ok", len(env.unwrapped.suite), len(real.unwrapped.suite))
""")


@pytest.mark.slow
def test_installed_wheel_runs_both_envs_on_bundled_data(tmp_path):
    pytest.importorskip("hatchling")
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(wheels), str(ROOT)], check=True, cwd=tmp_path)
    (wheel,) = wheels.glob("cvr_gym-*.whl")
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "HF_HUB_OFFLINE": "1"}
    env.pop("CVR_GYM_DATA", None)
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(target)], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "wheel ok 220 44" in out.stdout
