"""Rendering corpus plans into real video files with PyAV (h264 + AAC), and writing the suite.

Pictures: each scene is one still drawn with PIL (background colour, text lines with
``ImageFont.load_default`` at 28 px, black on light and white on dark backgrounds, filled shapes
in :data:`~cvr_gym.perception.offline_visual.CANONICAL_RGB`), encoded as h264 ``yuv420p`` with a
keyframe every second (``g = fps``) so windows decode after a short seek.

Sound: mono 16 kHz AAC. Sentences are spoken by ``espeak-ng --stdout -v en-us -g 4 -s 140``
(22,050 Hz WAV, resampled), sped up if they would overrun their slot; beeps are sine tones with 10 ms fades;
noise bursts are seeded white noise. Only speech needs espeak-ng: :func:`find_espeak` fails with
a clear message when it is missing.

Determinism: the same plans give the same pictures and waveforms, and on one machine (same
PyAV/FFmpeg/x264 and espeak-ng) byte-identical files: pictures are converted to YUV here, x264
runs with one thread and the muxer writes no creation time. Other versions may encode
differently; the tasks and scripts never depend on the files.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import wave
import zlib
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cvr_gym.core.tasks import Task
from cvr_gym.data.corpus.builder import Corpus
from cvr_gym.data.corpus.plan import Scene, VideoPlan
from cvr_gym.perception.offline_visual import ACHROMATIC_RGB, CANONICAL_RGB

AUDIO_RATE = 16_000
FONT_SIZE = 28
LINE_HEIGHT = 38
MARGIN = 10
WORD_GAP = 1.5  # spaces are drawn 1.5 times as wide: OCR then keeps them between words
# espeak-ng: US English with short pauses between words, at the first of these speeds (words per
# minute) at which a sentence fits its slot; Whisper tiny.en mishears the default voice more.
VOICE = ("-v", "en-us", "-g", "4")
SPEEDS = (140, 160, 185, 215, 250)
COLOURS = {**CANONICAL_RGB, **ACHROMATIC_RGB}


class RenderError(RuntimeError):
    """Rendering is impossible here (espeak-ng missing) or a plan cannot be drawn."""


def find_espeak() -> str:
    """The espeak-ng executable, or :class:`RenderError` saying how to install it."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RenderError("espeak-ng is needed to render speech and was not found on PATH; install it "
                          "(Debian/Ubuntu: apt-get install espeak-ng, macOS: brew install espeak-ng). "
                          "Only rendering needs it: the bundled corpus works without it.")
    return exe


# -- pictures ---------------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def font(size: int = FONT_SIZE) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def text_width(line: str, size: int = FONT_SIZE) -> int:
    """Width in pixels of ``line`` as :func:`draw_line` draws it."""
    f = font(size)
    words = line.split(" ")
    return int(round(sum(f.getlength(w) for w in words) + (len(words) - 1) * f.getlength(" ") * WORD_GAP))


def draw_line(d: ImageDraw.ImageDraw, x: float, y: float, line: str, ink: tuple[int, int, int]) -> None:
    f = font()
    gap = f.getlength(" ") * WORD_GAP
    for word in line.split(" "):
        d.text((x, y), word, fill=ink, font=f)
        x += f.getlength(word) + gap


def text_colour(background: str) -> tuple[int, int, int]:
    r, g, b = COLOURS[background]
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 140 else (255, 255, 255)


