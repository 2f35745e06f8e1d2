"""Perception backends that run Hugging Face ``transformers`` models in-process.

- :class:`HFVisualBackend`: any image-text-to-text model (SmolVLM/Idefics3, LLaVA, Qwen-VL, ...):
  one generated description per frame, guided by the agent's focus.
- :class:`HFAudioBackend`: any automatic-speech-recognition model (Whisper, wav2vec2, ...):
  speech records with absolute times.

Both take a hub id or a local directory, pick CUDA when available (``device="auto"``) and load
lazily on first use (call ``load()`` to load eagerly and fail fast). ``torch`` and
``transformers`` are imported only then, so importing this module is cheap. Registry specs
``"hf:MODEL_ID_OR_PATH"`` build these classes (see :mod:`cvr_gym.perception.registry`).

Two kinds of failure are kept apart: a model that cannot be loaded raises
:class:`BackendLoadError` (a configuration problem that should stop the run), while a failed
call raises :class:`~cvr_gym.envs.perceiver.PerceptionError`, which the env reports to the agent.
"""

from __future__ import annotations

import json
import math
import threading
from typing import Any

import numpy as np

from cvr_gym.core.evidence import Evidence
from cvr_gym.perception.base import PerceptionError
from cvr_gym.perception.base import AUDIO_SAMPLE_RATE, BackendLoadError, as_mono, frame_to_pil  # noqa: F401 (re-exported)

DEFAULT_VISUAL_PROMPT = (
    "Describe what is visible in this video frame in one or two sentences, including any "
    "readable text. Focus: {focus}"
)
NO_FOCUS = "anything notable"


def resolve_device(device: str | None) -> str:
    """``"auto"`` (or ``None``) becomes ``"cuda"`` when torch sees a GPU, else ``"cpu"``; any other
    value (``"cpu"``, ``"cuda:1"``, ``"mps"``) is returned as is."""
    if device in (None, "auto"):
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)


def _resolve_dtype(dtype: Any, device: str) -> Any:
    """``None`` means float32 on CPU and the checkpoint's own dtype (``"auto"``) elsewhere."""
    import torch

    if dtype is None:
        return torch.float32 if device.startswith("cpu") else "auto"
    if isinstance(dtype, str) and dtype != "auto":
        value = getattr(torch, dtype, None)
        if not isinstance(value, torch.dtype):
            raise ValueError(f"unknown torch dtype {dtype!r}")
        return value
    return dtype


def _load_error(what: str, model: str, err: BaseException) -> BackendLoadError:
    import os

    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}
    hint = ("HF_HUB_OFFLINE is set, so a hub id must already be in the local cache; pass a local "
            "directory or unset HF_HUB_OFFLINE to download" if offline else
            "check the hub id or local path (if HF_HUB_OFFLINE=1 is set, only cached models and "
            "local directories load)")
    return BackendLoadError(f"could not load {what} {model!r}: {type(err).__name__}: {err} ({hint})")


def _key(kind: str, **settings: Any) -> str:
    return f"{kind}:" + json.dumps(settings, sort_keys=True, default=repr)


def _model_source(model: str) -> str:
    """The id or path to hand to transformers; fails clearly for a local path that does not
    exist (transformers would call it a malformed hub id)."""
    import os

    looks_local = (model.startswith((".", "~")) or os.path.isabs(model) or model.count("/") > 1
                   or (os.sep != "/" and os.sep in model))
    if not looks_local:
        return model
    path = os.path.expanduser(model)
    if not os.path.isdir(path):
        raise BackendLoadError(f"could not load {model!r}: no such local model directory")
    return path


def _format_prompt(template: str, focus: str, time: float) -> str:
    # str.replace, not str.format: templates and focus strings may contain braces.
    focus = " ".join((focus or "").split()) or NO_FOCUS
    return template.replace("{focus}", focus).replace("{time}", f"{time:.1f}")


