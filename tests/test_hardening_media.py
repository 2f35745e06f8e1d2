"""Regression tests for real perception on odd media: frame reuse at high resolution, truncated
files and declared durations longer than the file."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from cvr_gym.perception.decode import MediaError, MediaReader
from cvr_gym.perception.offline_visual import OfflineVisualBackend

pytestmark = pytest.mark.real


def clock_video(path: Path, seconds: float, size=(1920, 1080), fps: int = 4, font_size: int = 40) -> Path:
    """Each frame shows its own time as ``T=000.2`` in small black text on white."""
    font = ImageFont.load_default(size=font_size)
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=fps, options={"g": str(fps), "preset": "ultrafast"})
        vs.width, vs.height = size
        vs.pix_fmt = "yuv420p"
        for i in range(int(round(seconds * fps))):
            img = Image.new("RGB", size, (255, 255, 255))
            ImageDraw.Draw(img).text((size[0] // 3, size[1] // 2), f"T={i / fps:05.2f}", fill=(0, 0, 0), font=font)
            for p in vs.encode(av.VideoFrame.from_image(img)):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return clock_video(tmp_path_factory.mktemp("clock") / "clock.mp4", 4.0)


def _read_times(records) -> list[str]:
    out = []
    for recs in records:
        texts = [r.content for r in recs if r.kind == "text"]
        found = [m.group(1) for t in texts for m in [re.search(r"(\d+\.\d\d)", t)] if m]
        out.append(float(found[0]) if found else None)
    return out


def test_each_1080p_frame_is_read_as_it_is(clip):
    # 8 frames over 0-4 s (bin centres), each a different picture that differs from the previous
    # one by a few hundred pixels only: every one must be read, none reused.
    times = [0.25 + 0.5 * k for k in range(8)]
    with MediaReader(clip, max_side=None) as reader:
        frames = reader.frames_at(times)
    assert frames[0].shape == (1080, 1920, 3)
    got = _read_times(OfflineVisualBackend(objects=False, background=False).describe(frames, times, ""))
    assert got == times


def test_each_frame_is_read_through_the_real_env(clip, tmp_path):
    from cvr_gym.envs.real import make_real_env

    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "clock.mp4").write_bytes(clip.read_bytes())
    task = {"id": "clock", "family": "ocr", "question": "What time is shown?", "answer_type": "free_text",
            "answer": "x", "videos": [{"index": 1, "path": "clock.mp4", "duration": 4.0, "fps": 4, "has_audio": False}]}
    (suite / "tasks.jsonl").write_text(json.dumps(task) + "\n")
    env = make_real_env(suite=str(suite / "tasks.jsonl"), split=None, perceiver_options={"cache": "private"})
    try:
        env.reset(seed=0)
        _, _, _, _, info = env.step({"name": "observe", "arguments": {
            "targets": [{"video": 1, "start": 0, "end": 4, "num_frames": 8}]}})
        texts = sorted({e["content"] if isinstance(e, dict) else e.content for e in info["evidence"]})
    finally:
        env.close()
    read = {float(m.group(1)) for t in texts for m in [re.search(r"(\d+\.\d\d)", t)] if m}
    assert read == {0.25 + 0.5 * k for k in range(8)}


def _write_mkv(path: Path, seconds: float, fps: int = 10) -> Path:
    with av.open(str(path), "w", format="matroska") as c:
        vs = c.add_stream("libx264", rate=fps, options={"g": "5", "preset": "ultrafast"})
        vs.width, vs.height, vs.pix_fmt = 160, 120, "yuv420p"
        for i in range(int(seconds * fps)):
            arr = np.full((120, 160, 3), (i * 7) % 256, np.uint8)
            for p in vs.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
    return path


@pytest.fixture(scope="module")
def cut_suite(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cut")
    whole = _write_mkv(root / "whole.mkv", 8.0)
    data = whole.read_bytes()
    (root / "cut.mkv").write_bytes(data[: len(data) // 2])  # intact header, half the frames
    tasks = [
        {"id": "cut", "family": "BU", "question": "q?", "answer_type": "count", "answer": 1,
         "videos": [{"index": 1, "path": "cut.mkv", "duration": 8.0, "fps": 10, "has_audio": False}]},
        {"id": "whole", "family": "BU", "question": "q?", "answer_type": "count", "answer": 1,
         "videos": [{"index": 1, "path": "whole.mkv", "duration": 8.0, "fps": 10, "has_audio": False}]},
        {"id": "claims-more", "family": "BU", "question": "q?", "answer_type": "count", "answer": 1,
         "videos": [{"index": 1, "path": "whole.mkv", "duration": 12.0, "fps": 10, "has_audio": False}]},
    ]
    (root / "tasks.jsonl").write_text("\n".join(json.dumps(t) for t in tasks) + "\n")
    return root


def test_truncated_file_reports_where_its_frames_end(cut_suite):
    with MediaReader(cut_suite / "cut.mkv") as reader:
        assert reader.info.duration > 7.5  # the header still claims the whole clip
        end = reader.decodable_end()
        assert 1.0 < end < 6.0
        reader.frames_at([1.0, 7.5])
        assert reader.past_end_times == [7.5]
    with MediaReader(cut_suite / "whole.mkv") as reader:
        assert reader.decodable_end() == pytest.approx(8.0, abs=0.11)


@pytest.mark.parametrize("task_id, declared", [("cut", "8"), ("claims-more", "12")])
def test_reset_refuses_a_file_shorter_than_the_task_says(cut_suite, task_id, declared):
    from cvr_gym.envs.real import make_real_env

    env = make_real_env(suite=str(cut_suite / "tasks.jsonl"), split=None, perceiver_options={"cache": "private"})
    try:
        with pytest.raises(MediaError, match=rf"declares {declared} s but frames decode only up to") as err:
            env.reset(options={"task_id": task_id})
        assert task_id in str(err.value)
        env.reset(options={"task_id": "whole"})  # the intact file passes
        _, _, _, _, info = env.step({"name": "observe", "arguments": {
            "targets": [{"video": 1, "start": 6, "end": 8, "num_frames": 4}]}})
        assert info["parse_error"] is None
    finally:
        env.close()


def test_past_the_end_reads_are_reported_not_served_stale(cut_suite):
    from cvr_gym.core.suites import load_suite
    from cvr_gym.perception.base import PerceptionError
    from cvr_gym.envs.video_perceiver import VideoPerceiver

    suite = load_suite(str(cut_suite / "tasks.jsonl"), split=None)
    perceiver = VideoPerceiver(cache="private")
    task = suite[suite.index_of("whole")]
    perceiver.load_task(task, suite)
    (cut_suite / "whole.mkv").write_bytes((cut_suite / "cut.mkv").read_bytes())  # the file shrinks
    try:
        with pytest.raises(PerceptionError, match="has no frame at 7.50 s"):
            perceiver.observe(task, 1, np.array([1.0, 7.5]), "", np.random.default_rng(0))
        assert perceiver.stats.past_end_reads == 1
    finally:
        perceiver.close()
        _write_mkv(cut_suite / "whole.mkv", 8.0)


@pytest.mark.parametrize("err", [MediaError("/data/x.mp4", "no such file"), MediaError("just a message")])
def test_media_error_pickles_and_rebuilds_from_its_message(err):
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is MediaError and str(back) == str(err) and back.problem == err.problem
    rebuilt = MediaError(str(err))  # how vector-env workers re-raise
    assert str(rebuilt) == str(err) and rebuilt.path == err.path
