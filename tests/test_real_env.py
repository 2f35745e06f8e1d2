"""CVRReal-v0 end to end on tiny videos made here with PyAV: decoding, offline perception, errors."""

from __future__ import annotations

import fractions
import io
import json
import shutil
import subprocess
import wave
from pathlib import Path

import av
import gymnasium as gym
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

import cvr_gym  # noqa: F401  (registers the envs)
from cvr_gym.core.evidence import Evidence
from cvr_gym.envs import CVREnv, make_sim_env
from cvr_gym.envs.real import make_real_env
from cvr_gym.envs.video_perceiver import VideoPerceiver
from cvr_gym.perception.cache import PerceptionCache
from cvr_gym.perception.merge import merge_frames
from cvr_gym.perception.decode import MediaError, MediaReader, scaled_size
from cvr_gym.perception.offline_visual import CANONICAL_RGB

pytestmark = pytest.mark.real

RATE = 16_000
MS = fractions.Fraction(1, 1000)
WHITE, BLACK = (255, 255, 255), (0, 0, 0)
SPEECH = "the red car is parked near the station"


# -- media made for the tests ---------------------------------------------------------------------
def write_video(path: Path, seconds: float, draw, size=(320, 240), fps=10, audio=None,
                frame_times=None, pix_fmt="yuv420p") -> Path:
    """h264 (g=10) plus, if ``audio`` is given, mono 16 kHz AAC. ``draw(d, t, font)`` paints the
    frame at time t; ``frame_times`` (ms) makes the frame rate variable."""
    font = ImageFont.load_default(size=28)
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=fps, options={"g": "10", "preset": "ultrafast"})
        vs.width, vs.height = size
        vs.pix_fmt = pix_fmt
        if frame_times is not None:
            vs.codec_context.time_base = vs.time_base = MS
        aus = None
        if audio is not None:
            aus = c.add_stream("aac", rate=RATE)
            aus.layout = "mono"
        times_ms = frame_times or [round(i * 1000 / fps) for i in range(int(seconds * fps))]
        for ms in times_ms:
            img = Image.new("RGB", size, WHITE)
            draw(ImageDraw.Draw(img), ms / 1000, font)
            frame = av.VideoFrame.from_image(img)
            if frame_times is not None:
                frame.pts, frame.time_base = ms, MS
            for p in vs.encode(frame):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
        if aus is not None:
            for k in range(0, len(audio), 1024):
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio[None, k:k + 1024], dtype=np.float32),
                                                format="flt", layout="mono")
                af.sample_rate, af.pts = RATE, k
                for p in aus.encode(af):
                    c.mux(p)
            for p in aus.encode():
                c.mux(p)
    return path


def scene(d: ImageDraw.ImageDraw, t: float, font) -> None:
    """0-2 s: white, two text lines, 3 red circles, 2 blue squares. 2-4 s: blue, 1 yellow circle."""
    if t < 2.0:
        d.text((20, 15), "HELLO WORLD", fill=BLACK, font=font)
        d.text((20, 55), "Round 42", fill=BLACK, font=font)
        for i in range(3):
            d.ellipse((20 + 55 * i, 120, 60 + 55 * i, 160), fill=CANONICAL_RGB["red"])
        for i in range(2):
            d.rectangle((200 + 55 * i, 180, 240 + 55 * i, 220), fill=CANONICAL_RGB["blue"])
    else:
        d.rectangle((0, 0, 320, 240), fill=CANONICAL_RGB["blue"])
        d.text((20, 15), "SCENE TWO", fill=WHITE, font=font)
        d.ellipse((140, 120, 190, 170), fill=CANONICAL_RGB["yellow"])


def grey_by_time(d: ImageDraw.ImageDraw, t: float, font) -> None:
    """The frame's grey level encodes its time: 0.1 s -> 10."""
    v = int(round(t * 100))
    d.rectangle((0, 0, 400, 400), fill=(v, v, v))


