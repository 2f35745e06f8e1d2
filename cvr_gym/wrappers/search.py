"""Search features and relative actions: what makes active search learnable for classic RL.

The plain wrappers (:mod:`cvr_gym.wrappers.catalogue`, :mod:`cvr_gym.wrappers.encoding`) tell a
policy *that* evidence was found but not *where*, and offer only fixed windows, so a trained
policy can learn how many frames to spend but never where to zoom. This module adds:

- :class:`SearchMemory`: per episode, the frame times sampled in each video, what was listened
  to, and every evidence record scored against the question: the IDF-weighted share of question
  and option words it contains (rare words such as "soy sauce" count, common ones such as "the
  cook" hardly); where the question names a window ("in video 1, between 49.9 and 52.6 s"), the
  words of what was found there are looked for in the other videos too. Matching records mark
  *candidate windows*: for something seen, the stretch between the nearest sampled frames where
  it was not seen (the scene lies inside it); for something heard, its exact times. Candidates
  whose frames are already at most ``dense_spacing`` seconds apart are *resolved*.
- :class:`SearchEncoder`: a ``Dict`` of ``Box`` observation built from it (coverage and match
  heat per video and window at several scales, the best candidate windows, per-option match,
  answer type, budget).
- :class:`SearchCatalogue`: actions relative to what was seen (zoom into the best unresolved
  candidates, rescan where nothing matched between the frames already taken, scan the video the
  answer is about, skim every video, listen to every track) as well as absolute windows, and the
  ``answer_from_evidence`` reader macro-action. Options shape the search without naming any task
  family: ``frames_per_video`` (an allowance, the heuristic's cap), ``look_before_answer`` and
  ``min_frames_per_video`` (the reader is masked until every video, or that many frames per
  video, was looked at). A look never re-samples frame times already taken.

Everything is computed from the question, the options and the evidence text, so it works on
generated, imported and real suites alike (no per-family features). Both classes are drop-in
replacements for :class:`~cvr_gym.wrappers.catalogue.ActionCatalogue` and
:class:`~cvr_gym.wrappers.encoding.ObservationEncoder` in
:class:`~cvr_gym.wrappers.discrete_actions.DiscreteActions`,
:class:`~cvr_gym.wrappers.vector_observation.VectorObservation`, the GRPO trainer and the
checkpoint agent; :func:`wrap_search_env` builds the pair.

Scores reached with these wrappers answer through the reader macro-action: they measure search,
not evidence reasoning. ``cvr-gym train --recipe active-search`` (:mod:`cvr_gym.train.recipes`)
trains the GRPO MLP over them; ``examples/train_sb3_ppo.py --wrappers search`` trains SB3's
MaskablePPO over the same settings.

Example::

    env = wrap_search_env(gym.make("CVRSim-v0", split="train"),
                          catalogue={"look_before_answer": True, "scan_frames": (16, 32)})
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(int(np.flatnonzero(env.action_masks())[0]))
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from cvr_gym.core.actions import ToolCall
from cvr_gym.core.focus import stemmed_words
from cvr_gym.core.tasks import ANSWER_TYPES
from cvr_gym.wrappers.episode import EpisodeState
from cvr_gym.wrappers.text import make_text_encoder

# Question words that say what is asked, not what to look for.
_GENERIC = frozenset({"which", "what", "when", "where", "who", "how", "many", "much", "does", "do", "did",
                      "across", "all", "total", "one", "something", "someone", "these", "thing", "happen",
                      "most", "likely", "same", "another", "other", "first", "order", "follow", "step",
                      "video", "videos", "option", "none"})
_AUDIO_KINDS = ("speech", "sound")
# Windows a question names: "In video 1, between 49.9 and 52.6 s", "Between 13.95 and 17.45 s, video 1 ...".
_SPAN = r"(?:between|from|at)\s+(\d+(?:\.\d+)?)\s*(?:s\s*)?(?:and|to|-)\s*(\d+(?:\.\d+)?)\s*s"
_NAMED_WINDOWS = (
    (re.compile(r"video\s+(\d+)\b[^.?]*?" + _SPAN, re.IGNORECASE), (1, 2, 3)),
    (re.compile(_SPAN + r"\b[^.?]*?video\s+(\d+)", re.IGNORECASE), (3, 1, 2)),
)
_TYPE_INDEX = {t: i for i, t in enumerate(ANSWER_TYPES)}
_LOG_MAX = math.log1p(1800.0)


def _get(ev: Any, key: str, default: Any = None) -> Any:
    return ev.get(key, default) if isinstance(ev, dict) else getattr(ev, key, default)


@dataclass
class Candidate:
    """A window that matching evidence points at (video is 0-based)."""

    video: int
    start: float
    end: float
    score: float
    audio: bool = False
    resolved: bool = False


class SearchMemory:
    """Where an episode has looked and where question-matching evidence was found.

    Built from an :class:`~cvr_gym.wrappers.episode.EpisodeState` (see the module docstring);
    :func:`memory_of` keeps one per state and brings it up to date incrementally.

    Arguments:
        state: the episode state it follows.
        dense_spacing: seconds between frames at which a window counts as resolved.
        relative_threshold: records scoring below this share of the best mark no candidate.
    """

    def __init__(self, state: EpisodeState, dense_spacing: float = 2.0, relative_threshold: float = 0.5):
        self.state = state
        self.dense_spacing = float(dense_spacing)
        self.relative_threshold = float(relative_threshold)
        self._calls = state.tool_calls
        self._evidence = state.all_evidence
        nv = state.num_videos
        self.samples: list[list[float]] = [[] for _ in range(nv)]
        self.listened = np.zeros(nv, dtype=bool)
        self.skims = 0
        text = " ".join([state.question, *state.options])
        self.query = frozenset(w for w in stemmed_words(text) - _GENERIC if not w.replace(".", "").isdigit())
        self.option_words = [frozenset(stemmed_words(o) - _GENERIC) for o in state.options]
        self.named = named_windows(state.question, state.durations)
        self.records: list[tuple[int, float, float, str, frozenset[str]]] = []
        self._n_calls = self._n_evidence = 0
        self._scored: tuple[np.ndarray, list[Candidate]] | None = None

    def follows(self, state: EpisodeState) -> bool:
        return self.state is state and self._calls is state.tool_calls and self._evidence is state.all_evidence

    def update(self) -> "SearchMemory":
        s = self.state
        changed = False
        for call in s.tool_calls[self._n_calls:]:
            changed = True
            args = call.get("arguments") or {}
            if call.get("name") == "observe":
                targets = args.get("targets") or ()
                if len(targets) >= s.num_videos > 0 and all(
                        float(t.get("start", 0)) <= 0 and float(t.get("end", 0)) >= s.durations[int(t.get("video", 1)) - 1] - 1e-6
                        for t in targets):
                    self.skims += 1
                for t in targets:
                    v = int(t.get("video", 0)) - 1
                    if not 0 <= v < s.num_videos:
                        continue
                    start, end = max(0.0, float(t["start"])), min(s.durations[v], float(t["end"]))
                    n = int(t.get("num_frames", 1))
                    if end <= start or n < 1:
                        continue
                    step = (end - start) / n
                    self.samples[v].extend(start + (i + 0.5) * step for i in range(n))
                    self.samples[v].sort()
            elif call.get("name") == "listen":
                v = int(args.get("video", 0)) - 1
                if 0 <= v < s.num_videos:
                    self.listened[v] = True
        self._n_calls = len(s.tool_calls)
        for ev in s.all_evidence[self._n_evidence:]:
            changed = True
            v = int(_get(ev, "video", 0)) - 1
            if 0 <= v < s.num_videos:
                content = str(_get(ev, "content", ""))
                self.records.append((v, float(_get(ev, "start", 0.0)), float(_get(ev, "end", 0.0)),
                                     str(_get(ev, "kind", "")), stemmed_words(content)))
        self._n_evidence = len(s.all_evidence)
        if changed:
            self._scored = None
        return self

    # -- scoring ---------------------------------------------------------------------------------
    def _idf(self, query: frozenset[str]) -> dict[str, float]:
        docs = {r[4] for r in self.records}  # distinct contents: repeated sightings count once
        df = Counter(w for words in docs for w in words & query)
        return {w: math.log((len(docs) + 1) / (df[w] + 0.5)) for w in query}

    def in_named_window(self, video: int, start: float, end: float) -> bool:
        return any(v == video and start <= b and end >= a for v, a, b in self.named)

    def feedback_words(self) -> frozenset[str]:
        """Words of what was seen or heard inside the windows the question names ("in video 1,
        between 49.9 and 52.6 s, ..."): such a question points at evidence by time instead of
        saying what it is, so what was found there is what to look for in the other videos."""
        if not self.named:
            return frozenset()
        words = [r[4] for r in self.records if self.in_named_window(r[0], r[1], r[2])]
        return frozenset().union(*words) - self.query - _GENERIC if words else frozenset()

    def scores(self) -> np.ndarray:
        """Per evidence record, the IDF-weighted count of question/option words it contains."""
        return self._score()[0]

    def candidates(self) -> list[Candidate]:
        """Candidate windows, best first (see the module docstring); merged per video."""
        return self._score()[1]

    def unresolved(self) -> list[Candidate]:
        return [c for c in self.candidates() if not c.resolved]

    def _score(self) -> tuple[np.ndarray, list[Candidate]]:
        if self._scored is not None:
            return self._scored
        if self.records and self.query:
            # records in the videos the named windows are not in are also scored on what was found inside them
            expanded = self.query | self.feedback_words()
            named_videos = {v for v, _, _ in self.named}
            idf = self._idf(expanded)
            scores = np.array([math.fsum(idf[w] for w in r[4] & (self.query if r[0] in named_videos else expanded))
                               for r in self.records])  # fsum: exact in any set order
        else:
            scores = np.zeros(len(self.records))
        best = float(scores.max()) if len(scores) else 0.0
        # windows the question names come first (scored above every record) until resolved
        windows = [Candidate(v, a, b, 2.0 * best if best > 0 else 1.0) for v, a, b in self.named]
        if best > 0:
            for (v, a, b, kind, _), sc in zip(self.records, scores):
                if sc <= 0 or sc < self.relative_threshold * best:
                    continue
                audio = kind in _AUDIO_KINDS
                start, end = (a, b) if audio else self.unseen_bounds(v, a, b)
                windows.append(Candidate(v, start, end, float(sc), audio))
        merged: list[Candidate] = []
        for w in sorted(windows, key=lambda w: (w.video, w.start)):
            last = merged[-1] if merged else None
            if last and last.video == w.video and w.start <= last.end:
                last.end = max(last.end, w.end)
                last.score = max(last.score, w.score)
                last.audio = last.audio and w.audio
            else:
                merged.append(w)
        for c in merged:
            c.resolved = self.resolved(c.video, c.start, c.end)
        merged.sort(key=lambda c: (-c.score, c.end - c.start, c.video, c.start))
        self._scored = (scores, merged)
        return self._scored

    def named_unresolved(self) -> bool:
        return any(not self.resolved(v, a, b) for v, a, b in self.named)

    def unseen_bounds(self, video: int, first: float, last: float) -> tuple[float, float]:
        """The stretch between the sampled frames next to an item seen from ``first`` to ``last``."""
        times = self.samples[video]
        i = bisect.bisect_left(times, first - 1e-6)
        j = bisect.bisect_right(times, last + 1e-6)
        start = times[i - 1] if i > 0 else 0.0
        end = times[j] if j < len(times) else self.state.durations[video]
        return start, end

    def resolved(self, video: int, start: float, end: float) -> bool:
        """Whether frames inside the window are already at most ``dense_spacing`` s apart."""
        times = self.samples[video]
        i = bisect.bisect_left(times, start)
        j = bisect.bisect_right(times, end)
        points = [start, *times[i:j], end]
        return max(b - a for a, b in zip(points, points[1:])) <= self.dense_spacing * 1.05

    def frames_in(self, video: int, start: float, end: float) -> int:
        times = self.samples[video]
        return bisect.bisect_right(times, end) - bisect.bisect_left(times, start)

    def dense_frames(self, length: float) -> int:
        return max(2, math.ceil(length / self.dense_spacing))

    def unmatched_videos(self) -> list[int]:
        """Videos (0-based) where no candidate window lies."""
        hit = {c.video for c in self.candidates()}
        return [v for v in range(self.state.num_videos) if v not in hit]

    def option_match(self) -> np.ndarray:
        """Per option, the IDF-weighted share of its words found in any evidence record."""
        out = np.zeros(len(self.option_words), np.float32)
        if not self.records:
            return out
        docs = {r[4] for r in self.records}
        seen = frozenset().union(*docs)
        n = len(docs)
        df = Counter(w for words in docs for w in words)
        for i, words in enumerate(self.option_words):
            if not words:
                continue
            weight = {w: math.log((n + 1) / (df.get(w, 0) + 0.5)) + 1.0 for w in words}
            out[i] = math.fsum(weight[w] for w in words & seen) / math.fsum(weight.values())  # any set order
        return out


def named_windows(question: str, durations: Sequence[float]) -> list[tuple[int, float, float]]:
    """Windows the question names explicitly, as ``(video (0-based), start, end)``."""
    out: list[tuple[int, float, float]] = []
    for pattern, (v, a, b) in _NAMED_WINDOWS:
        for m in pattern.finditer(question):
            video, start, end = int(m.group(v)), float(m.group(a)), float(m.group(b))
            if 1 <= video <= len(durations) and start < end <= durations[video - 1] + 1e-6:
                out.append((video - 1, start, end))
        if out:
            break
    return out


def frame_allowance(state: EpisodeState, frames_per_video: int | None) -> int:
    """Frames an episode may spend: the env's budget, capped at ``frames_per_video`` times the
    number of videos when given (the same cap as the heuristic's and single-pass's)."""
    if not frames_per_video:
        return state.frame_budget
    return min(state.frame_budget, int(frames_per_video) * max(1, state.num_videos))


def frames_left(state: EpisodeState, frames_per_video: int | None) -> int:
    """Frames still allowed (:func:`frame_allowance` minus the frames spent)."""
    return max(0, frame_allowance(state, frames_per_video) - state.frames)


def memory_of(state: EpisodeState, dense_spacing: float = 2.0) -> SearchMemory:
    """The :class:`SearchMemory` of ``state``, up to date (kept on the state between calls)."""
    mem = state.__dict__.get("_search_memory")
    if mem is None or not mem.follows(state) or mem.dense_spacing != dense_spacing:
        mem = SearchMemory(state, dense_spacing)
        state.__dict__["_search_memory"] = mem
    return mem.update()


# ---------------------------------------------------------------------------------------------
# actions
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchEntry:
    """One catalogue entry. ``kind`` is ``observe``, ``listen`` or ``answer_from_evidence``
    (what reaches the env); ``move`` says how the call is built (``skim``, ``zoom``, ``rescan``,
    ``scan``, ``window``, ``listen``, ``answer``); the rest parametrise it (-1 when unused)."""

    kind: str
    move: str
    video: int = -1
    window: int = -1
    frames: int = -1
    level: float = -1.0
    listen: bool = False


class SearchCatalogue:
    """Numbered search moves, relative to what was seen (see the module docstring).

    Entries, in order:

    1. ``skim(f)``: one observe call over every whole video, ``f`` frames each (``skim_frames``),
       and the same with every unheard audio track listened to in the same step;
    2. ``listen``: listen to every whole audio track not yet heard (one step);
    3. ``zoom(level, dense)``: observe the best unresolved candidate window (``level`` 1) or every
       unresolved candidate scoring at least ``level`` times the best one (up to ``max_targets``;
       ``zoom_levels``); a window gets a frame every ``dense_spacing`` seconds when that takes at
       most ``dense`` frames (``zoom_dense``), else ``narrow_frames`` frames spread over it, which
       tighten its bounds for the next zoom;
    4. ``rescan(f)``: observe the videos where nothing matched, ``f`` frames each, shifted by half
       the gap between the frames already taken (new times);
    5. ``scan(f)``: observe the video the answer is about (the task's ``answer_video``, e.g. "when
       in video 3 ...?"), whole, ``f`` frames (``scan_frames``, none by default), shifted by half
       the gap between the frames already taken;
    6. ``window(v, w, f)``: observe window ``w`` (scales ``scales``) of video ``v`` with ``f``
       frames (``frame_counts``);
    7. ``answer_from_evidence``: the reader macro-action (:func:`cvr_gym.wrappers.catalogue.read_from_evidence`).

    Masked out: moves with nothing to do (no unresolved candidate, a multi-window zoom that would
    pick only the best window, no unheard track, every video matched, no answer video to scan), observe moves with no
    frames left, moves on missing videos, everything but the answer on the last step, and (with
    ``look_before_answer``) the answer while some video has not been looked at (or, with
    ``min_frames_per_video``, while fewer frames than that per video were spent).
    Requests above the frames left are cut to fit. With ``frames_per_video`` the frames left are
    those of an allowance of that many frames per video (capped by the env's budget), the cap
    the heuristic and single-pass agents work under, so a policy is compared at equal cost.

    Arguments:
        max_videos: videos a task may have.
        skim_frames, zoom_levels, zoom_dense, narrow_frames, rescan_frames, scan_frames, scales,
            frame_counts: see above.
        dense_spacing: seconds between frames at which a window counts as resolved.
        max_targets: targets per observe call (the env's, default 4).
        max_frames_per_target: the env's per-target frame limit (default 64).
        frames_per_video: frame allowance per video on average (``None``: the env's budget only).
        look_before_answer: mask the answer until every video has had a frame looked at (while
            frames are left): without it a cost-weighted reward teaches a policy to answer from
            listening alone, guessing on questions about what is seen.
        min_frames_per_video: mask the answer until this many frames per video were spent (while
            frames are left), a floor under the search so that no kind of question is given up on.
        focus: ``"question"`` (the question is the focus prompt) or a fixed text.
    """

    def __init__(self, max_videos: int = 4, skim_frames: Sequence[int] = (8, 12, 16, 24),
                 zoom_levels: Sequence[float] = (1.0, 0.9, 0.6), zoom_dense: Sequence[int] = (6, 16, 48),
                 narrow_frames: int = 6, rescan_frames: Sequence[int] = (8, 16), scan_frames: Sequence[int] = (),
                 scales: Sequence[int] = (1, 2, 4),
                 frame_counts: Sequence[int] = (8, 16), dense_spacing: float = 2.0, max_targets: int = 4,
                 max_frames_per_target: int = 64, frames_per_video: int | None = None,
                 look_before_answer: bool = False, min_frames_per_video: int = 0, focus: str = "question",
                 **_ignored: Any):
        self.look_before_answer = bool(look_before_answer)
        self.min_frames_per_video = int(min_frames_per_video)
        self.max_videos = int(max_videos)
        self.frames_per_video = int(frames_per_video) if frames_per_video else None
        self.skim_frames = tuple(int(f) for f in skim_frames)
        self.zoom_levels = tuple(float(x) for x in zoom_levels)
        self.zoom_dense = tuple(int(c) for c in zoom_dense)
        self.narrow_frames = int(narrow_frames)
        self.rescan_frames = tuple(int(f) for f in rescan_frames)
        self.scan_frames = tuple(int(f) for f in scan_frames)
        self.scales = tuple(int(s) for s in scales)
        self.frame_counts = tuple(int(f) for f in frame_counts)
        self.dense_spacing = float(dense_spacing)
        self.max_targets = int(max_targets)
        self.max_frames_per_target = int(max_frames_per_target)
        self.focus = focus
        self.windows = tuple((k / s, (k + 1) / s) for s in self.scales for k in range(s))
        entries: list[SearchEntry] = [SearchEntry("observe", "skim", frames=f, listen=li)
                                      for li in (False, True) for f in self.skim_frames]
        entries.append(SearchEntry("listen", "listen"))
        entries += [SearchEntry("observe", "zoom", level=x, frames=c) for x in self.zoom_levels for c in self.zoom_dense]
        entries += [SearchEntry("observe", "rescan", frames=f) for f in self.rescan_frames]
        entries += [SearchEntry("observe", "scan", frames=f) for f in self.scan_frames]
        entries += [SearchEntry("observe", "window", video=v, window=w, frames=f)
                    for v in range(self.max_videos) for w in range(len(self.windows)) for f in self.frame_counts]
        entries.append(SearchEntry("answer_from_evidence", "answer"))
        self._entries = entries
        self.n = len(entries)
        self.reader_index = self.n - 1
        self.use_reader = True
        self.num_choices = 0

    def config(self) -> dict[str, Any]:
        """Arguments that rebuild this catalogue (stored in checkpoints; ``class`` names it)."""
        return {"class": f"{__name__}:SearchCatalogue", "max_videos": self.max_videos,
                "skim_frames": list(self.skim_frames), "zoom_levels": list(self.zoom_levels),
                "zoom_dense": list(self.zoom_dense), "narrow_frames": self.narrow_frames,
                "rescan_frames": list(self.rescan_frames), "scan_frames": list(self.scan_frames),
                "scales": list(self.scales),
                "frame_counts": list(self.frame_counts), "dense_spacing": self.dense_spacing,
                "max_targets": self.max_targets, "max_frames_per_target": self.max_frames_per_target,
                "frames_per_video": self.frames_per_video, "look_before_answer": self.look_before_answer,
                "min_frames_per_video": self.min_frames_per_video,
                "focus": self.focus}

    def __len__(self) -> int:
        return self.n

    def entry(self, index: int) -> SearchEntry:
        return self._entries[index]

    def action_groups(self) -> list[int]:
        """Group per entry for hierarchical policies: 0 skim/listen, 1 zoom/rescan/scan, 2 windows, 3 answer."""
        ids = {"skim": 0, "listen": 0, "zoom": 1, "rescan": 1, "scan": 1, "window": 2, "answer": 3}
        return [ids[e.move] for e in self._entries]

    def describe(self, index: int) -> str:
        e = self._entries[index]
        if e.move == "skim":
            return f"skim every video x{e.frames}" + (" and listen" if e.listen else "")
        if e.move == "listen":
            return "listen to every track"
        if e.move == "zoom":
            which = "the best candidate" if e.level >= 1.0 else f"candidates scoring >= {e.level:g} x best"
            return f"zoom into {which}, dense up to {e.frames} frames"
        if e.move == "rescan":
            return f"rescan unmatched videos x{e.frames}"
        if e.move == "scan":
            return f"scan the answer video x{e.frames}"
        if e.move == "window":
            a, b = self.windows[e.window]
            return f"observe v{e.video + 1} [{a:.3g}-{b:.3g}] x{e.frames}"
        return "answer_from_evidence"

    # -- masks -----------------------------------------------------------------------------------
    def action_mask(self, state: EpisodeState) -> np.ndarray:
        mask = np.zeros(self.n, dtype=bool)
        mask[self.reader_index] = True
        if state.steps >= state.max_steps - 1:
            return mask
        mem = memory_of(state, self.dense_spacing)
        nv = min(state.num_videos, self.max_videos)
        can_look = frames_left(state, self.frames_per_video) > 0 and nv > 0
        unheard = any(a and not h for a, h in zip(state.has_audio, mem.listened))
        open_windows = mem.unresolved()
        unmatched = bool(mem.unmatched_videos()) and mem.skims > 0
        for i, e in enumerate(self._entries):
            if e.move == "skim":
                mask[i] = can_look and (unheard or not e.listen)
            elif e.move == "listen":
                mask[i] = unheard
            elif e.move == "zoom":
                mask[i] = can_look and bool(open_windows) and (
                    e.level >= 1.0 or len(self._select(open_windows, e.level)) > 1)
            elif e.move == "rescan":
                mask[i] = can_look and unmatched
            elif e.move == "scan":
                mask[i] = can_look and 1 <= (state.answer_video or 0) <= nv
            elif e.move == "window":
                mask[i] = can_look and e.video < nv
        if can_look and ((self.look_before_answer and any(not mem.samples[v] for v in range(nv)))
                         or state.frames < self.min_frames_per_video * nv):
            mask[self.reader_index] = False  # the reader would guess: look first
        return mask

    # -- decoding --------------------------------------------------------------------------------
    def _focus(self, state: EpisodeState) -> str:
        return state.question[:300] if self.focus == "question" else self.focus

    def _targets(self, wanted: list[tuple[int, float, float, int]], state: EpisodeState) -> list[tuple[int, float, float, int]]:
        """Clip frame requests to the per-target limit and the frames left, in order. A request whose
        frames would fall where frames were already taken (the same window asked again, e.g. a
        zoom narrowing a window its last frames did not tighten) starts half a frame gap later,
        so every look brings new times."""
        left = frames_left(state, self.frames_per_video)
        times = memory_of(state, self.dense_spacing).samples
        out = []
        for v, a, b, f in wanted[: self.max_targets]:
            f = max(0, min(int(f), self.max_frames_per_target, left))
            if f <= 0:
                break
            left -= f
            end = min(b, state.durations[v])
            if end <= a:
                continue
            step = (end - a) / f
            i = bisect.bisect_left(times[v], a + 0.4 * step)
            if i < len(times[v]) and times[v][i] <= a + 0.6 * step:  # the first frame was taken before
                a += 0.5 * step
            out.append((v + 1, round(a, 3), round(end, 3), f))
        return out

    def _select(self, open_windows: list[Candidate], level: float) -> list[Candidate]:
        if not open_windows or level >= 1.0:
            return open_windows[:1]
        top = open_windows[0].score
        return [c for c in open_windows if c.score >= level * top][: self.max_targets]

    def _zoom(self, mem: SearchMemory, level: float, dense_cap: int) -> list[tuple[int, float, float, int]]:
        """Targets of ``zoom(level, dense_cap)`` (see the class docstring)."""
        out = []
        for c in self._select(mem.unresolved(), level):
            dense = mem.dense_frames(c.end - c.start)
            out.append((c.video, c.start, c.end, dense if dense <= dense_cap else min(dense_cap, self.narrow_frames)))
        return out

    def to_tool_call(self, index: int, state: EpisodeState) -> "ToolCall | list[ToolCall]":
        """The call(s) entry ``index`` stands for now (several listen calls for ``listen``)."""
        if not 0 <= int(index) < self.n:
            raise IndexError(f"action {index} is outside 0..{self.n - 1}")
        e = self._entries[int(index)]
        if e.move == "answer":
            from cvr_gym.wrappers.catalogue import read_from_evidence

            return ToolCall.answer(read_from_evidence(state))
        mem = memory_of(state, self.dense_spacing)
        focus = self._focus(state)
        nv = min(state.num_videos, self.max_videos)
        if e.move == "listen":
            return self._listen_calls(mem, state, focus) or [
                ToolCall.listen(1, 0.0, state.durations[0] if nv else 1.0, focus=focus)]
        wanted: list[tuple[int, float, float, int]] = []
        if e.move == "skim":
            wanted = [(v, 0.0, state.durations[v], e.frames) for v in range(nv)]
        elif e.move == "zoom":
            wanted = self._zoom(mem, e.level, e.frames)
        elif e.move == "rescan":
            wanted = [self._shifted(mem, state, v, e.frames) for v in mem.unmatched_videos() or range(nv)]
        elif e.move == "scan" and 1 <= (state.answer_video or 0) <= nv:
            wanted = [self._shifted(mem, state, state.answer_video - 1, e.frames)]
        elif e.move == "window" and e.video < nv:
            a, b = self.windows[e.window]
            d = state.durations[e.video]
            wanted = [(e.video, a * d, b * d, e.frames)]
        targets = self._targets(wanted, state)
        if not targets:  # nothing to look at (masked move sent anyway): a minimal look at video 1
            targets = [(1, 0.0, state.durations[0] if state.num_videos else 1.0, 1)]
        call = ToolCall.observe_many(targets, focus=focus)
        if e.move == "skim" and e.listen:
            return [call, *self._listen_calls(mem, state, focus)]
        return call

    @staticmethod
    def _shifted(mem: SearchMemory, state: EpisodeState, v: int, frames: int) -> tuple[int, float, float, int]:
        """Video ``v`` whole, starting half the gap between the frames already taken in (new times)."""
        gap = state.durations[v] / max(1, len(mem.samples[v]))
        return (v, min(state.durations[v] * 0.999, gap / 2), state.durations[v], frames)

    def _listen_calls(self, mem: SearchMemory, state: EpisodeState, focus: str) -> list[ToolCall]:
        nv = min(state.num_videos, self.max_videos)
        return [ToolCall.listen(v + 1, 0.0, state.durations[v], focus=focus)
                for v in range(nv) if state.has_audio[v] and not mem.listened[v]]


# ---------------------------------------------------------------------------------------------
# observations
# ---------------------------------------------------------------------------------------------
class SearchEncoder:
    """Encodes an episode for search policies (a ``Dict`` of ``Box`` in [-1, 1]).

    Keys (``V = max_videos``, ``W`` = windows of ``scales``, ``K = top_candidates``,
    ``O = max_options``, ``D = text_dim``):

    - ``question`` (D,): hashed bag of words of the question (what kind of question it is).
    - ``task`` (6 + 4V + 3,): answer type one-hot, which videos exist, their durations
      (``log1p(d) / log1p(1800)``), which have audio, which is the ``answer_video``, option
      count / O, whether there are no options, whether the question names a window.
    - ``progress`` (10,): steps used / max, frames used / allowance, frames left / allowance (the
      env's budget, or ``frames_per_video`` per video as in :class:`SearchCatalogue`), whether
      one step is left, skims done / 3, share of audio tracks heard, distinct evidence / 40, new
      evidence last step / 10, matching records / 20, unresolved candidates / 4.
    - ``coverage`` (V, 2, W): per video and window, frames there relative to dense sampling
      (``min(1, frames * dense_spacing / length)``) and ``frames / (frames + 4)``.
    - ``heat`` (V, 3, W): per video and window, the best match score of visual records inside it
      relative to the best record of the episode, the same for audio records, and the best
      absolute score squashed (``1 - exp(-score / 4)``).
    - ``candidates`` (K, 7 + V): the best candidate windows: present, relative score, absolute
      score (squashed), start / duration, length / duration, ``log1p(length) / log1p(1800)``,
      resolved, video one-hot.
    - ``options`` (2, O): which options exist, and the weighted share of each option's words
      found in the evidence.

    Arguments:
        max_videos, max_options: task size bounds.
        scales: window scales of ``coverage`` and ``heat`` (default 1, 2, 4, 8: 15 windows).
        top_candidates: K.
        text_dim: hash buckets of ``question``.
        dense_spacing, frames_per_video: as in :class:`SearchCatalogue` (keep them equal).
    """

    def __init__(self, max_videos: int = 4, max_options: int = 8, scales: Sequence[int] = (1, 2, 4, 8),
                 top_candidates: int = 4, text_dim: int = 64, dense_spacing: float = 2.0,
                 frames_per_video: int | None = None, **_ignored: Any):
        self.frames_per_video = int(frames_per_video) if frames_per_video else None
        self.max_videos = int(max_videos)
        self.max_options = int(max_options)
        self.scales = tuple(int(s) for s in scales)
        self.top_candidates = int(top_candidates)
        self.text_dim = int(text_dim)
        self.dense_spacing = float(dense_spacing)
        self.text = make_text_encoder("hash", self.text_dim)
        self.windows = np.array([(k / s, (k + 1) / s) for s in self.scales for k in range(s)], dtype=np.float64)
        V, W, K, O = self.max_videos, len(self.windows), self.top_candidates, self.max_options
        self.n_task = len(ANSWER_TYPES) + 4 * V + 3
        box = lambda *shape: spaces.Box(-1.0, 1.0, shape=shape, dtype=np.float32)  # noqa: E731
        self.observation_space = spaces.Dict({
            "question": box(self.text.dim), "task": box(self.n_task), "progress": box(10),
            "coverage": box(V, 2, W), "heat": box(V, 3, W), "candidates": box(K, 7 + V), "options": box(2, O),
        })
        self.state = EpisodeState()
        self._follow: Any = None

    def follow(self, provider: Any) -> None:
        """Read the episode from ``provider()`` (an :class:`EpisodeState` kept up to date by
        someone else, e.g. the ``DiscreteActions`` wrapper below) instead of keeping a copy: the
        search memory is then computed once per step for the action mask and the observation."""
        self._follow = provider

    def config(self) -> dict[str, Any]:
        return {"class": f"{__name__}:SearchEncoder", "max_videos": self.max_videos,
                "max_options": self.max_options, "scales": list(self.scales),
                "top_candidates": self.top_candidates, "text_dim": self.text_dim,
                "dense_spacing": self.dense_spacing, "frames_per_video": self.frames_per_video}

    def reset(self, obs: Any, info: dict) -> dict[str, np.ndarray]:
        self.state = self._follow() if self._follow is not None else EpisodeState.from_reset(obs, info)
        s = self.state
        self._question = self.text.encode([s.question or " "])[0].astype(np.float32)
        V = self.max_videos
        task = np.zeros(self.n_task, np.float32)
        task[_TYPE_INDEX.get(s.answer_type, 0)] = 1.0
        base = len(ANSWER_TYPES)
        for v in range(min(V, s.num_videos)):
            task[base + v] = 1.0
            task[base + V + v] = min(1.0, math.log1p(s.durations[v]) / _LOG_MAX)
            task[base + 2 * V + v] = float(s.has_audio[v])
        if s.answer_video and 1 <= s.answer_video <= V:
            task[base + 3 * V + s.answer_video - 1] = 1.0
        task[base + 4 * V] = min(1.0, s.num_options / self.max_options)
        task[base + 4 * V + 1] = float(s.num_options == 0)
        task[base + 4 * V + 2] = float(bool(named_windows(s.question, s.durations)))
        self._task = task
        return self.encode()

    def step(self, obs: Any, info: dict, action_index: int | None = None) -> dict[str, np.ndarray]:
        if self._follow is None:
            self.state.update(obs, info, action_index)
        return self.encode()

    def encode(self) -> dict[str, np.ndarray]:
        s = self.state
        mem = memory_of(s, self.dense_spacing)
        V, W, K, O = self.max_videos, len(self.windows), self.top_candidates, self.max_options
        scores = mem.scores()
        best = float(scores.max()) if len(scores) else 0.0
        cands = mem.candidates()
        coverage = np.zeros((V, 2, W), np.float32)
        heat = np.zeros((V, 3, W), np.float32)
        for v in range(min(V, s.num_videos)):
            d = max(s.durations[v], 1e-6)
            starts, ends = self.windows[:, 0] * d, self.windows[:, 1] * d
            times = np.asarray(mem.samples[v])
            if len(times):
                n = (np.searchsorted(times, ends, "right") - np.searchsorted(times, starts, "left")).astype(np.float32)
                coverage[v, 0] = np.minimum(1.0, n * self.dense_spacing / np.maximum(ends - starts, 1e-6))
                coverage[v, 1] = n / (n + 4.0)
        if best > 0:
            for (v, a, b, kind, _), sc in zip(mem.records, scores):
                if sc <= 0 or v >= V:
                    continue
                d = max(s.durations[v], 1e-6)
                inside = (self.windows[:, 0] * d <= b) & (self.windows[:, 1] * d >= a)
                ch = 1 if kind in _AUDIO_KINDS else 0
                heat[v, ch] = np.where(inside, np.maximum(heat[v, ch], sc / best), heat[v, ch])
                heat[v, 2] = np.where(inside, np.maximum(heat[v, 2], 1.0 - math.exp(-sc / 4.0)), heat[v, 2])
        cand = np.zeros((K, 7 + V), np.float32)
        for k, c in enumerate([c for c in cands if not c.resolved][:K] or cands[:K]):
            d = max(s.durations[c.video], 1e-6)
            length = max(0.0, c.end - c.start)
            cand[k, :7] = (1.0, c.score / best if best else 0.0, 1.0 - math.exp(-c.score / 4.0), c.start / d,
                           min(1.0, length / d), min(1.0, math.log1p(length) / _LOG_MAX), float(c.resolved))
            if c.video < V:
                cand[k, 7 + c.video] = 1.0
        options = np.zeros((2, O), np.float32)
        n_opt = min(O, s.num_options)
        options[0, :n_opt] = 1.0
        options[1, :n_opt] = mem.option_match()[:n_opt]
        audio_tracks = sum(1 for a in s.has_audio if a)
        heard = sum(1 for a, h in zip(s.has_audio, mem.listened) if a and h)
        ms, fb = max(1, s.max_steps), max(1, frame_allowance(s, self.frames_per_video))
        progress = np.array([
            min(1.0, s.steps / ms), min(1.0, s.frames / fb), frames_left(s, self.frames_per_video) / fb,
            float(s.steps_left <= 1),
            min(1.0, mem.skims / 3), heard / audio_tracks if audio_tracks else 1.0, min(1.0, len(s.evidence) / 40),
            min(1.0, s.last_new_evidence / 10), min(1.0, float((scores > 0).sum()) / 20),
            min(1.0, len([c for c in cands if not c.resolved]) / 4)], dtype=np.float32)
        return {"question": self._question.copy(), "task": self._task.copy(), "progress": progress,
                "coverage": coverage, "heat": heat, "candidates": cand, "options": options}


def wrap_search_env(env: gym.Env, catalogue: dict[str, Any] | None = None,
                    encoder: dict[str, Any] | None = None) -> gym.Env:
    """``VectorObservation(DiscreteActions(env))`` with a :class:`SearchCatalogue` and a
    :class:`SearchEncoder` (keyword arguments in ``catalogue`` / ``encoder``)."""
    from cvr_gym.wrappers.discrete_actions import DiscreteActions
    from cvr_gym.wrappers.vector_observation import VectorObservation

    space = env.unwrapped.action_space
    cat_kwargs = {"max_videos": int(getattr(space, "max_videos", 4)),
                  "max_targets": int(getattr(space, "max_targets", 4)),
                  "max_frames_per_target": int(getattr(space, "max_frames_per_target", 64)),
                  **{k: v for k, v in (catalogue or {}).items() if k != "class"}}
    cat = SearchCatalogue(**cat_kwargs)
    enc = SearchEncoder(**{"max_videos": cat.max_videos, "dense_spacing": cat.dense_spacing,
                           "frames_per_video": cat.frames_per_video,
                           **{k: v for k, v in (encoder or {}).items() if k != "class"}})
    actions = DiscreteActions(env, catalogue=cat)
    enc.follow(lambda: actions.state)
    return VectorObservation(actions, encoder=enc)


def _from_config(config: dict[str, Any], default: str) -> Any:
    import importlib

    module, _, name = str(config.get("class", default)).partition(":")
    cls = getattr(importlib.import_module(module), name)
    return cls(**{k: v for k, v in config.items() if k != "class"})


def catalogue_from_config(config: dict[str, Any]) -> Any:
    """The action catalogue a checkpoint's ``catalogue`` config describes (``class`` names it;
    without one, an :class:`~cvr_gym.wrappers.catalogue.ActionCatalogue`)."""
    return _from_config(config, "cvr_gym.wrappers.catalogue:ActionCatalogue")


def encoder_from_config(config: dict[str, Any]) -> Any:
    """The observation encoder a checkpoint's ``encoder`` config describes (``class`` names it;
    without one, an :class:`~cvr_gym.wrappers.encoding.ObservationEncoder`)."""
    return _from_config(config, "cvr_gym.wrappers.encoding:ObservationEncoder")


__all__ = ["Candidate", "SearchCatalogue", "SearchEncoder", "SearchEntry", "SearchMemory", "catalogue_from_config",
           "encoder_from_config", "frame_allowance", "frames_left", "memory_of", "named_windows", "wrap_search_env"]
