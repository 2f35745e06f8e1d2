"""Shared fixtures: a small hand-written suite so core tests do not depend on the generator."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")


def _video(index, duration, items, has_audio=True):
    return {"index": index, "duration": duration, "has_audio": has_audio, "script": items}


MINI_TASKS = [
    {
        "id": "car-colour", "family": "BU", "answer_type": "single", "answer": "B",
        "question": "Which colour is the car that appears in both videos?",
        "options": ["red", "blue", "green", "white"],
        "videos": [
            _video(1, 60, [
                {"start": 0, "end": 20, "kind": "visual", "content": "a street with people"},
                {"start": 30, "end": 32, "kind": "object", "content": "blue car", "attributes": {"colour": "blue"}},
                {"start": 40, "end": 41, "kind": "object", "content": "red bicycle"},
                {"start": 10, "end": 15, "kind": "speech", "content": "look at that car"},
                {"start": 50, "end": 51, "kind": "sound", "content": "car horn"},
            ]),
            _video(2, 40, [
                {"start": 5, "end": 8, "kind": "object", "content": "blue car"},
                {"start": 20, "end": 25, "kind": "text", "content": "PARKING — 停车"},
            ], has_audio=False),
        ],
        "evidence": [{"video": 1, "start": 30, "end": 32}, {"video": 2, "start": 5, "end": 8}],
    },
    {
        "id": "count-cups", "family": "MOC", "answer_type": "count", "answer": 5,
        "question": "How many cups are there in all videos together?",
        "videos": [
            _video(1, 30, [{"start": 2, "end": 6, "kind": "object", "content": "2 cups"}]),
            _video(2, 45, [{"start": 10, "end": 12, "kind": "object", "content": "3 cups"}]),
            _video(3, 90, [{"start": 0, "end": 90, "kind": "visual", "content": "an empty table"}]),
        ],
        "evidence": [{"video": 1, "start": 2, "end": 6}, {"video": 2, "start": 10, "end": 12}],
    },
    {
        "id": "steps-order", "family": "PSS", "answer_type": "order", "answer": ["C", "A", "B"],
        "question": "Put the steps in the order they happen across the videos.",
        "options": ["crack the eggs", "whisk the eggs", "heat the pan"],
        "videos": [
            _video(1, 120, [{"start": 10, "end": 20, "kind": "visual", "content": "the cook heats the pan"}]),
            _video(2, 120, [{"start": 30, "end": 40, "kind": "visual", "content": "the cook cracks the eggs"},
                            {"start": 60, "end": 70, "kind": "visual", "content": "the cook whisks the eggs"}]),
        ],
        "evidence": [{"video": 1, "start": 10, "end": 20}, {"video": 2, "start": 30, "end": 70}],
    },
    {
        "id": "align-step", "family": "FSA", "answer_type": "interval", "answer": [40.0, 50.0], "answer_video": 2,
        "question": "When does video 2 show the step that video 1 shows at 10-20 s?",
        "videos": [
            _video(1, 60, [{"start": 10, "end": 20, "kind": "visual", "content": "tightening a bolt"}]),
            _video(2, 90, [{"start": 40, "end": 50, "kind": "visual", "content": "tightening a bolt"}]),
        ],
        "evidence": [{"video": 2, "start": 40, "end": 50}],
    },
    {
        "id": "which-videos", "family": "BU", "answer_type": "multi", "answer": ["A", "C"],
        "question": "In which videos does someone wave?",
        "options": ["video 1", "video 2", "video 3"],
        "videos": [
            _video(1, 30, [{"start": 3, "end": 5, "kind": "visual", "content": "a man waves"}]),
            _video(2, 30, [{"start": 3, "end": 5, "kind": "visual", "content": "a man sits"}]),
            _video(3, 30, [{"start": 20, "end": 22, "kind": "visual", "content": "a girl waves"}]),
        ],
        "evidence": [{"video": 1, "start": 3, "end": 5}, {"video": 3, "start": 20, "end": 22}],
    },
    {
        "id": "compare-dishes", "family": "CCQA", "answer_type": "free_text",
        "answer": "Video 1 fries the onions while video 2 boils them.",
        "scoring_points": ["video 1 fries the onions", "video 2 boils the onions"],
        "question": "How do the two cooks treat the onions differently?",
        "videos": [
            _video(1, 50, [{"start": 5, "end": 9, "kind": "visual", "content": "onions fried in oil"}]),
            _video(2, 50, [{"start": 15, "end": 19, "kind": "speech", "content": "now we boil the onions"}]),
        ],
        "evidence": [{"video": 1, "start": 5, "end": 9}, {"video": 2, "start": 15, "end": 19}],
    },
]


@pytest.fixture(scope="session")
def mini_suite_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("suite") / "mini.jsonl"
    path.write_text("\n".join(json.dumps(t, ensure_ascii=False) for t in MINI_TASKS) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def sim_env(mini_suite_path):
    import gymnasium as gym

    import cvr_gym  # noqa: F401  (registers the envs)

    env = gym.make("CVRSim-v0", suite=str(mini_suite_path), split=None, disable_env_checker=True)
    yield env
    env.close()