def tones(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = 0.5 * np.sin(2 * np.pi * 1500 * t) * ((t >= 1.0) & (t < 1.5))
    x += 0.5 * np.sin(2 * np.pi * 300 * t) * ((t >= 2.5) & (t < 2.8))
    return x.astype(np.float32)


def espeak(text: str) -> np.ndarray:
    out = subprocess.run(["espeak-ng", "--stdout", text], capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(out)) as w:
        rate, raw = w.getframerate(), w.readframes(w.getnframes())
    x = np.frombuffer(raw, np.int16).astype(np.float32) / 32768
    n = int(len(x) * RATE / rate)
    return np.interp(np.arange(n) * rate / RATE, np.arange(len(x)), x).astype(np.float32)


def _task(task_id: str, *videos: tuple[str, float, bool]) -> dict:
    return {
        "id": task_id, "family": "BU", "answer_type": "count", "answer": 3,
        "question": "How many red objects are there?",
        "videos": [{"index": i, "duration": dur, "fps": 10, "has_audio": audio, "path": path}
                   for i, (path, dur, audio) in enumerate(videos, start=1)],
    }


@pytest.fixture(scope="module")
def suite_path(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("real")
    media = root / "media"
    media.mkdir()
    write_video(media / "scene.mp4", 4.0, scene, audio=tones(4.0))
    write_video(media / "silent.mp4", 2.0, scene)
    # Variable frame rate: gaps of 50 and 150 ms alternate.
    write_video(media / "vfr.mp4", 3.0, grey_by_time, frame_times=[i // 2 * 200 + (i % 2) * 50 for i in range(30)])
    (media / "empty.mp4").write_bytes(b"")
    (media / "corrupt.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    tasks = [
        _task("scene", ("media/scene.mp4", 4.0, True), ("media/silent.mp4", 2.0, True)),
        _task("long-claim", ("media/scene.mp4", 10.0, True)),  # the file is shorter than the task says
        _task("vfr", ("media/vfr.mp4", 2.9, False)),
        _task("missing", ("media/scene.mp4", 4.0, True), ("media/nowhere.mp4", 4.0, True)),
        _task("empty", ("media/empty.mp4", 4.0, True)),
        _task("corrupt", ("media/corrupt.mp4", 4.0, True)),
    ]
    if shutil.which("espeak-ng"):
        speech = espeak(SPEECH)
        audio = np.concatenate([np.zeros(RATE // 2, np.float32), speech, np.zeros(RATE // 2, np.float32)])
        seconds = np.ceil(len(audio) / RATE)
        audio = np.pad(audio, (0, int(seconds * RATE) - len(audio)))
        write_video(media / "speech.mp4", float(seconds), scene, audio=audio)
        tasks.append(_task("speech", ("media/speech.mp4", float(seconds), True)))
    path = root / "tasks.jsonl"
    path.write_text("\n".join(json.dumps(t) for t in tasks) + "\n")
    return path


@pytest.fixture(scope="module")
def module_cache() -> PerceptionCache:
    """Shared by the tests' envs, as by a GRPO group's: identical calls are perceived once."""
    return PerceptionCache()


@pytest.fixture
def env(suite_path, module_cache):
    env = make_real_env(suite=str(suite_path), perceiver_options={"cache": module_cache})
    yield env
    env.close()


def observe(env, video, start, end, n, focus=""):
    call = {"name": "observe", "arguments": {"targets": [{"video": video, "start": start, "end": end, "num_frames": n}],
                                            "focus": focus}}
    return env.step(call)


def listen(env, video, start, end):
    return env.step({"name": "listen", "arguments": {"video": video, "start": start, "end": end, "focus": ""}})


def contents(info, kind=None):
    return [ev.content for ev in info["evidence"] if kind is None or ev.kind == kind]


# -- the env ----------------------------------------------------------------------------------
def test_gym_make_gives_the_shared_env_class(suite_path):
    env = gym.make("CVRReal-v0", suite=str(suite_path))
    try:
        assert type(env.unwrapped) is CVREnv
        assert isinstance(env.unwrapped.perceiver, VideoPerceiver)
    finally:
        env.close()


def test_same_action_space_and_tools_as_the_simulator(suite_path):
    sim = make_sim_env(suite=str(suite_path))
    real = make_real_env(suite=str(suite_path))
    try:
        assert sim.action_space == real.action_space
        assert sim.unwrapped.tools == real.unwrapped.tools
        assert sim.observation_space == real.observation_space
    finally:
        real.close()


def test_ocr_reads_the_drawn_text_through_step(env):
    env.reset(options={"task_id": "scene"})
    obs, reward, terminated, truncated, info = observe(env, 1, 0.0, 2.0, 2)
    assert 'text: "HELLO WORLD"' in obs
    assert "Round 42" in contents(info, "text")
    text = next(ev for ev in info["evidence"] if ev.content == "HELLO WORLD")
    # Seen on both sampled frames (0.5 s and 1.5 s): one record spanning them, like a script lookup.
    assert (text.video, text.start, text.end) == (1, 0.5, 1.5)
    assert 0.5 < text.confidence <= 1.0
    assert not terminated and not truncated


def test_objects_are_counted_by_colour_and_backgrounds_named(env):
    env.reset(options={"task_id": "scene"})
    _, _, _, _, info = observe(env, 1, 0.0, 2.0, 2)
    objects = {ev.content: ev.attributes for ev in info["evidence"] if ev.kind == "object"}
    assert objects == {"3 red objects": {"colour": "red", "count": 3},
                       "2 blue objects": {"colour": "blue", "count": 2}}
    assert "white background" in contents(info, "visual")
    _, _, _, _, info = observe(env, 1, 2.0, 4.0, 2)
    assert set(contents(info, "object")) == {"1 yellow object"}
    assert "blue background" in contents(info, "visual")
    assert "SCENE TWO" in contents(info, "text")
    _, _, _, _, info = observe(env, 1, 1.0, 3.0, 2)  # frames at 1.5 s and 2.5 s straddle the cut
    change = [ev for ev in info["evidence"] if ev.content == "scene change"]
    assert len(change) == 1 and change[0].start == 2.5


def test_listen_hears_beeps_with_onsets_and_pitch(env):
    env.reset(options={"task_id": "scene"})
    obs, _, _, _, info = listen(env, 1, 0.0, 4.0)
    sounds = [ev for ev in info["evidence"] if ev.kind == "sound"]
    assert [ev.content for ev in sounds] == ["high beep", "low beep"]
    assert abs(sounds[0].start - 1.0) < 0.05 and abs(sounds[0].end - 1.5) < 0.05
    assert abs(sounds[0].attributes["pitch_hz"] - 1500) < 30
    assert abs(sounds[1].start - 2.5) < 0.05 and abs(sounds[1].attributes["pitch_hz"] - 300) < 20
    assert "sound: high beep" in obs
    # A window that starts late reports absolute times.
    _, _, _, _, info = listen(env, 1, 2.0, 4.0)
    assert [ev.content for ev in info["evidence"] if ev.kind == "sound"] == ["low beep"]


def test_listen_without_audio_track_is_an_error_observation(env):
    env.reset(options={"task_id": "scene"})
    obs, reward, terminated, truncated, info = listen(env, 2, 0.0, 2.0)
    assert "error: the audio agent failed" in obs and "no audio track" in obs and "silent.mp4" in obs
    assert not terminated and not truncated
    obs, *_ = observe(env, 1, 0.0, 1.0, 1)  # the episode goes on
    assert "HELLO WORLD" in obs


def test_variable_frame_rate_picks_the_nearest_frames(suite_path):
    with MediaReader(suite_path.parent / "media" / "vfr.mp4") as reader:
        # Frames at 0, 50, 200, 250, 400, 450 ms ...; grey level = time in centiseconds.
        frames = reader.frames_at([0.1, 0.12, 0.21, 1.0, 0.0, 2.5])
        levels = [float(f.mean()) for f in frames]
    assert np.allclose(levels, [5, 5, 20, 100, 0, 245], atol=3), levels


def test_variable_frame_rate_through_the_env(env):
    env.reset(options={"task_id": "vfr"})
    obs, *_ , info = observe(env, 1, 0.0, 2.9, 4)
    assert "error" not in obs
    assert "grey background" in contents(info) or "black background" in contents(info)


@pytest.mark.parametrize("task_id, name, problem", [
    ("missing", "nowhere.mp4", "no such file"),
    ("empty", "empty.mp4", "empty"),
    ("corrupt", "corrupt.mp4", "cannot be opened"),
])
def test_bad_files_raise_at_reset_naming_the_file(env, task_id, name, problem):
    with pytest.raises(MediaError) as err:
        env.reset(options={"task_id": task_id})
    assert name in str(err.value) and problem in str(err.value)
    assert task_id in str(err.value)


def test_windows_past_the_end_are_clamped(env, suite_path):
    env.reset(options={"task_id": "scene"})
    obs, *_, info = observe(env, 1, 3.0, 100.0, 2)
    assert "window clamped to 3.0-4.0 s" in obs
    assert "blue background" in contents(info)
    # The task claims 10 s but the file holds 4 s: reset refuses it, naming both durations.
    with pytest.raises(MediaError, match=r"declares 10 s but frames decode only up to 4\.\d+ s"):
        env.reset(options={"task_id": "long-claim"})
    with MediaReader(suite_path.parent / "media" / "scene.mp4") as reader:
        assert reader.audio(3.5, 9.0).size <= int(0.6 * RATE)
        assert reader.audio(20.0, 30.0).size == 0
        # Times past the last frame get the last frame and are reported as such.
        assert reader.frames_at([1000.0])[0].shape == (240, 320, 3)
        assert reader.past_end_times == [1000.0]
        reader.frames_at([3.9])
        assert reader.past_end_times == []


def test_repeated_calls_hit_the_caches(suite_path):
    perceiver = VideoPerceiver(cache=PerceptionCache())
    env = make_real_env(suite=str(suite_path), perceiver=perceiver)
    try:
        env.reset(options={"task_id": "scene"})
        observe(env, 1, 0.0, 2.0, 4)
        listen(env, 1, 0.0, 2.0)
        first = perceiver.stats.to_dict()
        # A second rollout of the group, with another focus: the offline backends ignore it.
        env.reset(options={"task_id": "scene"})
        _, _, _, _, info = observe(env, 1, 0.0, 2.0, 4, focus="red things")
        listen(env, 1, 0.0, 2.0)
        stats = perceiver.stats
        assert stats.cache_hits == 2 and stats.calls == 4
        assert stats.frames_decoded == first["frames_decoded"] == 4
        assert stats.perception_seconds == first["perception_seconds"]
        assert "3 red objects" in contents(info)
        # Overlapping frame times reuse decoded frames, not perception results.
        observe(env, 1, 0.0, 4.0, 8)  # times 0.25, 0.75, ... include 0.25 .. 1.75
        assert stats.frame_cache_hits == 4 and stats.frames_decoded == 8
    finally:
        env.close()
    assert len(perceiver._readers) == 0  # containers are closed with the env


def test_backend_failures_are_retried_then_reported(suite_path):
    class Flaky:
        name = "flaky"
        uses_focus = False

        def __init__(self, failures):
            self.failures = failures

        def describe(self, frames, times, focus):
            if self.failures:
                self.failures -= 1
                raise TimeoutError("model timed out")
            return [[Evidence(0, t, t, "visual", "a frame")] for t in times]

    env = make_real_env(visual=Flaky(1), suite=str(suite_path), perceiver_options={"cache": "private"})
    try:
        env.reset(options={"task_id": "scene"})
        obs, *_ = observe(env, 1, 0.0, 1.0, 2)
        assert "visual: a frame" in obs and env.unwrapped.perceiver.stats.retries == 1
    finally:
        env.close()
    env = make_real_env(visual=Flaky(5), suite=str(suite_path), perceiver_options={"cache": "private"})
    try:
        env.reset(options={"task_id": "scene"})
        obs, _, terminated, truncated, _ = observe(env, 1, 0.0, 1.0, 2)
        assert "the visual agent failed" in obs and "model timed out" in obs
        assert not terminated and not truncated
    finally:
        env.close()


def test_large_and_odd_sized_frames_are_scaled_down(tmp_path):
    path = write_video(tmp_path / "odd.mp4", 1.0, scene, size=(1001, 563), pix_fmt="yuv444p")
    with MediaReader(path, max_side=640) as reader:
        assert reader.info.width == 1001
        frame = reader.frames_at([0.5])[0]
    assert frame.shape == (360, 640, 3) and scaled_size(1001, 563, 640) == (640, 360)
    with MediaReader(path, max_side=2000) as reader:
        assert reader.frames_at([0.5])[0].shape == (563, 1001, 3)


def test_merge_keeps_separate_runs_apart():
    a = Evidence(0, 0, 0, "text", "GO")
    merged = merge_frames([[a], [a], [], [a]], [1.0, 2.0, 3.0, 4.0])
    assert [(ev.start, ev.end) for ev in merged] == [(1.0, 2.0), (4.0, 4.0)]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_speech_is_transcribed(env):
    env.reset(options={"task_id": "speech"})
    obs, *_, info = listen(env, 1, 0.0, env.unwrapped.task.videos[0].duration)
    speech = [ev for ev in info["evidence"] if ev.kind == "speech"]
    assert speech, obs
    words = set(" ".join(ev.content.lower() for ev in speech).replace(".", "").split())
    assert len(words & set(SPEECH.split())) >= 5
    assert 0.0 <= speech[0].start < 1.5


def test_gymnasium_check_env_passes_on_the_real_env(tmp_path):
    from gymnasium.utils.env_checker import check_env

    write_video(tmp_path / "plain.mp4", 3.0, lambda d, t, font: None, audio=tones(3.0))
    task = _task("plain", ("plain.mp4", 3.0, True))
    (tmp_path / "tasks.jsonl").write_text(json.dumps(task) + "\n")
    env = gym.make("CVRReal-v0", suite=str(tmp_path / "tasks.jsonl"))
    try:
        check_env(env.unwrapped)
    finally:
        env.close()
