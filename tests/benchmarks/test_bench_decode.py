"""Real-env speed: window decoding, OCR, ASR and full steps. Run with --benchmark-only.

Target: decoding 8 frames in a 4 s window of a 10-minute video costs at most twice as much as
in a 30-second video (seeking makes the cost depend on the window, not the file length).
"""

from __future__ import annotations

import io
import json
import shutil
import statistics
import subprocess
import time
import wave
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from cvr_gym.envs.real import make_real_env
from cvr_gym.envs.video_perceiver import VideoPerceiver
from cvr_gym.perception.cache import PerceptionCache
from cvr_gym.perception.decode import MediaReader

pytestmark = pytest.mark.real

SIZE = (160, 120)
FPS = 10
RATE = 16_000


def _write(path: Path, seconds: float, audio: np.ndarray | None = None, size=SIZE, text: bool = False) -> Path:
    """h264 (g=10): a bright bar sweeps across a gradient, so frames differ; with ``text``, the
    frame also shows "second N" and a red disc (for realistic OCR work)."""
    w, h = size
    base = np.tile(np.linspace(0, 200, w, dtype=np.uint8)[None, :, None], (h, 1, 3))
    font = ImageFont.load_default(size=28)
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=FPS, options={"g": "10", "preset": "ultrafast", "tune": "zerolatency"})
        vs.width, vs.height = w, h
        vs.pix_fmt = "yuv420p"
        aus = None
        if audio is not None:
            aus = c.add_stream("aac", rate=RATE)
            aus.layout = "mono"
        for i in range(int(seconds * FPS)):
            img = base.copy()
            x = (i * 3) % w
            img[:, x:x + 8] = 255
            if text:
                pic = Image.fromarray(img)
                d = ImageDraw.Draw(pic)
                d.rectangle((0, 0, w, 50), fill=(255, 255, 255))
                d.text((10, 10), f"second {i // FPS}", fill=(0, 0, 0), font=font)
                d.ellipse((20, 150, 60, 190), fill=(220, 30, 30))
                img = np.asarray(pic)
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
        if aus is not None:
            for k in range(0, len(audio), 1024):
                chunk = np.ascontiguousarray(audio[None, k:k + 1024])
                af = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
                af.sample_rate, af.pts = RATE, k
                for p in aus.encode(af):
                    c.mux(p)
            for p in aus.encode():
                c.mux(p)
    return path


@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bench_media")
    return {"short": _write(root / "short.mp4", 30.0), "long": _write(root / "long.mp4", 600.0)}


def _times(t0: float) -> list[float]:
    return [t0 + (k + 0.5) * 0.5 for k in range(8)]  # 8 frames in [t0, t0 + 4]


def _interleaved_ms(calls: dict, rounds: int = 40) -> dict:
    """Median ms per call, measuring the calls in turn so load from other processes hits all alike."""
    samples = {k: [] for k in calls}
    for fn in calls.values():
        fn()
    for _ in range(rounds):
        for k, fn in calls.items():
            t = time.perf_counter()
            fn()
            samples[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) * 1000 for k, v in samples.items()}


@pytest.mark.parametrize("which, t0", [("short", 13.0), ("long", 298.0)])
def test_bench_decode_8_frames_in_4s(benchmark, videos, which, t0):
    with MediaReader(videos[which]) as reader:
        frames = benchmark.pedantic(reader.frames_at, args=(_times(t0),), rounds=50, iterations=1, warmup_rounds=3)
    assert len(frames) == 8


def test_bench_decode_long_vs_short(benchmark, videos):
    """The 10-minute file costs at most 2x the 30-second one, at its start, middle and end."""
    with MediaReader(videos["short"]) as short, MediaReader(videos["long"]) as long:
        calls = {"short": lambda: short.frames_at(_times(13.0))}
        calls.update({t0: (lambda t0=t0: long.frames_at(_times(t0))) for t0 in (10.0, 298.0, 590.0)})
        ms = _interleaved_ms(calls)
        ratios = {t0: ms[t0] / ms["short"] for t0 in (10.0, 298.0, 590.0)}
        benchmark.extra_info.update({"short_ms": round(ms["short"], 3),
                                     **{f"long_ms_at_{t0:g}s": round(ms[t0], 3) for t0 in ratios},
                                     **{f"ratio_at_{t0:g}s": round(r, 3) for t0, r in ratios.items()}})
        # The work itself (frames decoded per call) must not grow with the file's length.
        before_s, before_l = short.frames_decoded, long.frames_decoded
        short.frames_at(_times(13.0))
        long.frames_at(_times(298.0))
        work = (short.frames_decoded - before_s, long.frames_decoded - before_l)
        benchmark.extra_info["frames_decoded_short_long"] = work
        benchmark.pedantic(long.frames_at, args=(_times(298.0),), rounds=30, iterations=1)
    assert work[1] <= work[0] + 10, work  # at most one extra GOP
    assert max(ratios.values()) <= 2.0, ratios


