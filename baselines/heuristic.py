"""``heuristic``: an active coarse-to-fine searcher that spends frames where the question points."""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from cvr_gym.core.actions import ToolCall
from cvr_gym.core.focus import stemmed_words
from cvr_gym.core.limits import Limits
from cvr_gym.core.view import TaskView
from cvr_gym.data.readers import READERS, read_answer
from cvr_gym.evaluation.registry import parse_args

# Windows the question names: "In video 1, between 49.9 and 52.6 s", "video 2 at 10-20 s",
# "Between 13.95 and 17.45 s, video 1 shows ...".
_SPAN = r"(?:between|from|at)\s+(\d+(?:\.\d+)?)\s*(?:s\s*)?(?:and|to|-)\s*(\d+(?:\.\d+)?)\s*s"
_NAMED_WINDOWS = (
    (re.compile(r"video\s+(\d+)\b[^.?]*?" + _SPAN, re.IGNORECASE), (1, 2, 3)),
    (re.compile(_SPAN + r"\b[^.?]*?video\s+(\d+)", re.IGNORECASE), (3, 1, 2)),
)
_AUDIO_WORDS = frozenset({"say", "says", "said", "hear", "heard", "sound", "sounds", "speak", "speaks", "voice",
                          "announce", "announces", "call", "calls", "shout", "shouts", "ask", "asks", "tell", "tells"})


@dataclass
class _Window:
    """A stretch of a video that evidence points at, with how well it matches the question."""

    video: int
    start: float
    end: float
    score: float


