"""Perception backends that call OpenAI-compatible HTTP servers (vLLM, SGLang, llama.cpp, OpenAI).

- :class:`OpenAIVisualBackend`: ``POST {base_url}/chat/completions`` with frames as base64
  image data URLs and the agent's focus in the prompt.
- :class:`OpenAIAudioBackend`: ``POST {base_url}/audio/transcriptions`` with the window as a
  16 kHz mono WAV file, asking for ``verbose_json`` to get timed segments.

Only the standard library is used (``urllib.request``, ``wave``, ``json``; pillow encodes
images). Each attempt must finish within ``timeout`` seconds in all (connecting, sending and
reading the whole reply, however slowly the server drips it), and a reply may hold at most
``max_reply_bytes``. Redirects are never followed: a redirect could carry the API key to another
host, and a redirected POST loses its body anyway; a 3xx reply is an error naming the target.
Calls are retried ``retries`` times with
exponential backoff (``backoff * 2**attempt`` seconds) on timeouts, connection errors, 5xx
responses and 408/429; other 4xx responses fail at once. When a call finally fails,
:class:`~cvr_gym.envs.perceiver.PerceptionError` says which URL, the status code and the last
error. The API key is read from the environment variable named by ``api_key_env`` when a
request is made and sent as ``Authorization: Bearer ...``; it is never logged nor put in an
error message. With the variable unset no header is sent (fine for local servers). Requests to
loopback hosts bypass any configured HTTP proxy.
"""

from __future__ import annotations

import base64
import http.client
import io
import ipaddress
import json
import math
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import wave
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from cvr_gym.core.evidence import Evidence
from cvr_gym.perception.base import PerceptionError
from cvr_gym.perception.base import AUDIO_SAMPLE_RATE, as_mono, frame_to_pil

DEFAULT_VISUAL_PROMPT = (
    "Describe what is visible in this video frame in one or two sentences, including any "
    "readable text. Focus: {focus}"
)
NO_FOCUS = "anything notable"
_RETRY_STATUS = frozenset({408, 429})
_ERROR_BODY_CHARS = 300
#: Largest reply read (bytes); a perception reply is a few kilobytes.
MAX_REPLY_BYTES = 16 * 2**20
_CHUNK = 64 * 1024
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# Sockets opened by the current thread's request, so a deadline can cut them off mid-read.
_REQUEST = threading.local()


def _track(sock: Any) -> None:
    socks = getattr(_REQUEST, "socks", None)
    if socks is not None:
        socks.append(sock)


class _TrackedHTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _track(self.sock)


class _TrackedHTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _track(self.sock)


class _TrackedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_TrackedHTTPConnection, req)


class _TrackedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_TrackedHTTPSConnection, req, context=getattr(self, "_context", None))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse every redirect: the 3xx reply surfaces as an HTTPError."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class _ReplyTooLarge(Exception):
    pass


def clean_text(text: str) -> str:
    """``text`` with lone surrogates (``"\\ud800"`` in a JSON reply) replaced by U+FFFD, so it
    can be written as UTF-8."""
    return _SURROGATES.sub("\ufffd", text)


