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
