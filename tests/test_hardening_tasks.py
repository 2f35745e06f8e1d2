"""Regression tests for hostile task files: non-finite numbers, BOMs, long names, escaping paths."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import gymnasium as gym
import pytest

import cvr_gym  # noqa: F401
from cvr_gym.core.suites import Suite, SuiteError, load_suite
from cvr_gym.core.tasks import Task


def _task(**video) -> dict:
    return {"id": "t", "family": "BU", "question": "q?", "answer_type": "count", "answer": 1,
            "videos": [{"index": 1, "duration": 3.0, "fps": 10, "has_audio": False, **video}]}


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


@pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN", "1e999"])
def test_non_finite_durations_are_refused(tmp_path, literal):
    line = json.dumps(_task(duration=12345)).replace("12345", literal)
    with pytest.raises(SuiteError, match="finite"):
        load_suite(_write(tmp_path / "t.jsonl", line + "\n"))


def test_a_utf8_byte_order_mark_is_not_content(tmp_path):
    suite = load_suite(_write(tmp_path / "t.jsonl", json.dumps(_task()) + "\n", encoding="utf-8-sig"))
    assert suite[0].id == "t"


@pytest.mark.parametrize("name", ["a" * 300 + ".jsonl", "d" * 300])
def test_file_names_too_long_give_a_suite_error(tmp_path, name):
    with pytest.raises(SuiteError, match="cannot be used as a suite"):
        load_suite(tmp_path / name)


@pytest.mark.parametrize("path", ["../outside.mp4", "a/../../outside.mp4", "/etc/passwd", "ok/\0.mp4"])
def test_video_paths_leaving_the_data_root_are_refused_everywhere(tmp_path, path):
    f = _write(tmp_path / "t.jsonl", json.dumps(_task(path=path)) + "\n")
    with pytest.raises(SuiteError, match="leaves the data root"):
        load_suite(f)
    with pytest.raises(SuiteError, match="leaves the data root"):
        gym.make("CVRSim-v0", tasks=[Task.model_validate(_task(path=path))], data_root=tmp_path)


def test_paths_inside_the_root_are_fine(tmp_path):
    f = _write(tmp_path / "t.jsonl", json.dumps(_task(path="media/../v.mp4")) + "\n")
    assert load_suite(f)[0].videos[0].path == "media/../v.mp4"
    Suite("x", (Task.model_validate(_task(path=str(tmp_path / "v.mp4"))),), tmp_path)


def test_suite_error_pickles_and_rebuilds_from_its_message(tmp_path):
    err = SuiteError(tmp_path / "t.jsonl", ["line 1: bad", "line 2: worse"])
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is SuiteError and str(back) == str(err) and back.problems == err.problems
    rebuilt = SuiteError(str(err))
    assert str(rebuilt) == str(err) and rebuilt.path == str(tmp_path / "t.jsonl")