def draw_scene(scene: Scene, size: tuple[int, int]) -> np.ndarray:
    """The scene's picture as an RGB ``uint8`` array (H x W x 3)."""
    img = Image.new("RGB", size, COLOURS[scene.background])
    d = ImageDraw.Draw(img)
    ink = text_colour(scene.background)
    for i, line in enumerate(scene.lines):
        if text_width(line) > size[0] - 2 * MARGIN:
            raise RenderError(f"the line {line!r} is wider than the frame ({text_width(line)} px)")
        draw_line(d, MARGIN, MARGIN + LINE_HEIGHT * i, line, ink)
    for s in scene.shapes:
        box = (s.x, s.y, s.x + s.size, s.y + s.size)
        if s.kind == "circle":
            d.ellipse(box, fill=CANONICAL_RGB[s.colour])
        else:
            d.polygon([(s.x, s.y + s.size), (s.x + s.size, s.y + s.size), (s.x + s.size // 2, s.y)],
                      fill=CANONICAL_RGB[s.colour])
    return np.asarray(img, dtype=np.uint8)


def rgb_to_yuv420(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited-range YUV 4:2:0 planes stacked as PyAV's ``yuv420p`` array (H * 3 / 2 x W).

    Converting here rather than letting swscale do it inside the encoder keeps the encoder's
    input, and so the files, identical from run to run (swscale's result varied between runs).
    """
    x = rgb.astype(np.float32)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
    h, w = y.shape

    def half(c: np.ndarray) -> np.ndarray:
        return c.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))

    planes = [y, half(u).reshape(h // 4, w), half(v).reshape(h // 4, w)]
    return np.clip(np.rint(np.concatenate(planes)), 0, 255).astype(np.uint8)


# -- sound ------------------------------------------------------------------------------------------
def speak(text: str, seconds: float, rate: int = AUDIO_RATE) -> np.ndarray:
    """``text`` spoken by espeak-ng at ``rate`` Hz, at the slowest speed that fits ``seconds``."""
    exe = find_espeak()
    for speed in SPEEDS:
        wave_bytes = subprocess.run([exe, "--stdout", *VOICE, "-s", str(speed), text], capture_output=True,
                                    check=True).stdout
        samples = _resample(*_read_wav(wave_bytes), rate)
        if len(samples) <= seconds * rate:
            break
    samples = samples[: int(seconds * rate)]
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    return (samples * (0.6 / peak) if peak > 0 else samples).astype(np.float32)


def _read_wav(data: bytes) -> tuple[np.ndarray, int]:
    # espeak-ng writes a streaming header with unknown sizes; the wave module reads it fine.
    with wave.open(io.BytesIO(data)) as w:
        rate, raw = w.getframerate(), w.readframes(w.getnframes())
    return np.frombuffer(raw, np.int16).astype(np.float32) / 32768.0, rate


def _resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    n = int(len(x) * dst / src)
    return np.interp(np.arange(n) * (src / dst), np.arange(len(x)), x).astype(np.float32)


def tone(hz: float, seconds: float, rate: int = AUDIO_RATE) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    x = 0.4 * np.sin(2 * np.pi * hz * t)
    fade = min(len(x) // 2, int(0.01 * rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        x[:fade] *= ramp
        x[-fade:] *= ramp[::-1]
    return x.astype(np.float32)


def noise(seconds: float, seed: int, rate: int = AUDIO_RATE) -> np.ndarray:
    return (0.35 * np.random.default_rng(seed).uniform(-1, 1, int(round(seconds * rate)))).astype(np.float32)


def soundtrack(plan: VideoPlan, rate: int = AUDIO_RATE) -> np.ndarray:
    """The whole mono waveform of a plan (silence where nothing sounds)."""
    out = np.zeros(int(round(plan.duration * rate)), np.float32)
    for n, s in enumerate(plan.sounds):
        length = s.end - s.start
        if s.kind == "speech":
            x = speak(s.text, length, rate)
        elif s.kind == "tone":
            x = tone(s.hz, length, rate)
        else:
            x = noise(length, zlib.crc32(f"{plan.path}:{n}".encode()), rate)
        i = int(round(s.start * rate))
        x = x[: max(0, len(out) - i)]
        out[i:i + len(x)] += x
    return np.clip(out, -1.0, 1.0)


# -- files ------------------------------------------------------------------------------------------
def render_video(plan: VideoPlan, path: str | Path, crf: int = 26, audio_bitrate: int = 32_000) -> Path:
    """Encode ``plan`` to ``path`` (mp4: h264 yuv420p with ``g = fps``, AAC mono 16 kHz)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    audio = soundtrack(plan) if plan.has_audio else None
    tmp = path.with_name(path.name + ".part")
    width, height = plan.size
    with av.open(str(tmp), "w", format="mp4") as c:
        vs = c.add_stream("libx264", rate=plan.fps,
                          options={"g": str(plan.fps), "crf": str(crf), "preset": "medium", "threads": "1"})
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        # One encoding thread: PyAV's default (automatic slice threads) changes the bitstream slightly.
        vs.codec_context.thread_count = 1
        aus = None
        if audio is not None:
            aus = c.add_stream("aac", rate=AUDIO_RATE)
            aus.layout = "mono"
            aus.bit_rate = audio_bitrate
        frame_index = 0
        total = int(round(plan.duration * plan.fps))
        for scene in plan.scenes:
            picture = rgb_to_yuv420(draw_scene(scene, plan.size))
            last = min(total, int(round(scene.end * plan.fps)))
            while frame_index < last:
                frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
                frame.pts = frame_index
                for packet in vs.encode(frame):
                    c.mux(packet)
                frame_index += 1
        for packet in vs.encode():
            c.mux(packet)
        if aus is not None:
            for k in range(0, len(audio), 1024):
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio[None, k:k + 1024]), format="flt",
                                                layout="mono")
                af.sample_rate, af.pts = AUDIO_RATE, k
                for packet in aus.encode(af):
                    c.mux(packet)
            for packet in aus.encode():
                c.mux(packet)
    tmp.replace(path)
    return path


def task_line(task: Task) -> str:
    """One compact, deterministic JSON line per task."""
    data = task.model_dump(mode="json", exclude_defaults=True)
    data["license"] = task.license
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def write_suite(corpus: Corpus, out: str | Path) -> list[Path]:
    """Write ``OUT/<split>.jsonl`` for every split of ``corpus``; returns the files."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for split, tasks in corpus.splits.items():
        path = out / f"{split}.jsonl"
        path.write_text("".join(task_line(t) + "\n" for t in tasks), encoding="utf-8", newline="\n")
        written.append(path)
    return written


def render_corpus(corpus: Corpus, out: str | Path, progress: Callable[[float], None] | None = None,
                  only: Iterable[str] | None = None, **options) -> list[Path]:
    """Render every video of ``corpus`` under ``out`` and write its suite files.

    ``progress`` is called with each video's seconds once it is written; ``only`` limits
    rendering to these plan paths; ``options`` go to :func:`render_video`.
    """
    if any(p.has_audio and any(s.kind == "speech" for s in p.sounds) for p in corpus.plans):
        find_espeak()  # fail before any work, not halfway
    out = Path(out)
    wanted = set(only) if only is not None else None
    files = []
    for plan in corpus.plans:
        if wanted is None or plan.path in wanted:
            files.append(render_video(plan, out / plan.path, **options))
        if progress is not None:
            progress(plan.duration)
    write_suite(corpus, out)
    return files
