"""Backend interfaces for real perception. Every backend emits :class:`~cvr_gym.core.evidence.Evidence`.

A visual backend looks at decoded frames (RGB ``uint8`` arrays, H x W x 3) taken at known times
and returns, per frame, the evidence it sees there; an audio backend hears a mono 16 kHz
``float32`` waveform that starts at a known time and returns speech and sound evidence with
absolute times. The video perceiver merges per-frame records into the same shape script
lookups have, so the formatter treats both worlds alike.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from cvr_gym.core.evidence import Evidence

AUDIO_SAMPLE_RATE = 16_000


class PerceptionError(RuntimeError):
    """A perception call failed (model error, timeout). The env reports it to the agent."""


def as_mono(audio: np.ndarray, backend: str) -> np.ndarray:
    """A float32 mono waveform from mono or two-dimensional (either orientation) input."""
    wave = np.asarray(audio, dtype=np.float32)
    if wave.ndim == 2:  # (samples, channels) or (channels, samples): mix down
        wave = wave.mean(axis=0 if wave.shape[0] < wave.shape[1] else 1)
    if wave.ndim != 1:
        raise PerceptionError(f"{backend}: expected a mono waveform, got shape {np.shape(audio)}")
    return wave


def frame_to_pil(frame: np.ndarray):
    """An RGB ``uint8`` PIL image from a frame array (grey, RGB or RGBA; other dtypes clipped)."""
    from PIL import Image

    arr = np.asarray(frame)
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    if arr.ndim != 3 or arr.shape[-1] not in (3, 4):
        raise ValueError(f"expected an H x W x 3 RGB frame, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(arr[..., :3]), mode="RGB")


class BackendLoadError(RuntimeError):
    """A model or its processor could not be loaded. Not a ``PerceptionError``: the env does not
    turn it into an observation, because every later call would fail the same way."""


@runtime_checkable
class VisualBackend(Protocol):
    """Turns frames into evidence. ``describe`` returns one list per frame, in order.

    The records' ``video`` field may be 0: the perceiver fills it in. ``start``/``end`` should be
    the frame time. Raise :class:`~cvr_gym.envs.perceiver.PerceptionError` for a failed call.
    """

    name: str

    def describe(self, frames: list[np.ndarray], times: list[float], focus: str) -> list[list[Evidence]]: ...


@runtime_checkable
class AudioBackend(Protocol):
    """Turns a waveform window into speech and sound evidence with absolute times."""

    name: str

    def transcribe(self, audio: np.ndarray, start: float, focus: str) -> list[Evidence]: ...
