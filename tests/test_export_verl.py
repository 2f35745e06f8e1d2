"""`cvr-gym export-verl`: verl's parquet rows and agent-loop YAML (verl itself: tests/test_verl.py)."""

from __future__ import annotations

import json

import pytest

pq = pytest.importorskip("pyarrow.parquet")

from cvr_gym.cli import main  # noqa: E402


def test_export_verl_writes_rows_and_loop_yaml(tmp_path, capsys):
    assert main(["export-verl", "--out", str(tmp_path), "--split", "train", "--max-tasks", "4", "--repeats", "2",
                 "--env-arg", "frame_budget=512"]) == 0
    assert "train.parquet" in capsys.readouterr().out
    rows = pq.read_table(tmp_path / "train.parquet").to_pylist()
    assert len(rows) == 8
    first, again = rows[0], rows[4]  # the same task in the second repeat: its own group
    assert first["extra_info"]["task_id"] == again["extra_info"]["task_id"]
    assert first["extra_info"]["group_id"] != again["extra_info"]["group_id"]
    assert first["agent_name"] == "cvr_agent" and first["reward_model"]["style"] == "env"
    assert [m["role"] for m in first["prompt"]] == ["system", "user"]
    assert "Question:" in first["prompt"][1]["content"]
    assert json.loads(first["reward_model"]["ground_truth"]) is not None
    assert [r["extra_info"]["index"] for r in rows] == list(range(8))

    yaml = (tmp_path / "agent_loop.yaml").read_text(encoding="utf-8")
    assert "- name: cvr_agent" in yaml and "_target_: cvr_gym.integrations.verl.CVRAgentLoop" in yaml
    assert '"frame_budget": 512' in yaml and '"split": "train"' in yaml


def test_export_verl_rejects_bad_counts(tmp_path, capsys):
    assert main(["export-verl", "--out", str(tmp_path), "--repeats", "0"]) == 2
    assert "--repeats" in capsys.readouterr().err
