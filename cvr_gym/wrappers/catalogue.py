"""A finite catalogue of tool calls, so classic RL agents can pick actions by number.

The catalogue is independent of any env: it maps an index (flat) or an index vector (factored)
plus the :class:`~cvr_gym.wrappers.episode.EpisodeState` to a :class:`~cvr_gym.core.actions.ToolCall`,
and computes which indices make sense in that state (the action mask). The env wrapper
:class:`~cvr_gym.wrappers.discrete_actions.DiscreteActions` and the checkpoint agent share it.

Entries, in flat order:

1. ``observe(video v, window w, frames f)`` for v < ``max_videos``, every window of every scale,
   every frame count of ``frame_counts``;
2. ``listen(video v, window w)``;
3. ``answer(choice c)`` for c < ``num_choices`` (meaning depends on the answer type, below);
4. ``answer_from_evidence`` (if ``answer_from_evidence=True``).

Windows are relative: scale ``s`` splits each video into ``s`` equal parts, so scales
``(1, 2, 4, 8, 16)`` give the whole video, halves, quarters, eighths and sixteenths (31 windows);
they fit every duration.

Answer choices (the same index means different things for different answer types, so a policy
should condition on the answer type, which the vector observation exposes):

- ``single``: option ``c`` (A, B, ...);
- ``multi``: the option set whose bitmask is ``c + 1`` (c = 0: {A}, 1: {B}, 2: {A, B}, ...);
- ``order``: the ``c``-th permutation of the options in lexicographic order; with more options
  than ``num_choices`` permutations cover, only the first ``num_choices`` orders are reachable
  (use ``answer_from_evidence`` there);
- ``count``: the number ``c`` (0 .. num_choices - 1);
- ``interval``: window ``c`` of the catalogue's windows on the task's ``answer_video``;
- ``free_text``: only ``c = 0``: the gathered evidence lines quoted as the answer.

``answer_from_evidence`` is a macro-action: it answers with what a reader makes of the evidence
gathered so far (:func:`read_from_evidence`: :func:`cvr_gym.data.readers.read_answer`, the task
family's reader where there is one, else the generic reader). The policy then learns *what to
look at and when to stop*; the reader turns evidence into an answer. Scores reached through it
measure search, not evidence reasoning: report them as such.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from cvr_gym.core.actions import ToolCall
from cvr_gym.core.tasks import OPTION_LETTERS
from cvr_gym.data.readers import blind_guess, read_answer
from cvr_gym.wrappers.episode import EpisodeState

KINDS = ("observe", "listen", "answer", "answer_from_evidence")


@lru_cache(maxsize=32)
def _permutations(n: int, limit: int) -> tuple[tuple[int, ...], ...]:
    return tuple(itertools.islice(itertools.permutations(range(n)), limit))


@dataclass(frozen=True)
class Entry:
    """One catalogue entry: ``kind`` and the indices that parametrise it (-1 when unused)."""

    kind: str
    video: int = -1
    window: int = -1
    frames: int = -1
    choice: int = -1


class ActionCatalogue:
    """Tool calls by number. See the module docstring for the entries.

    Arguments:
        max_videos: videos a task may have (actions on missing videos are masked).
        scales: window scales; scale ``s`` splits a video into ``s`` equal windows.
        frame_counts: frame counts an ``observe`` may ask for.
        num_choices: answer choices per answer type (see the module docstring); 0 leaves
            ``answer_from_evidence`` as the only way to answer (the policy then only decides
            what to look at and when to stop).
        answer_from_evidence: include the reader macro-action.
        listen: include ``listen`` actions.
        focus: ``"question"`` (default: the question is the focus prompt of observe/listen),
            ``""`` (no focus) or any fixed text.
        mask_repeats: mask observe/listen calls already made this episode, and observing a
            window again with no more frames than before (without perception noise they return
            the same, or about the same, evidence again).
        force_answer_at_last_step: on the last step only answers are allowed (otherwise the
            episode would end by truncation with no answer and score 0).
    """

    def __init__(self, max_videos: int = 4, scales: Sequence[int] = (1, 2, 4, 8, 16),
                 frame_counts: Sequence[int] = (4, 8, 16, 32), num_choices: int = 32,
                 answer_from_evidence: bool = True, listen: bool = True, focus: str = "question",
                 mask_repeats: bool = True, force_answer_at_last_step: bool = True):
        if max_videos < 1 or not scales or not frame_counts or num_choices < 0:
            raise ValueError("max_videos, scales and frame_counts must be non-empty/positive, num_choices >= 0")
        if num_choices == 0 and not answer_from_evidence:
            raise ValueError("with num_choices=0 the agent needs answer_from_evidence to answer")
        if any(s < 1 for s in scales) or any(f < 1 for f in frame_counts):
            raise ValueError("scales and frame_counts must be positive")
        self.max_videos = int(max_videos)
        self.scales = tuple(int(s) for s in scales)
        self.frame_counts = tuple(sorted(int(f) for f in frame_counts))
        self.num_choices = int(num_choices)
        self.use_reader = bool(answer_from_evidence)
        self.use_listen = bool(listen)
        self.focus = focus
        self.mask_repeats = bool(mask_repeats)
        self.force_answer_at_last_step = bool(force_answer_at_last_step)
        self.windows: tuple[tuple[float, float], ...] = tuple(
            (k / s, (k + 1) / s) for s in self.scales for k in range(s))
        V, W, F = self.max_videos, len(self.windows), len(self.frame_counts)
        self.n_observe = V * W * F
        self.n_listen = V * W if self.use_listen else 0
        self.listen_base = self.n_observe
        self.choice_base = self.listen_base + self.n_listen
        self.reader_index = self.choice_base + self.num_choices if self.use_reader else -1
        self.n = self.choice_base + self.num_choices + (1 if self.use_reader else 0)
        #: MultiDiscrete sizes: kind, video, window, frame count, answer choice.
        self.nvec = (len(KINDS), V, W, F, self.num_choices)
        self._entries = [self._entry(i) for i in range(self.n)]

    # -- description ---------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """Arguments that rebuild this catalogue (stored in checkpoints)."""
        return {"max_videos": self.max_videos, "scales": list(self.scales), "frame_counts": list(self.frame_counts),
                "num_choices": self.num_choices, "answer_from_evidence": self.use_reader,
                "listen": self.use_listen, "focus": self.focus, "mask_repeats": self.mask_repeats,
                "force_answer_at_last_step": self.force_answer_at_last_step}

    def __len__(self) -> int:
        return self.n

    def entry(self, index: int) -> Entry:
        return self._entries[index]

    def _entry(self, i: int) -> Entry:
        W, F = len(self.windows), len(self.frame_counts)
        if i < self.n_observe:
            v, rest = divmod(i, W * F)
            w, f = divmod(rest, F)
            return Entry("observe", v, w, f)
        if i < self.choice_base:
            v, w = divmod(i - self.listen_base, W)
            return Entry("listen", v, w)
        if i < self.choice_base + self.num_choices:
            return Entry("answer", choice=i - self.choice_base)
        return Entry("answer_from_evidence")

    def describe(self, index: int) -> str:
        e = self.entry(index)
        if e.kind == "observe":
            a, b = self.windows[e.window]
            return f"observe v{e.video + 1} [{a:.3g}-{b:.3g}] x{self.frame_counts[e.frames]}"
        if e.kind == "listen":
            a, b = self.windows[e.window]
            return f"listen v{e.video + 1} [{a:.3g}-{b:.3g}]"
        if e.kind == "answer":
            return f"answer choice {e.choice}"
        return "answer_from_evidence"

    # -- factored <-> flat -----------------------------------------------------------------------
    def flat_from_factored(self, action: Sequence[int]) -> int:
        """The flat index of a factored action ``[kind, video, window, frames, choice]``."""
        kind, v, w, f, c = (int(x) for x in action)
        W, F = len(self.windows), len(self.frame_counts)
        if KINDS[kind] == "observe":
            return (v * W + w) * F + f
        if KINDS[kind] == "listen" and self.use_listen:
            return self.listen_base + v * W + w
        if KINDS[kind] == "answer":
            return self.choice_base + c
        if KINDS[kind] == "answer_from_evidence" and self.use_reader:
            return self.reader_index
        raise ValueError(f"kind {kind} is not in this catalogue")

    # -- masks ---------------------------------------------------------------------------------
    def _last_step(self, state: EpisodeState) -> bool:
        return self.force_answer_at_last_step and state.steps >= state.max_steps - 1

    def choice_mask(self, state: EpisodeState) -> np.ndarray:
        """Which answer choices fit the task's answer type and options."""
        C = self.num_choices
        n = state.num_options
        kind = state.answer_type
        if kind == "single":
            limit = n
        elif kind == "multi":
            limit = 2 ** n - 1 if n < 30 else C
        elif kind == "order":
            limit = math.factorial(n) if n <= 12 else C
        elif kind == "count":
            limit = C
        elif kind == "interval":
            limit = len(self.windows)
        else:  # free_text
            limit = 1
        mask = np.zeros(C, dtype=bool)
        mask[: max(0, min(C, limit))] = True
        if C and not mask.any() and not self.use_reader:
            mask[0] = True  # never leave the agent without an answer
        return mask

    def _observe_frames_ok(self, state: EpisodeState) -> np.ndarray:
        left = state.frames_left
        ok = np.array([f <= left for f in self.frame_counts], dtype=bool)
        if left > 0:
            ok[0] = True  # the env clamps the smallest request to what is left
        return ok

    def action_mask(self, state: EpisodeState) -> np.ndarray:
        """A bool array over the flat catalogue: True where the action is valid now."""
        mask = np.zeros(self.n, dtype=bool)
        V, W, F = self.max_videos, len(self.windows), len(self.frame_counts)
        nv = min(state.num_videos, V)
        if not self._last_step(state):
            frames_ok = self._observe_frames_ok(state)
            obs = mask[: self.n_observe].reshape(V, W, F)
            obs[:nv] = frames_ok[None, None, :]
            if self.use_listen:
                lis = mask[self.listen_base: self.choice_base].reshape(V, W)
                for v in range(nv):
                    if state.has_audio[v]:
                        lis[v] = True
            if self.mask_repeats and state.taken:
                for i in state.taken:
                    if 0 <= i < self.choice_base:
                        mask[i] = False
                # observing the same window again with fewer frames sees a subset: mask it too
                for i in state.taken:
                    if 0 <= i < self.n_observe:
                        e = self._entries[i]
                        base = (e.video * W + e.window) * F
                        mask[base: base + e.frames + 1] = False
        mask[self.choice_base: self.choice_base + self.num_choices] = self.choice_mask(state)
        if self.use_reader:
            mask[self.reader_index] = True
        return mask

    def factored_mask(self, state: EpisodeState) -> np.ndarray:
        """Per-dimension masks concatenated (the sb3-contrib MultiDiscrete convention).

        Each dimension is masked on its own, so some combinations that pass (listen on a video
        without audio, a repeated call) are still sent to the env, which answers with an error
        note (a wasted step, no format penalty).
        """
        flat = self.action_mask(state)
        V, W = self.max_videos, len(self.windows)
        kind = np.array([flat[: self.n_observe].any(),
                         flat[self.listen_base: self.choice_base].any() if self.use_listen else False,
                         flat[self.choice_base: self.choice_base + self.num_choices].any(),
                         bool(self.use_reader)], dtype=bool)
        video = np.zeros(V, dtype=bool)
        video[: max(1, min(state.num_videos, V))] = True
        window = np.ones(W, dtype=bool)
        frames = self._observe_frames_ok(state)
        frames[0] = True
        choice = self.choice_mask(state)
        if not choice.any():
            choice[0] = True
        if not kind.any():
            kind[3 if self.use_reader else 2] = True
        return np.concatenate([kind, video, window, frames, choice])

    # -- decoding ------------------------------------------------------------------------------
    def window_times(self, window: int, duration: float) -> tuple[float, float]:
        a, b = self.windows[window]
        start = round(a * duration, 3)
        end = round(b * duration, 3) if b < 1.0 else float(duration)
        if end <= start:
            end = start + 1e-3
        return start, end

    def _focus(self, state: EpisodeState) -> str:
        if self.focus == "question":
            return state.question[:1000]
        return self.focus

    def to_tool_call(self, index: int, state: EpisodeState) -> ToolCall:
        """The tool call that catalogue entry ``index`` stands for in this episode."""
        if not 0 <= int(index) < self.n:
            raise IndexError(f"action {index} is outside 0..{self.n - 1}")
        e = self._entries[int(index)]
        if e.kind in ("observe", "listen"):
            duration = state.durations[e.video] if e.video < state.num_videos else 1.0
            start, end = self.window_times(e.window, duration)
            if e.kind == "observe":
                return ToolCall.observe(e.video + 1, start, end, self.frame_counts[e.frames], focus=self._focus(state))
            return ToolCall.listen(e.video + 1, start, end, focus=self._focus(state))
        if e.kind == "answer":
            return ToolCall.answer(self.choice_answer(e.choice, state))
        return ToolCall.answer(read_from_evidence(state))

    def choice_answer(self, c: int, state: EpisodeState) -> Any:
        """The answer value answer choice ``c`` stands for (see the module docstring)."""
        n = max(1, state.num_options)
        letters = OPTION_LETTERS[:n]
        kind = state.answer_type
        if kind == "single":
            return letters[c % n]
        if kind == "multi":
            bits = (c % (2 ** n - 1)) + 1
            return [letters[i] for i in range(n) if bits >> i & 1]
        if kind == "order":
            perms = _permutations(n, self.num_choices)
            return [letters[i] for i in perms[c % len(perms)]]
        if kind == "count":
            return int(c)
        if kind == "interval":
            video = (state.answer_video or 1) - 1
            duration = state.durations[video] if video < state.num_videos else 1.0
            return list(self.window_times(c % len(self.windows), duration))
        return evidence_text(state)


def evidence_text(state: EpisodeState, limit: int = 600) -> str:
    """The gathered evidence lines joined into one text (the free-text choice)."""
    text = "; ".join(str(getattr(ev, "content", "") if not isinstance(ev, dict) else ev.get("content", ""))
                     for ev in state.evidence)
    return text[:limit] if text.strip() else "unknown"


def read_from_evidence(state: EpisodeState) -> Any:
    """Answer from the evidence gathered so far (the ``answer_from_evidence`` macro-action).

    :func:`cvr_gym.data.readers.read_answer` answers (the task family's reader where there is
    one, else the generic one), so a policy decides *where to look* and *when to answer*, and the
    reader decides *what*.
    """
    try:
        return read_answer(state.view, list(state.all_evidence))
    except Exception:  # noqa: BLE001 - a reader bug must not crash an episode
        return blind_guess(state.view)
