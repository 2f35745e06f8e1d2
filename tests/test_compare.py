"""Sim vs real comparison: matching, recall/precision by hand, and a paired run on a tiny video."""

import json

import pytest
from PIL import ImageDraw

from cvr_gym.evaluation.compare import CompareConfig, evidence_matches, recall_precision, run_comparison, summarise
from cvr_gym.core.evidence import Evidence

from test_real_env import write_video


def ev(kind, content, video=1):
    return Evidence(video, 0.0, 1.0, kind, content)


def test_evidence_matches_is_fuzzy_within_kind_groups():
    assert evidence_matches(ev("text", "STEP 3: ADD SALT"), ev("text", "STEP 3: ADD SALI"), 0.7)
    assert evidence_matches(ev("speech", "hello there"), ev("sound", "hello there"), 0.7)  # both audio
    assert not evidence_matches(ev("text", "ADD SALT"), ev("object", "ADD SALT"), 0.7)
    assert not evidence_matches(ev("text", "ADD SALT", 1), ev("text", "ADD SALT", 2), 0.7)
    assert not evidence_matches(ev("text", "ADD SALT"), ev("text", "WHISK EGGS"), 0.7)
    assert evidence_matches(ev("object", "2 x red cube"), ev("object", "2 x Red cube"), 0.7)
    assert not evidence_matches(ev("object", "2 x red cube"), ev("object", "3 x red cube"), 0.7)  # counts exact


def test_recall_precision_hand_values():
    truth = [ev("text", "RED DOOR"), ev("text", "BLUE CAR"), ev("object", "2 red objects")]
    found = [ev("text", "RED DOOR"), ev("object", "2 red objects"), ev("text", "GREEN HAT"), ev("visual", "x")]
    # 2 of 3 truth records recovered; 2 of 4 reported records backed by the script
    assert recall_precision(truth, found, 0.7) == (pytest.approx(2 / 3), 0.5)
    assert recall_precision([], found, 0.7) == (None, 0.0)
    assert recall_precision(truth, [], 0.7) == (0.0, None)


def test_summarise_hand_values():
    def side(score, wall, recall=None):
        return {"score": score, "frames": 8, "steps": [{"wall_s": wall, "recall": recall, "precision": recall}]}
    episodes = [
        {"family": "MOC", "sim": side(1.0, 0.001), "real": side(1.0, 1.0, 1.0), "agree": True},
        {"family": "MOC", "sim": side(1.0, 0.001), "real": side(0.0, 3.0, 0.5), "agree": False},
    ]
    s = summarise(episodes)["ALL"]
    assert s["sim_score"] == 1.0 and s["real_score"] == 0.5 and s["real_over_sim"] == 0.5
    assert s["answer_agreement"] == 0.5 and s["evidence_recall"] == 0.75
    assert s["speed_ratio"] == pytest.approx(2000.0)


@pytest.mark.real
def test_paired_and_replay_runs_on_a_tiny_video(tmp_path):
    def draw(d: ImageDraw.ImageDraw, t, font):
        if t < 2:
            d.text((20, 100), "RED DOOR", fill=(0, 0, 0), font=font)

    write_video(tmp_path / "a.mp4", 4.0, draw)
    task = {"id": "door", "family": "BU", "answer_type": "single", "answer": "A",
            "question": "What does the sign in the video say?", "options": ["RED DOOR", "BLUE CAR"],
            "videos": [{"index": 1, "duration": 4.0, "fps": 10, "has_audio": False, "path": "a.mp4",
                        "script": [{"start": 0, "end": 2, "kind": "text", "content": "RED DOOR"}]}]}
    suite = tmp_path / "tasks.jsonl"
    suite.write_text(json.dumps(task) + "\n")
    for mode in ("paired", "replay"):
        config = CompareConfig(agent="single-pass:4,reader=generic", suite=str(suite), split=None, mode=mode)
        result = run_comparison(config)
        row = result["summary"]["ALL"]
        assert row["n"] == 1 and row["sim_score"] == 1.0 and row["real_score"] == 1.0
        assert row["answer_agreement"] == 1.0 and row["evidence_recall"] == 1.0
        assert row["speed_ratio"] > 1