class HFVisualBackend:
    """Frames to descriptions with a transformers image-text-to-text model.

    Arguments:
        model: hub id or local directory of a model that ``AutoModelForImageTextToText`` and
            ``AutoProcessor`` load (its processor should have a chat template; without one the
            prompt is passed to the processor as plain text).
        device: ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda:0"``, ...
        max_new_tokens: generation length per frame (greedy decoding).
        batch_size: frames per ``generate`` call; each frame is its own conversation.
        prompt_template: the user message sent with each image. ``{focus}`` is replaced by the
            agent's focus (``"anything notable"`` when empty) and ``{time}`` by the frame time.
        dtype: torch dtype or its name; ``None`` means float32 on CPU and the checkpoint's dtype
            on GPU.
        trust_remote_code: passed to ``from_pretrained``.
        generate_kwargs: extra ``generate`` arguments (they override the defaults).

    ``describe(frames, times, focus)`` returns one list per frame: a single ``visual`` record
    with the generated text (``start == end ==`` the frame time, ``video=0`` for the perceiver to
    fill in, ``confidence`` = geometric-mean probability of the generated tokens), or an empty
    list when the model generated nothing. Loading happens on first use (or ``load()``); a
    model that cannot be loaded raises :class:`BackendLoadError` naming the id/path, and any
    failure while generating raises :class:`~cvr_gym.envs.perceiver.PerceptionError`.

    ``cache_key`` names every setting that shapes the output (so perceivers may share cached
    results between backend instances); ``uses_focus`` is false when the template has no
    ``{focus}``.
    """

    def __init__(self, model: str, device: str = "auto", max_new_tokens: int = 64, batch_size: int = 8,
                 prompt_template: str = DEFAULT_VISUAL_PROMPT, dtype: Any = None,
                 trust_remote_code: bool = False, generate_kwargs: dict[str, Any] | None = None) -> None:
        if not model:
            raise ValueError("HFVisualBackend needs a model id or path")
        if max_new_tokens < 1 or batch_size < 1:
            raise ValueError("max_new_tokens and batch_size must be at least 1")
        self.model_id = str(model)
        self.name = f"hf:{self.model_id}"
        self.device = device
        self.max_new_tokens = int(max_new_tokens)
        self.batch_size = int(batch_size)
        self.prompt_template = prompt_template
        self.dtype = dtype
        self.trust_remote_code = trust_remote_code
        self.generate_kwargs = dict(generate_kwargs or {})
        self._model = None
        self._processor = None
        self._lock = threading.Lock()

    # -- loading -------------------------------------------------------------------------------
    def load(self) -> "HFVisualBackend":
        """Load the processor and model now (idempotent). Raises :class:`BackendLoadError`."""
        with self._lock:
            if self._model is not None:
                return self
            try:
                from transformers import AutoModelForImageTextToText, AutoProcessor
            except ImportError as err:  # pragma: no cover - depends on the install
                raise BackendLoadError(f"{self.name} needs transformers and torch (pip install 'cvr-gym[hf]'): {err}") from err
            source = _model_source(self.model_id)
            device = resolve_device(self.device)
            try:
                processor = AutoProcessor.from_pretrained(source, trust_remote_code=self.trust_remote_code)
            except Exception as err:
                raise _load_error("the processor of", self.model_id, err) from err
            try:
                model = AutoModelForImageTextToText.from_pretrained(
                    source, dtype=_resolve_dtype(self.dtype, device),
                    trust_remote_code=self.trust_remote_code)
                model = model.to(device).eval()
            except Exception as err:
                raise _load_error("the image-text-to-text model", self.model_id, err) from err
            tokenizer = getattr(processor, "tokenizer", None)
            self._encoder_decoder = bool(getattr(model.config, "is_encoder_decoder", False))
            if tokenizer is not None and not self._encoder_decoder:
                tokenizer.padding_side = "left"  # batched generation continues from the right edge
            self._device = device
            self._processor, self._model = processor, model
        return self

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def uses_focus(self) -> bool:
        return "{focus}" in self.prompt_template

    @property
    def cache_key(self) -> str:
        return _key("hf-visual", model=self.model_id, device=self.device, dtype=self.dtype,
                    max_new_tokens=self.max_new_tokens, prompt=self.prompt_template,
                    generate_kwargs=self.generate_kwargs)

    # -- inference -----------------------------------------------------------------------------
    def describe(self, frames: list[np.ndarray], times: list[float], focus: str) -> list[list[Evidence]]:
        """One list of ``visual`` Evidence per frame (see the class docstring)."""
        if len(frames) != len(times):
            raise PerceptionError(f"{self.name}: got {len(frames)} frames but {len(times)} times")
        if not frames:
            return []
        self.load()
        out: list[list[Evidence]] = []
        for i in range(0, len(frames), self.batch_size):
            batch_frames, batch_times = frames[i:i + self.batch_size], [float(t) for t in times[i:i + self.batch_size]]
            try:
                texts, scores = self._generate(batch_frames, batch_times, focus)
            except PerceptionError:
                raise
            except Exception as err:
                span = f"{batch_times[0]:.2f}-{batch_times[-1]:.2f} s"
                raise PerceptionError(f"{self.name} failed on {len(batch_frames)} frame(s) at {span}: "
                                      f"{type(err).__name__}: {err}") from err
            for t, text, score in zip(batch_times, texts, scores):
                text = text.strip()
                out.append([Evidence(0, t, t, "visual", text, {}, confidence=score)] if text else [])
        return out

    def _inputs(self, images: list, prompts: list[str]):
        processor = self._processor
        if getattr(processor, "chat_template", None):
            conversations = [[{"role": "user", "content": [{"type": "image", "image": image},
                                                          {"type": "text", "text": prompt}]}]
                             for image, prompt in zip(images, prompts)]
            kwargs = dict(add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt")
            try:
                return processor.apply_chat_template(conversations, processor_kwargs={"padding": True}, **kwargs)
            except TypeError:  # transformers < 5 has no processor_kwargs
                return processor.apply_chat_template(conversations, padding=True, **kwargs)
        return processor(images=images, text=prompts, return_tensors="pt", padding=True)

    def _generate(self, frames: list[np.ndarray], times: list[float], focus: str) -> tuple[list[str], list[float]]:
        import torch

        images = [frame_to_pil(f) for f in frames]
        prompts = [_format_prompt(self.prompt_template, focus, t) for t in times]
        inputs = self._inputs(images, prompts)
        dtype = getattr(self._model, "dtype", None)
        inputs = inputs.to(self._device) if dtype is None else inputs.to(self._device, dtype=dtype)
        kwargs = {"max_new_tokens": self.max_new_tokens, "do_sample": False,
                  "return_dict_in_generate": True, "output_scores": True, **self.generate_kwargs}
        with torch.inference_mode():
            result = self._model.generate(**inputs, **kwargs)
        sequences = result.sequences if hasattr(result, "sequences") else result
        new = sequences if self._encoder_decoder else sequences[:, inputs["input_ids"].shape[1]:]
        decode = getattr(self._processor, "batch_decode", None) or self._processor.tokenizer.batch_decode
        texts = decode(new, skip_special_tokens=True)
        return list(texts), self._confidences(result, new)

    def _confidences(self, result: Any, new_tokens: Any) -> list[float]:
        """Geometric-mean probability of each row's generated tokens (up to its first EOS);
        1.0 when the model did not return scores."""
        n = int(new_tokens.shape[0])
        scores = getattr(result, "scores", None)
        if not scores:
            return [1.0] * n
        try:
            import torch

            steps = min(len(scores), int(new_tokens.shape[1]))
            tokens = new_tokens[:, -steps:] if self._encoder_decoder else new_tokens[:, :steps]
            logp = torch.stack([torch.log_softmax(s.float(), dim=-1) for s in scores[:steps]], dim=1)
            picked = logp.gather(-1, tokens[..., None].to(logp.device)).squeeze(-1)
            eos = self._model.generation_config.eos_token_id
            eos_ids = set(eos if isinstance(eos, (list, tuple)) else [eos] if eos is not None else [])
            pad = self._model.generation_config.pad_token_id
            out = []
            for row_tokens, row_logp in zip(tokens.tolist(), picked.tolist()):
                values = []
                for tok, lp in zip(row_tokens, row_logp):
                    if tok == pad and tok not in eos_ids and values:
                        break
                    values.append(lp)
                    if tok in eos_ids:
                        break
                finite = [v for v in values if math.isfinite(v)]
                out.append(round(math.exp(sum(finite) / len(finite)), 4) if finite else 0.0)
            return out
        except Exception:  # scoring is a bonus; never fail a call over it
            return [1.0] * n


class HFAudioBackend:
    """Speech to timed text with a transformers automatic-speech-recognition pipeline.

    Arguments:
        model: hub id or local directory of any model the ``automatic-speech-recognition``
            pipeline loads (Whisper, wav2vec2, ...).
        device: ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda:0"``, ...
        chunk_length_s: windows longer than this are transcribed in chunks of this length.
        dtype: torch dtype or its name (``None``: float32 on CPU, the checkpoint's dtype on GPU).
        generate_kwargs: extra generation arguments for sequence-to-sequence models (for
            Whisper e.g. ``{"language": "en"}``); they override the checkpoint's
            ``generation_config``.
        trust_remote_code: passed to the pipeline.

    ``transcribe(audio, start, focus)`` takes a mono float32 waveform at 16 kHz starting at
    ``start`` seconds and returns ``speech`` records with absolute times: one per timestamped
    segment when the model gives timestamps (Whisper segments; CTC words grouped at pauses of
    at least ``pause_s`` seconds), else one record for the whole window. Times are clipped to
    the window (random or confused models can emit timestamps past its end); empty texts are
    dropped; ``confidence`` is 1.0 (the pipeline reports no scores); ``focus`` is not used.
    Loading happens on first use (or ``load()``) and raises :class:`BackendLoadError` naming
    the id/path; a failed call raises :class:`~cvr_gym.envs.perceiver.PerceptionError`.
    ``cache_key`` names every setting that shapes the output; ``uses_focus`` is false.
    """

    uses_focus = False

    def __init__(self, model: str, device: str = "auto", chunk_length_s: float = 30.0, dtype: Any = None,
                 generate_kwargs: dict[str, Any] | None = None, trust_remote_code: bool = False,
                 pause_s: float = 0.8) -> None:
        if not model:
            raise ValueError("HFAudioBackend needs a model id or path")
        if chunk_length_s <= 0:
            raise ValueError("chunk_length_s must be positive")
        self.model_id = str(model)
        self.name = f"hf:{self.model_id}"
        self.device = device
        self.chunk_length_s = float(chunk_length_s)
        self.dtype = dtype
        self.generate_kwargs = dict(generate_kwargs or {})
        self.trust_remote_code = trust_remote_code
        self.pause_s = float(pause_s)
        self._pipe = None
        self._timestamps: Any = None  # True (segments), "word" (CTC) or False, decided at load
        self._lock = threading.Lock()

    def load(self) -> "HFAudioBackend":
        """Build the pipeline now (idempotent). Raises :class:`BackendLoadError`."""
        with self._lock:
            if self._pipe is not None:
                return self
            try:
                from transformers import pipeline
            except ImportError as err:  # pragma: no cover - depends on the install
                raise BackendLoadError(f"{self.name} needs transformers and torch (pip install 'cvr-gym[hf]'): {err}") from err
            source = _model_source(self.model_id)
            device = resolve_device(self.device)
            try:
                pipe = pipeline("automatic-speech-recognition", model=source, device=device,
                                dtype=_resolve_dtype(self.dtype, device), trust_remote_code=self.trust_remote_code)
            except Exception as err:
                raise _load_error("the speech-recognition model", self.model_id, err) from err
            kind = getattr(pipe, "type", "")
            if kind == "seq2seq_whisper":
                gen = getattr(pipe.model, "generation_config", None)
                self._timestamps = getattr(gen, "no_timestamps_token_id", None) is not None
            elif kind in ("ctc", "ctc_with_lm"):
                self._timestamps = "word"
            else:
                self._timestamps = False
            self._pipe = pipe
        return self

    @property
    def loaded(self) -> bool:
        return self._pipe is not None

    @property
    def cache_key(self) -> str:
        return _key("hf-audio", model=self.model_id, device=self.device, dtype=self.dtype,
                    chunk_length_s=self.chunk_length_s, generate_kwargs=self.generate_kwargs,
                    pause_s=self.pause_s)

    def transcribe(self, audio: np.ndarray, start: float, focus: str) -> list[Evidence]:
        """``speech`` Evidence with absolute times (see the class docstring)."""
        wave = as_mono(audio, self.name)
        if wave.size == 0:
            return []
        self.load()
        start = float(start)
        duration = wave.size / AUDIO_SAMPLE_RATE
        try:
            result = self._run(wave, duration)
        except Exception as err:
            raise PerceptionError(f"{self.name} failed on {duration:.2f} s of audio at {start:.2f} s: "
                                  f"{type(err).__name__}: {err}") from err
        return self._records(result, start, duration)

    def _run(self, wave: np.ndarray, duration: float) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if duration > self.chunk_length_s:
            kwargs["chunk_length_s"] = self.chunk_length_s
        if self.generate_kwargs and getattr(self._pipe, "type", "").startswith("seq2seq"):
            kwargs["generate_kwargs"] = dict(self.generate_kwargs)
        inputs = {"raw": wave, "sampling_rate": AUDIO_SAMPLE_RATE}
        if self._timestamps:
            try:
                return self._pipe(dict(inputs), return_timestamps=self._timestamps, **kwargs)
            except Exception:
                # Some checkpoints lack what timestamps need; fall back to plain text from now on.
                self._timestamps = False
        return self._pipe(dict(inputs), **kwargs)

    def _records(self, result: dict[str, Any], start: float, duration: float) -> list[Evidence]:
        end = start + duration

        def clip(t: Any, default: float) -> float:
            if t is None or not isinstance(t, (int, float)) or not math.isfinite(t):
                return default
            return min(max(float(t), 0.0), duration)

        chunks = result.get("chunks") or []
        spans: list[tuple[float, float, str]] = []
        for chunk in chunks:
            t0, t1 = (list(chunk.get("timestamp") or ()) + [None, None])[:2]
            a = clip(t0, 0.0)
            b = max(a, clip(t1, duration))
            spans.append((a, b, str(chunk.get("text", ""))))
        if spans and self._timestamps == "word":
            spans = _group_words(spans, self.pause_s)
        records = [Evidence(0, round(start + a, 3), round(start + b, 3), "speech", " ".join(text.split()))
                   for a, b, text in spans if text.strip()]
        if not spans:
            text = " ".join(str(result.get("text", "")).split())
            if text:
                records = [Evidence(0, start, end, "speech", text)]
        return records


def _group_words(words: list[tuple[float, float, str]], pause: float) -> list[tuple[float, float, str]]:
    """Join word-level spans into utterances, splitting where the gap between words is >= pause."""
    groups: list[tuple[float, float, str]] = []
    for a, b, text in words:
        if groups and a - groups[-1][1] < pause:
            g0, _, gtext = groups[-1]
            groups[-1] = (g0, max(b, groups[-1][1]), f"{gtext} {text.strip()}")
        else:
            groups.append((a, b, text.strip()))
    return groups