class HeuristicAgent:
    """Read the question, skim every video, then zoom into the stretches that match it.

    1. **Skim**: one ``observe`` call over every video (``skim_frames`` frames each, the question's
       words as focus), any window the question names explicitly ("in video 1, between 49.9 and
       52.6 s") looked at densely, and one ``listen`` per video with audio, all in one step.
    2. **Focus**: every evidence record is scored by the question and option words it shares,
       weighted by how rare each word is among everything seen (so "the cook" counts little and
       "soy sauce" a lot). Records scoring at least ``relative_threshold`` times the best mark a
       window: for something seen, the stretch between the nearest sampled frames where it was
       *not* seen (the scene lies inside; what happens during it is what we look for); for
       something heard, its exact times.
    3. **Zoom**: the best windows are observed again (several targets per call: a side-by-side
       comparison across videos). A window too long to sample densely with the frames left is
       first narrowed with ``narrow_frames`` frames (which tightens its bounds); a short one gets
       frames every ``dense_spacing`` seconds, so short events inside it are not missed. Videos
       where nothing matched are re-scanned between the frames already taken. Rounds repeat while
       frames and steps remain.
    4. **Answer** with the evidence reader (:mod:`cvr_gym.data.readers`).

    Frames are capped at ``frames_per_video`` times the number of videos (and the env's frame
    budget), so the agent never spends more than a single pass with that many frames per video.

    Arguments:
        frames_per_video: frame cap per video on average (default 32).
        skim_frames: frames per video in the first skim (default 12).
        dense_spacing: seconds between frames when zooming (default 2.0).
        max_windows: windows zoomed into per round (default: the env's targets per call).
        listen: listen to every audio track during the skim (default True).
        action_space: the env's action space (for per-call limits).
        reader: answer reader, ``"auto"``, ``"family"`` or ``"generic"``.
        narrow_frames: frames used to narrow a window too long to sample densely (default 6).
        relative_threshold: keep records scoring at least this share of the best (default 0.5).
    """

    name = "heuristic"

    def __init__(self, frames_per_video: int = 32, skim_frames: int = 12, dense_spacing: float = 2.0,
                 max_windows: int | None = None, listen: bool = True, action_space: Any | None = None,
                 reader: str = "auto", narrow_frames: int = 6, relative_threshold: float = 0.5):
        if reader not in READERS:
            raise ValueError(f"unknown reader {reader!r}; readers are {', '.join(READERS)}")
        if skim_frames < 1 or frames_per_video < skim_frames:
            raise ValueError("need 1 <= skim_frames <= frames_per_video")
        self.frames_per_video = int(frames_per_video)
        self.skim_frames = int(skim_frames)
        self.dense_spacing = float(dense_spacing)
        self.narrow_frames = int(narrow_frames)
        self.relative_threshold = float(relative_threshold)
        self.listen = bool(listen)
        self.reader = reader
        self.base_limits = Limits.from_space(action_space)
        self.max_windows = int(max_windows or self.base_limits.max_targets)
        if frames_per_video != 32:
            self.name = f"heuristic:{frames_per_video}"

    @classmethod
    def from_spec(cls, arg: str | None, seed: int = 0, action_space: Any | None = None) -> "HeuristicAgent":
        """``heuristic[:N][,skim=K][,listen=no][,reader=R]`` (N frames per video on average)."""
        positional, options = parse_args(arg)
        unknown = set(options) - {"skim", "listen", "reader", "spacing"}
        if unknown or len(positional) > 1:
            raise ValueError(f"heuristic takes [FRAMES][,skim=K][,spacing=S][,listen=no][,reader=R], got {arg!r}")
        return cls(int(positional[0]) if positional else 32, skim_frames=int(options.get("skim", 12)),
                   dense_spacing=float(options.get("spacing", 2.0)),
                   listen=options.get("listen", "yes").lower() not in ("no", "false", "0"),
                   action_space=action_space, reader=options.get("reader", "auto"))

    # -- protocol -------------------------------------------------------------------------------
    def reset(self, obs: str, info: dict[str, Any], *, seed: int | None = None) -> None:
        self.limits = Limits.from_info(info, self.base_limits)
        self.view = TaskView.from_info(info)
        ctx = info["action_context"]
        self.durations = [float(d) for d in ctx["durations"]]
        self.has_audio = list(ctx.get("has_audio") or [True] * len(self.durations))
        self.frames_left = min(self.limits.frame_budget, self.frames_per_video * len(self.durations))
        task = info.get("task") or {}
        text = " ".join([task.get("question", self.view.question), *task.get("options", self.view.options)])
        self.focus = _focus_text(self.view.question)
        self.query = {w for w in stemmed_words(text) - _GENERIC if not w.replace('.', '').isdigit()}
        self.named = _named_windows(self.view.question, self.durations)
        self.evidence: list[Any] = []
        self.samples: dict[int, list[float]] = {}  # video -> sorted frame times looked at
        self._rescanned: dict[int, int] = {}
        self.started = False

    def act(self, obs: str, info: dict[str, Any]) -> Any:
        self.evidence.extend(info.get("evidence") or ())
        steps_left = self.limits.max_steps - int(info.get("step", 0))
        if not self.started and steps_left > 1:
            self.started = True
            return self._skim()
        if steps_left > 1 and self.frames_left > 0:
            targets = self._zoom_targets()
            if targets:
                return ToolCall.observe_many(targets, focus=self.focus)
        return ToolCall.answer(read_answer(self.view, self.evidence, self.reader))

    # -- phases ---------------------------------------------------------------------------------
    def _skim(self) -> list[ToolCall]:
        n = len(self.durations)
        skim = min(self.skim_frames, self.frames_left // max(1, n), self.limits.max_frames_per_target)
        targets = []
        for w in self.named:  # windows the question names: look closely first
            targets.append(self._take(w.video, w.start, w.end, self._dense_frames(w.end - w.start)))
        targets += [self._take(v, 0.0, d, skim) for v, d in enumerate(self.durations, start=1) if skim > 0]
        targets = [t for t in targets if t[3] > 0]
        calls = [ToolCall.observe_many(targets[i:i + self.limits.max_targets], focus=self.focus)
                 for i in range(0, len(targets), self.limits.max_targets)]
        if self.listen:
            calls += [ToolCall.listen(v, 0.0, d, focus=self.focus)
                      for v, (d, audio) in enumerate(zip(self.durations, self.has_audio), start=1) if audio]
        return calls

    def _zoom_targets(self) -> list[tuple[int, float, float, int]]:
        windows = [w for w in self._candidate_windows() if not self._resolved(w)]
        windows.sort(key=lambda w: (-w.score, w.end - w.start, w.video))
        chosen = windows[: self.max_windows]
        if len(chosen) < self.max_windows:
            chosen += self._rescans({w.video for w in windows}, self.max_windows - len(chosen))
        targets = []
        for k, w in enumerate(chosen):
            share = max(1, self.frames_left // (len(chosen) - k))
            dense = self._dense_frames(w.end - w.start)
            # Too long to cover densely with our share: narrow it down with a few frames first.
            frames = dense if dense <= share else min(share, self.narrow_frames)
            target = self._take(w.video, w.start, w.end, frames)
            if target[3] > 0:
                targets.append(target)
        return targets

    def _rescans(self, covered: set[int], k: int) -> list[_Window]:
        """Videos where nothing matched yet: sample between the frames already taken."""
        out = []
        for v, d in enumerate(self.durations, start=1):
            if v in covered or len(out) >= k or self._rescanned.get(v, 0) >= 2:
                continue
            self._rescanned[v] = self._rescanned.get(v, 0) + 1
            times = self.samples.get(v, [])
            gap = d / max(1, len(times))
            out.append(_Window(v, min(d, gap / 2), d, 0.0))  # shifted by half a gap: new times
        return out

    # -- evidence -> windows ----------------------------------------------------------------------
    def _candidate_windows(self) -> list[_Window]:
        records = [ev for ev in self.evidence if int(getattr(ev, "video", 0)) >= 1]
        if not records or not self.query:
            return []
        doc_words = {ev.content: stemmed_words(ev.content) for ev in records}
        df = Counter(w for words in doc_words.values() for w in words)
        n_docs = len(doc_words)
        idf = {w: math.log((n_docs + 1) / (df[w] + 0.5)) for w in self.query}
        scored = []
        for ev in records:
            shared = doc_words[ev.content] & self.query
            score = math.fsum(idf.get(w, 0.0) for w in sorted(shared))  # not set order: PYTHONHASHSEED
            if score > 0 and ev.video <= len(self.durations):
                scored.append((score, ev))
        if not scored:
            return []
        best = max(score for score, _ in scored)
        windows = []
        for score, ev in scored:
            if score < self.relative_threshold * best:
                continue
            if ev.kind in ("speech", "sound"):
                start, end = ev.start, ev.end  # listening reports whole items: times are exact
            else:
                start, end = self._unseen_bounds(ev.video, ev.start, ev.end)
            windows.append(_Window(ev.video, start, end, score))
        return _merge(windows)

    def _unseen_bounds(self, video: int, first: float, last: float) -> tuple[float, float]:
        """The item seen from ``first`` to ``last`` was not seen at the neighbouring sampled frames,
        so it lies between them: the window to search for what happens during it."""
        times = self.samples.get(video, [])
        i = bisect.bisect_left(times, first - 1e-6)
        j = bisect.bisect_right(times, last + 1e-6)
        start = times[i - 1] if i > 0 else 0.0
        end = times[j] if j < len(times) else self.durations[video - 1]
        return start, end

    def _resolved(self, window: _Window) -> bool:
        """Whether frames inside ``window`` are already at most ``dense_spacing`` apart."""
        times = self.samples.get(window.video, [])
        i = bisect.bisect_left(times, window.start)
        j = bisect.bisect_right(times, window.end)
        points = [window.start, *times[i:j], window.end]
        return max(b - a for a, b in zip(points, points[1:])) <= self.dense_spacing * 1.05

    def _dense_frames(self, length: float) -> int:
        return max(2, math.ceil(length / self.dense_spacing))

    def _take(self, video: int, start: float, end: float, frames: int) -> tuple[int, float, float, int]:
        """Book a look (within the per-target limit and the frames left) and record its frame times."""
        frames = max(0, min(frames, self.limits.max_frames_per_target, self.frames_left))
        if frames:
            self.frames_left -= frames
            step = (end - start) / frames
            times = self.samples.setdefault(video, [])
            times.extend(start + (i + 0.5) * step for i in range(frames))
            times.sort()
        return (video, round(start, 2), round(end, 2), frames)


_GENERIC = frozenset({"which", "what", "when", "where", "who", "how", "many", "much", "does", "do", "did",
                      "across", "all", "total", "one", "something", "someone", "these", "thing", "happen",
                      "most", "likely", "same", "another", "other", "first", "order", "follow", "step"})


def _focus_text(question: str) -> str:
    return question.strip()[:300]


def _named_windows(question: str, durations: list[float]) -> list[_Window]:
    out: list[_Window] = []
    for pattern, (v, s, e) in _NAMED_WINDOWS:
        for m in pattern.finditer(question):
            video, start, end = int(m.group(v)), float(m.group(s)), float(m.group(e))
            if 1 <= video <= len(durations) and start < end <= durations[video - 1] + 1e-6:
                out.append(_Window(video, start, end, math.inf))
        if out:
            return out
    return out


def _merge(windows: list[_Window]) -> list[_Window]:
    """Merge overlapping windows of the same video, keeping the best score."""
    out: list[_Window] = []
    for w in sorted(windows, key=lambda w: (w.video, w.start)):
        last = out[-1] if out else None
        if last and last.video == w.video and w.start <= last.end:
            last.end = max(last.end, w.end)
            last.score = max(last.score, w.score)
        else:
            out.append(_Window(w.video, w.start, w.end, w.score))
    return out


def make_agent(arg: str | None, seed: int = 0, action_space: Any | None = None) -> HeuristicAgent:
    """active search: skim, then zoom on what the question asks about; heuristic[:N][,skim=K][,listen=no][,reader=R]."""
    return HeuristicAgent.from_spec(arg, seed, action_space)