def test_bench_sparse_scan_of_long_video(benchmark, videos):
    """8 frames over the whole 10 minutes: one seek per frame, not a full decode."""
    times = [(k + 0.5) * 75.0 for k in range(8)]
    with MediaReader(videos["long"]) as reader:
        benchmark.pedantic(reader.frames_at, args=(times,), rounds=20, iterations=1, warmup_rounds=2)


# -- perception -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def text_frame() -> np.ndarray:
    img = Image.new("RGB", (320, 240), (255, 255, 255))
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=28)
    for i, line in enumerate(["HELLO WORLD", "Round 42", "step 3: add salt"]):
        d.text((15, 15 + 45 * i), line, fill=(0, 0, 0), font=font)
    d.ellipse((30, 170, 80, 220), fill=(220, 30, 30))
    return np.asarray(img)


def test_bench_ocr_one_frame(benchmark, text_frame):
    from cvr_gym.perception.offline_visual import OfflineVisualBackend

    backend = OfflineVisualBackend()
    lines = benchmark.pedantic(backend._read_text, args=(text_frame,), rounds=10, iterations=1, warmup_rounds=1)
    assert [t for t, _, _ in lines] == ["HELLO WORLD", "Round 42", "step 3: add salt"]


def test_bench_describe_one_frame(benchmark, text_frame):
    """OCR plus colour descriptors, 320 x 240."""
    from cvr_gym.perception.offline_visual import OfflineVisualBackend

    backend = OfflineVisualBackend()
    benchmark.pedantic(backend.describe, args=([text_frame], [0.0], ""), rounds=10, iterations=1, warmup_rounds=1)


@pytest.fixture(scope="session")
def speech() -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    raw = subprocess.run(["espeak-ng", "--stdout", "the red car is parked near the old station and the "
                          "blue bus waits by the bridge"], capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(raw)) as w:
        rate, data = w.getframerate(), w.readframes(w.getnframes())
    x = np.frombuffer(data, np.int16).astype(np.float32) / 32768
    n = int(len(x) * RATE / rate)
    return np.interp(np.arange(n) * rate / RATE, np.arange(len(x)), x).astype(np.float32)


def test_bench_asr(benchmark, speech):
    """Whisper tiny.en (int8, 2 threads) plus sound events; divide by the clip length for ms per s."""
    from cvr_gym.perception.offline_audio import OfflineAudioBackend

    backend = OfflineAudioBackend()
    benchmark.extra_info["audio_seconds"] = round(len(speech) / RATE, 2)
    out = benchmark.pedantic(backend.transcribe, args=(speech, 0.0, ""), rounds=5, iterations=1, warmup_rounds=1)
    assert any(ev.kind == "speech" for ev in out)


# -- full steps -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def real_env(tmp_path_factory, speech):
    root = tmp_path_factory.mktemp("bench_env")
    audio = np.concatenate([speech, np.zeros(int(6 * RATE) - len(speech) % RATE, np.float32)])
    seconds = len(audio) / RATE
    _write(root / "clip.mp4", seconds, audio, size=(320, 240), text=True)
    task = {"id": "t", "family": "BU", "answer_type": "count", "answer": 1, "question": "How many?",
            "videos": [{"index": 1, "duration": seconds, "fps": FPS, "path": "clip.mp4"}]}
    (root / "tasks.jsonl").write_text(json.dumps(task) + "\n")
    cache = PerceptionCache()
    env = make_real_env(suite=str(root / "tasks.jsonl"), perceiver=VideoPerceiver(cache=cache))
    env.reset(options={"task_id": "t"})
    env.max_steps = env.frame_budget = 10**9
    yield env, cache
    env.close()


@pytest.mark.parametrize("tool", ["observe", "listen"])
def test_bench_real_step(benchmark, real_env, tool):
    """One uncached step on a 320 x 240 clip: observe 8 frames over 4 s (decode, OCR of 4 distinct
    pictures, descriptors), or listen to 4 s of speech (decode, Whisper, sound events)."""
    env, cache = real_env
    action = ({"name": "observe", "arguments": {"targets": [{"video": 1, "start": 0, "end": 4, "num_frames": 8}]}}
              if tool == "observe" else {"name": "listen", "arguments": {"video": 1, "start": 0, "end": 4}})
    benchmark.pedantic(env.step, args=(action,), setup=cache.clear, rounds=5, iterations=1, warmup_rounds=1)
