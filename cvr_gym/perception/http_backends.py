"""Perception backends that call OpenAI-compatible HTTP servers (vLLM, SGLang, llama.cpp, OpenAI).

- :class:`OpenAIVisualBackend`: ``POST {base_url}/chat/completions`` with frames as base64
  image data URLs and the agent's focus in the prompt.
- :class:`OpenAIAudioBackend`: ``POST {base_url}/audio/transcriptions`` with the window as a
  16 kHz mono WAV file, asking for ``verbose_json`` to get timed segments.

Requests go through :class:`cvr_gym.core.http.HTTPClient`: a deadline of ``timeout`` seconds
for each whole attempt, no redirects, a reply-size cap, retries with backoff on transient
failures; the API key is read from the environment variable named by ``api_key_env`` (no header
when it is unset, fine for local servers). When a call finally fails,
:class:`~cvr_gym.perception.base.PerceptionError` says which URL, the status code and the last
error. Pillow encodes images and the standard library's ``wave`` writes audio.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
import uuid
import wave
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from cvr_gym.core.evidence import Evidence
from cvr_gym.core.http import ERROR_BODY_CHARS, HTTPClient, clean_text, loads_reply
from cvr_gym.perception.base import AUDIO_SAMPLE_RATE, PerceptionError, as_mono, frame_to_pil

DEFAULT_VISUAL_PROMPT = (
    "Describe what is visible in this video frame in one or two sentences, including any "
    "readable text. Focus: {focus}"
)
NO_FOCUS = "anything notable"


def encode_image(frame: np.ndarray, image_format: str = "jpeg", max_side: int | None = None,
                 quality: int = 85) -> str:
    """An RGB ``uint8`` frame as a ``data:image/...;base64,`` URL (JPEG or PNG via pillow),
    downscaled so its longer side is at most ``max_side`` when given."""
    image = frame_to_pil(frame)
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side))
    fmt = image_format.lower()
    buf = io.BytesIO()
    if fmt in ("jpeg", "jpg"):
        image.save(buf, format="JPEG", quality=quality)
        mime = "image/jpeg"
    elif fmt == "png":
        image.save(buf, format="PNG")
        mime = "image/png"
    else:
        raise ValueError(f"image_format must be 'jpeg' or 'png', got {image_format!r}")
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


def waveform_to_wav(audio: np.ndarray, sample_rate: int = AUDIO_SAMPLE_RATE) -> bytes:
    """A mono float32 waveform in [-1, 1] as 16-bit PCM WAV bytes (stdlib ``wave``)."""
    samples = np.clip(np.nan_to_num(np.asarray(audio, dtype=np.float32)), -1.0, 1.0)
    pcm = (samples * 32767.0).round().astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.tobytes())
    return buf.getvalue()


def _message_text(data: Any) -> str:
    """The assistant text of a chat completion (string content or a list of text parts)."""
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise ValueError("no choices[0].message.content in the reply") from None
    if content is None:
        return ""
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return str(content)


_FRAME_LINE = re.compile(r"^\s*[-*#>]*\s*\**\s*frame\s*#?\s*(\d+)\b[^:\n]*?:\**\s*(.*)$", re.IGNORECASE)


def split_frame_answers(text: str, n: int) -> list[str] | None:
    """Split a reply of ``Frame 1: ...`` / ``Frame 2: ...`` lines into ``n`` texts.

    Lines after a label continue that frame. Returns ``None`` when the reply has no usable
    label (the model answered once for the whole request); frames without a label get ``""``.
    """
    answers: dict[int, list[str]] = {}
    current: int | None = None
    for line in text.splitlines():
        m = _FRAME_LINE.match(line)
        if m and 1 <= int(m.group(1)) <= n:
            current = int(m.group(1))
            answers.setdefault(current, []).append(m.group(2).strip())
        elif current is not None and line.strip():
            answers[current].append(line.strip())
    if not answers:
        return None
    return [" ".join(" ".join(answers.get(i, [])).split()) for i in range(1, n + 1)]


class OpenAIVisualBackend:
    """Frames to descriptions through an OpenAI-compatible chat completions endpoint with images.

    Arguments:
        base_url: the server's API root, e.g. ``http://127.0.0.1:8000/v1`` (the registry spec
            ``"openai:http://127.0.0.1:8000/v1"`` passes it here).
        model: the ``model`` field of the request (vLLM/SGLang serve one model; ``"default"``
            works for SGLang, vLLM wants the served model name).
        api_key_env: name of the environment variable holding the key (optional for local servers).
        timeout, retries, backoff: per-attempt timeout in seconds, extra attempts, and the base
            of the exponential backoff between attempts.
        max_frames_per_request: frames sent together in one request (1 = one request per frame).
        image_format: ``"jpeg"`` (default) or ``"png"``; max_side: downscale frames so their
            longer side is at most this many pixels before encoding (``None``: as decoded).
        prompt_template: the instruction; ``{focus}`` is replaced by the agent's focus
            (``"anything notable"`` when empty).
        max_tokens, temperature: generation settings sent with the request (``max_tokens`` is
            per frame; a multi-frame request asks for ``max_tokens * frames``).
        max_concurrency: requests in flight at once when a call needs several.
        extra_body: extra JSON fields merged into every request (e.g. server-specific options).

    What is sent: one user message per request whose content is, for each frame, a text part
    ``"Frame i (t=12.5 s):"`` then an ``image_url`` part with the base64 data URL, and last the
    prompt with the focus; with several frames the prompt asks for one ``Frame i: ...`` line per
    frame (with one frame the labels are left out).

    What is returned: one list per frame, each with one ``visual`` record (``start == end ==``
    the frame time, ``video=0``, ``confidence`` 1.0). The reply of a multi-frame request is split
    on its ``Frame i:`` labels; when the model ignores the format and answers once for the batch,
    that answer is attached to every frame of the request (the perceiver merges identical
    consecutive records into one spanning those frames), because the reply cannot be located in
    time more precisely. Frames with an empty answer get an empty list.

    Failures (after retries, a 4xx, a malformed reply) raise
    :class:`~cvr_gym.envs.perceiver.PerceptionError`. ``cache_key`` names the server, model and
    every setting that shapes the output (never the key); ``uses_focus`` is false when the
    template has no ``{focus}``.
    """

    def __init__(self, base_url: str, model: str = "default", api_key_env: str | None = "OPENAI_API_KEY",
                 timeout: float = 30.0, retries: int = 2, backoff: float = 0.5, max_frames_per_request: int = 8,
                 image_format: str = "jpeg", max_side: int | None = None,
                 prompt_template: str = DEFAULT_VISUAL_PROMPT, max_tokens: int = 128, temperature: float = 0.0,
                 max_concurrency: int = 4, extra_body: dict[str, Any] | None = None) -> None:
        if max_frames_per_request < 1 or max_concurrency < 1 or max_tokens < 1:
            raise ValueError("max_frames_per_request, max_concurrency and max_tokens must be at least 1")
        if image_format.lower() not in ("jpeg", "jpg", "png"):
            raise ValueError(f"image_format must be 'jpeg' or 'png', got {image_format!r}")
        self.model = model
        self.name = f"openai:{base_url.rstrip('/')}"
        self._http = HTTPClient(self.name, base_url, api_key_env, timeout, retries, backoff, error=PerceptionError)
        self.base_url = self._http.base_url
        self.max_frames_per_request = int(max_frames_per_request)
        self.image_format = image_format
        self.max_side = max_side
        self.prompt_template = prompt_template
        self.max_tokens = int(max_tokens)
        self.temperature = float(temperature)
        self.max_concurrency = int(max_concurrency)
        self.extra_body = dict(extra_body or {})

    @property
    def uses_focus(self) -> bool:
        return "{focus}" in self.prompt_template

    @property
    def cache_key(self) -> str:
        return "openai-visual:" + json.dumps(dict(
            url=self.base_url, model=self.model, prompt=self.prompt_template,
            max_frames_per_request=self.max_frames_per_request, image_format=self.image_format,
            max_side=self.max_side, max_tokens=self.max_tokens, temperature=self.temperature,
            extra_body=self.extra_body), sort_keys=True, default=repr)

    def _prompt(self, focus: str, n: int) -> str:
        focus = " ".join((focus or "").split()) or NO_FOCUS
        prompt = self.prompt_template.replace("{focus}", focus)
        if n > 1:
            prompt += (f"\nYou were shown {n} frames. Answer with exactly {n} lines, one per frame, in order, "
                       f"each formatted as 'Frame N: <description>'.")
        return prompt

    def request_body(self, frames: list[np.ndarray], times: list[float], focus: str) -> dict[str, Any]:
        """The JSON body sent for one group of frames (public for inspection and tests)."""
        content: list[dict[str, Any]] = []
        for i, (frame, t) in enumerate(zip(frames, times), start=1):
            if len(frames) > 1:
                content.append({"type": "text", "text": f"Frame {i} (t={float(t):.1f} s):"})
            content.append({"type": "image_url", "image_url": {
                "url": encode_image(frame, self.image_format, self.max_side)}})
        content.append({"type": "text", "text": self._prompt(focus, len(frames))})
        body = {"model": self.model, "messages": [{"role": "user", "content": content}],
                "max_tokens": self.max_tokens * len(frames), "temperature": self.temperature}
        body.update(self.extra_body)
        return body

    def _one_request(self, frames: list[np.ndarray], times: list[float], focus: str) -> list[list[Evidence]]:
        try:
            body = self.request_body(frames, times, focus)
        except ValueError as err:
            raise PerceptionError(f"{self.name}: cannot encode frames: {err}") from err
        data = self._http.post_json("chat/completions", body)
        try:
            text = _message_text(data)
        except ValueError as err:
            raise PerceptionError(f"{self.name}: unexpected reply from {self._http.url('chat/completions')}: "
                                  f"{err}: {json.dumps(data)[:ERROR_BODY_CHARS]}") from None
        answers = split_frame_answers(text, len(frames)) if len(frames) > 1 else None
        if answers is None:
            answers = [" ".join(text.split())] * len(frames)
        return [[Evidence(0, float(t), float(t), "visual", clean_text(a))] if a else []
                for t, a in zip(times, answers)]

    def describe(self, frames: list[np.ndarray], times: list[float], focus: str) -> list[list[Evidence]]:
        """One list of ``visual`` Evidence per frame (see the class docstring)."""
        if len(frames) != len(times):
            raise PerceptionError(f"{self.name}: got {len(frames)} frames but {len(times)} times")
        k = self.max_frames_per_request
        groups = [(frames[i:i + k], list(times[i:i + k])) for i in range(0, len(frames), k)]
        if len(groups) <= 1 or self.max_concurrency == 1:
            parts = [self._one_request(f, t, focus) for f, t in groups]
        else:
            with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(groups))) as pool:
                parts = list(pool.map(lambda g: self._one_request(g[0], g[1], focus), groups))
        return [records for part in parts for records in part]


class OpenAIAudioBackend:
    """Speech to timed text through an OpenAI-compatible ``/audio/transcriptions`` endpoint.

    Arguments:
        base_url: the server's API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: the ``model`` form field (``"whisper-1"`` for OpenAI; vLLM wants the served name).
        api_key_env, timeout, retries, backoff: as for :class:`OpenAIVisualBackend`.
        language: optional ISO-639-1 language sent as ``language``.
        response_format: ``"verbose_json"`` (default, gives segments with times); ``"json"`` or
            ``"text"`` give one record for the window.
        focus_as_prompt: send the agent's focus as the ``prompt`` field (biases spelling of rare
            words; off by default because it can also make models hallucinate the prompt).

    What is sent: ``multipart/form-data`` with ``file`` (the window as 16-bit mono 16 kHz WAV),
    ``model``, ``response_format``, ``temperature=0``, ``timestamp_granularities[]=segment`` and
    the optional fields. What is returned: ``speech`` records with absolute times, one per
    segment with non-empty text (segment times are offset by ``start`` and clipped to the
    window; ``confidence`` is ``exp(avg_logprob)`` when the server reports it, else 1.0), or,
    when there are no segments, one record for the whole window with ``text``; nothing for
    silence. Failures raise :class:`~cvr_gym.envs.perceiver.PerceptionError`. ``cache_key``
    names the server, model and settings; ``uses_focus`` is ``focus_as_prompt``.
    """

    def __init__(self, base_url: str, model: str = "whisper-1", api_key_env: str | None = "OPENAI_API_KEY",
                 timeout: float = 30.0, retries: int = 2, backoff: float = 0.5, language: str | None = None,
                 response_format: str = "verbose_json", focus_as_prompt: bool = False) -> None:
        self.model = model
        self.name = f"openai:{base_url.rstrip('/')}"
        self._http = HTTPClient(self.name, base_url, api_key_env, timeout, retries, backoff, error=PerceptionError)
        self.base_url = self._http.base_url
        self.language = language
        self.response_format = response_format
        self.focus_as_prompt = focus_as_prompt

    @property
    def uses_focus(self) -> bool:
        return bool(self.focus_as_prompt)

    @property
    def cache_key(self) -> str:
        return "openai-audio:" + json.dumps(dict(
            url=self.base_url, model=self.model, language=self.language,
            response_format=self.response_format, focus_as_prompt=self.focus_as_prompt), sort_keys=True)

    def request_fields(self, focus: str) -> list[tuple[str, str]]:
        """The form fields sent besides the file."""
        fields = [("model", self.model), ("response_format", self.response_format), ("temperature", "0")]
        if self.response_format == "verbose_json":
            fields.append(("timestamp_granularities[]", "segment"))
        if self.language:
            fields.append(("language", self.language))
        if self.focus_as_prompt and focus and focus.strip():
            fields.append(("prompt", " ".join(focus.split())))
        return fields

    def transcribe(self, audio: np.ndarray, start: float, focus: str) -> list[Evidence]:
        """``speech`` Evidence with absolute times (see the class docstring)."""
        wave_data = as_mono(audio, self.name)
        if wave_data.size == 0:
            return []
        start = float(start)
        duration = wave_data.size / AUDIO_SAMPLE_RATE
        body, content_type = _multipart(self.request_fields(focus),
                                        ("file", "audio.wav", "audio/wav", waveform_to_wav(wave_data)))
        raw = self._http.post("audio/transcriptions", body, content_type)
        if self.response_format == "text":
            data: Any = {"text": _plain_transcript(raw, self.name)}
        else:
            try:
                data = loads_reply(raw)
            except ValueError:
                raise PerceptionError(f"{self.name}: the transcription reply is not JSON "
                                      f"(response_format={self.response_format!r}): "
                                      f"{raw[:ERROR_BODY_CHARS]!r}") from None
        if not isinstance(data, dict):
            raise PerceptionError(f"{self.name}: unexpected transcription reply: {str(data)[:ERROR_BODY_CHARS]}")
        return _transcription_records(data, start, duration)


_MARKUP = re.compile(rb"^\s*(?:<!doctype|<html|<\?xml|<head|<body|\{|\[)", re.IGNORECASE)


def _plain_transcript(raw: bytes, name: str) -> str:
    """A ``response_format="text"`` reply as text; an error page or binary garbage is an error."""
    if _MARKUP.match(raw[:512]):
        raise PerceptionError(f"{name}: the transcription reply looks like a page or JSON, not text: "
                              f"{raw[:ERROR_BODY_CHARS]!r}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PerceptionError(f"{name}: the transcription reply is not UTF-8 text: {raw[:80]!r}") from None
    if any(not (c.isprintable() or c.isspace()) for c in text):  # NULs, control bytes, ...
        raise PerceptionError(f"{name}: the transcription reply holds binary data: {raw[:80]!r}")
    return text


def _transcription_records(data: dict[str, Any], start: float, duration: float) -> list[Evidence]:
    def clip(t: Any, default: float) -> float:
        try:
            value = float(t)
        except (TypeError, ValueError):
            return default
        return min(max(value, 0.0), duration) if math.isfinite(value) else default

    records = []
    segments = data.get("segments")
    if isinstance(segments, list) and segments:
        for seg in segments:
            if not isinstance(seg, dict):
                continue
            text = clean_text(" ".join(str(seg.get("text", "")).split()))
            if not text:
                continue
            a = clip(seg.get("start"), 0.0)
            b = max(a, clip(seg.get("end"), duration))
            confidence = 1.0
            if isinstance(seg.get("avg_logprob"), (int, float)) and math.isfinite(seg["avg_logprob"]):
                confidence = round(min(1.0, math.exp(seg["avg_logprob"])), 4)
            records.append(Evidence(0, round(start + a, 3), round(start + b, 3), "speech", text, {}, confidence))
        return records
    text = clean_text(" ".join(str(data.get("text", "")).split()))
    return [Evidence(0, start, start + duration, "speech", text)] if text else []


def _multipart(fields: list[tuple[str, str]], file: tuple[str, str, str, bytes]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with text ``fields`` and one file (name, filename, type, data)."""
    boundary = f"cvrgym-{uuid.uuid4().hex}"
    out = io.BytesIO()
    for name, value in fields:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(str(value).encode("utf-8"))
        out.write(b"\r\n")
    name, filename, ctype, payload = file
    out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
              f"Content-Type: {ctype}\r\n\r\n".encode())
    out.write(payload)
    out.write(f"\r\n--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"