class _HTTPClient:
    """POSTs with timeouts, retries and backoff; raises PerceptionError when all attempts fail."""

    def __init__(self, name: str, base_url: str, api_key_env: str | None, timeout: float,
                 retries: int, backoff: float, max_reply_bytes: int = MAX_REPLY_BYTES) -> None:
        if not base_url or not re.match(r"^https?://", base_url):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise ValueError("timeout must be positive, retries and backoff non-negative")
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.max_reply_bytes = int(max_reply_bytes)
        host = urllib.parse.urlsplit(self.base_url).hostname or ""
        handlers: list[Any] = [urllib.request.ProxyHandler({})] if _is_loopback(host) else []
        handlers += [_TrackedHTTPHandler(), _TrackedHTTPSHandler(), _NoRedirect()]
        self._opener = urllib.request.build_opener(*handlers)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _headers(self, content_type: str) -> dict[str, str]:
        # A named User-Agent: some proxies and CDNs refuse urllib's default one.
        headers = {"Content-Type": content_type, "User-Agent": "cvr-gym"}
        key = os.environ.get(self.api_key_env or "", "").strip() if self.api_key_env else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def post(self, path: str, body: bytes, content_type: str) -> bytes:
        url = self.url(path)
        attempts = self.retries + 1
        last = "no attempt made"
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(url, data=body, method="POST", headers=self._headers(content_type))
            socks: list[Any] = []
            fired: list[bool] = []
            timer = threading.Timer(self.timeout, _cut_off, (socks, fired))
            timer.daemon = True
            _REQUEST.socks = socks
            deadline = time.monotonic() + self.timeout
            timer.start()
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    return self._read(response, deadline)
            except urllib.error.HTTPError as err:
                if 300 <= err.code < 400:
                    target = err.headers.get("Location", "?") if err.headers else "?"
                    raise PerceptionError(f"{self.name}: POST {url} was redirected (HTTP {err.code}) to "
                                          f"{target[:200]}; redirects are not followed, set base_url to "
                                          f"the final address") from None
                detail = _error_body(err)
                last = f"HTTP {err.code}" + (f": {detail}" if detail else "")
                if not (err.code >= 500 or err.code in _RETRY_STATUS):
                    raise PerceptionError(f"{self.name}: POST {url} failed: {last} (not retried)") from None
            except _ReplyTooLarge:
                raise PerceptionError(f"{self.name}: POST {url} replied with more than "
                                      f"{self.max_reply_bytes} bytes (not read; not retried)") from None
            except (TimeoutError, socket.timeout):
                last = f"timed out after {self.timeout:g} s"
            except urllib.error.URLError as err:
                reason = err.reason
                if fired or isinstance(reason, (TimeoutError, socket.timeout)):
                    last = f"timed out after {self.timeout:g} s"
                else:
                    last = f"connection error: {reason}"
            except (OSError, http.client.HTTPException, ValueError) as err:  # reset, refused, truncated
                if fired:
                    last = f"timed out after {self.timeout:g} s"
                else:
                    last = f"connection error: {type(err).__name__}: {err}"
            finally:
                timer.cancel()
                _REQUEST.socks = None
        raise PerceptionError(f"{self.name}: POST {url} failed after {attempts} attempt(s): {last}")

    def _read(self, response: Any, deadline: float) -> bytes:
        """The whole reply, within the deadline and the size cap."""
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > self.max_reply_bytes:
            raise _ReplyTooLarge()
        chunks, size = [], 0
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError()
            chunk = response.read(_CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_reply_bytes:
                raise _ReplyTooLarge()
            chunks.append(chunk)

    def post_json(self, path: str, payload: dict[str, Any]) -> Any:
        raw = self.post(path, json.dumps(payload).encode("utf-8"), "application/json")
        try:
            return _loads(raw)
        except ValueError as err:
            raise PerceptionError(f"{self.name}: POST {self.url(path)} returned a body that is not JSON: "
                                  f"{raw[:_ERROR_BODY_CHARS]!r}") from err


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _loads(raw: "bytes | str") -> Any:
    """``json.loads`` for a server's reply: ``NaN``/``Infinity`` and nesting too deep for the
    parser are malformed bodies (``ValueError``) like any other, not a crash of the episode."""
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _cut_off(socks: list[Any], fired: list[bool]) -> None:
    """The deadline passed: shut the request's sockets so a blocked read returns at once."""
    fired.append(True)
    for sock in list(socks):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _error_body(err: urllib.error.HTTPError) -> str:
    try:
        raw = err.read()
    except Exception:
        return ""
    text = raw.decode("utf-8", "replace").strip()
    try:  # OpenAI-style {"error": {"message": ...}}
        data = _loads(text)
        message = data.get("error", data) if isinstance(data, dict) else data
        if isinstance(message, dict):
            message = message.get("message", message)
        text = str(message)
    except ValueError:
        pass
    text = " ".join(text.split())
    return text[:_ERROR_BODY_CHARS] + ("..." if len(text) > _ERROR_BODY_CHARS else "")


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
        self._http = _HTTPClient(self.name, base_url, api_key_env, timeout, retries, backoff)
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
                                  f"{err}: {json.dumps(data)[:_ERROR_BODY_CHARS]}") from None
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
        self._http = _HTTPClient(self.name, base_url, api_key_env, timeout, retries, backoff)
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
                data = _loads(raw)
            except ValueError:
                raise PerceptionError(f"{self.name}: the transcription reply is not JSON "
                                      f"(response_format={self.response_format!r}): "
                                      f"{raw[:_ERROR_BODY_CHARS]!r}") from None
        if not isinstance(data, dict):
            raise PerceptionError(f"{self.name}: unexpected transcription reply: {str(data)[:_ERROR_BODY_CHARS]}")
        return _transcription_records(data, start, duration)


_MARKUP = re.compile(rb"^\s*(?:<!doctype|<html|<\?xml|<head|<body|\{|\[)", re.IGNORECASE)


def _plain_transcript(raw: bytes, name: str) -> str:
    """A ``response_format="text"`` reply as text; an error page or binary garbage is an error."""
    if _MARKUP.match(raw[:512]):
        raise PerceptionError(f"{name}: the transcription reply looks like a page or JSON, not text: "
                              f"{raw[:_ERROR_BODY_CHARS]!r}")
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
