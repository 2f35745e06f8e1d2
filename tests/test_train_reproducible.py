"""A seeded ``cvr-gym train`` run reproduces bit for bit in another process: same log, same weights,
whatever the working directory, output path or Python's string-hash salt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from cvr_gym.train.grpo import read_checkpoint

# Small but complete: rollouts, updates, the test evaluation, the val selection and best.pt.
TRAIN = ["train", "--recipe", "active-search", "--updates", "3", "--tasks-per-update", "4",
         "--eval-every", "3", "--checkpoint-every", "0", "--no-progress", "--seed", "5"]
CLI = "import sys; from cvr_gym.cli import main; sys.exit(main(sys.argv[1:]))"


def _train(out: Path, cwd: Path, hash_seed: str) -> list[dict]:
    cwd.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", CLI, *TRAIN, "--out", str(out)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    # wall-clock fields are the only ones allowed to differ
    return [{k: v for k, v in row.items() if k != "time" and not k.endswith("_s")} for row in rows]


def _tensors(tree, prefix: str = "") -> dict[str, torch.Tensor]:
    """Every tensor of a (nested) state dict, by its dotted path."""
    if isinstance(tree, torch.Tensor):
        return {prefix: tree}
    if isinstance(tree, dict):
        return {k: v for key, sub in tree.items() for k, v in _tensors(sub, f"{prefix}.{key}").items()}
    return {}


def test_seeded_training_reproduces_across_processes(tmp_path):
    first = _train(tmp_path / "a" / "run", tmp_path / "cwd-a", "1")
    second = _train(tmp_path / "other-name", tmp_path / "cwd-b" / "deeper", "97")
    assert len(first) > 3 and first == second
    weights = [_tensors(read_checkpoint(p / "checkpoints" / "best.pt")["policy"])
               for p in (tmp_path / "a" / "run", tmp_path / "other-name")]
    assert weights[0] and weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
