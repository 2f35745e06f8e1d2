"""Gymnasium spaces for tool-call actions and text observations."""

from __future__ import annotations

import multiprocessing as mp
import string
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils.shared_memory import (
    create_shared_memory, read_from_shared_memory, write_to_shared_memory,
)

from cvr_gym.core.actions import (
    MAX_FRAMES_PER_TARGET, MAX_SECONDS, MAX_TARGETS, MAX_VIDEO_INDEX, ListenArgs, ObserveArgs, ToolCall,
)
from cvr_gym.core.parsing import ActionParseError, parse_action

OBS_MAX_CHARS = 65_536


class UnicodeText(spaces.Text):
    """A :class:`gymnasium.spaces.Text` that holds any Unicode string up to ``max_length``.

    Observations quote speech and on-screen text in any language, so membership checks only the
    type and length; ``sample()`` draws from printable ASCII.
    """

    def __init__(self, max_length: int = OBS_MAX_CHARS, *, min_length: int = 0, seed: Any = None):
        super().__init__(max_length=max_length, min_length=min_length,
                         charset=string.printable, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, UnicodeText) and (self.min_length, self.max_length) == (
            other.min_length, other.max_length)


# Vector envs in shared-memory mode store text as one int32 per character, indexed into the
# space's charset; observations quote text in any language, so UnicodeText stores code points
# instead (-1 pads), lone surrogates included.
@create_shared_memory.register(UnicodeText)
def _create_unicode_shared_memory(space: UnicodeText, n: int = 1, ctx: Any = mp) -> Any:
    return ctx.Array(np.dtype(np.int32).char, n * space.max_length)


@write_to_shared_memory.register(UnicodeText)
def _write_unicode_to_shared_memory(space: UnicodeText, index: int, value: str, shared_memory: Any) -> None:
    size = space.max_length
    dest = np.frombuffer(shared_memory.get_obj(), dtype=np.int32)[index * size:(index + 1) * size]
    codes = np.frombuffer(value[:size].encode("utf-32-le", "surrogatepass"), dtype=np.int32)
    dest[: len(codes)] = codes
    dest[len(codes):] = -1


class SharedTexts(Sequence):
    """The texts in a shared-memory buffer, decoded on access.

    ``AsyncVectorEnv`` reads its shared buffer once and expects a live view (numpy arrays are);
    this is that view for text. A deep copy (what the vector env returns with ``copy=True``, the
    default) is a plain tuple of the current strings.
    """

    def __init__(self, data: np.ndarray):
        self._data = data

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        row = self._data[index]
        end = np.flatnonzero(row < 0)
        row = row[: end[0]] if end.size else row
        return row.astype("<i4").tobytes().decode("utf-32-le", "surrogatepass")

    def __deepcopy__(self, memo: dict) -> tuple[str, ...]:
        return tuple(self)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __repr__(self) -> str:
        return f"SharedTexts({tuple(self)!r})"


@read_from_shared_memory.register(UnicodeText)
def _read_unicode_from_shared_memory(space: UnicodeText, shared_memory: Any, n: int = 1) -> SharedTexts:
    return SharedTexts(np.frombuffer(shared_memory.get_obj(), dtype=np.int32).reshape((n, space.max_length)))


class ToolCallSpace(spaces.Space):
    """The space of tool calls: ``observe``, ``listen`` and ``answer`` with bounded arguments.

    ``contains(x)`` accepts every form the env's ``step`` accepts (ToolCall, dicts, OpenAI tool
    calls, JSON or tagged text) and is true when ``x`` parses into tool calls within the bounds
    below. ``sample()`` returns a random valid :class:`ToolCall`; pass the episode's
    ``info["action_context"]`` as ``mask`` to sample calls that fit the current task (its video
    count, durations and answer type).

    Arguments:
        max_videos: highest video index a call may name.
        max_duration: latest time (seconds) a window may reach.
        max_frames_per_target: frames one observe target may ask for.
        max_targets: targets one observe call may hold.
        num_options: option letters ``sample()`` draws answers from without a context.
    """

    def __init__(self, max_videos: int = 4, max_duration: float = 1800.0, max_frames_per_target: int = 64,
                 max_targets: int = 4, num_options: int = 4, seed: Any = None):
        if not 1 <= max_targets <= MAX_TARGETS:
            raise ValueError(f"max_targets must be in 1..{MAX_TARGETS}")
        if not 1 <= max_frames_per_target <= MAX_FRAMES_PER_TARGET:
            raise ValueError(f"max_frames_per_target must be in 1..{MAX_FRAMES_PER_TARGET}")
        if not 1 <= max_videos <= MAX_VIDEO_INDEX:
            raise ValueError(f"max_videos must be in 1..{MAX_VIDEO_INDEX}")
        if not 0 < max_duration <= MAX_SECONDS:
            raise ValueError(f"max_duration must be in (0, {MAX_SECONDS:g}] seconds")
        self.max_videos = int(max_videos)
        self.max_duration = float(max_duration)
        self.max_frames_per_target = int(max_frames_per_target)
        self.max_targets = int(max_targets)
        self.num_options = int(num_options)
        super().__init__(shape=None, dtype=None, seed=seed)

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def violations(self, call: ToolCall) -> list[str]:
        """Why ``call`` is outside this space's bounds (empty when it is inside)."""
        problems = []
        args = call.arguments
        if isinstance(args, ObserveArgs):
            if len(args.targets) > self.max_targets:
                problems.append(f"observe takes at most {self.max_targets} targets, got {len(args.targets)}")
            for t in args.targets:
                if t.video > self.max_videos:
                    problems.append(f"video {t.video} is above the highest index {self.max_videos}")
                if t.num_frames > self.max_frames_per_target:
                    problems.append(f"num_frames {t.num_frames} is above the limit {self.max_frames_per_target} per target")
                if t.start > self.max_duration:
                    problems.append(f"start {t.start} s is beyond {self.max_duration} s")
        elif isinstance(args, ListenArgs):
            if args.video > self.max_videos:
                problems.append(f"video {args.video} is above the highest index {self.max_videos}")
            if args.start > self.max_duration:
                problems.append(f"start {args.start} s is beyond {self.max_duration} s")
        return problems

    def contains(self, x: Any) -> bool:
        try:
            calls = parse_action(x)
        except ActionParseError:
            return False
        return all(not self.violations(c) for c in calls)

    def sample(self, mask: Mapping[str, Any] | None = None, probability: Any = None) -> ToolCall:
        if probability is not None:
            raise ValueError("ToolCallSpace.sample does not take a probability")
        rng = self.np_random
        ctx = mask or {}
        durations: Sequence[float] = ctx.get("durations") or [self.max_duration] * int(rng.integers(1, self.max_videos + 1))
        has_audio: Sequence[bool] = ctx.get("has_audio") or [True] * len(durations)
        tool = rng.choice(3, p=(0.5, 0.25, 0.25))
        if tool == 0:
            n = int(rng.integers(1, min(self.max_targets, len(durations)) + 1))
            targets = []
            for _ in range(n):
                v = int(rng.integers(1, len(durations) + 1))
                start, end = _window(rng, min(float(durations[v - 1]), self.max_duration))
                frames = int(rng.integers(1, min(self.max_frames_per_target, 32) + 1))
                targets.append((v, start, end, frames))
            return ToolCall.observe_many(targets, focus=str(rng.choice(_FOCUS_WORDS)))
        if tool == 1:
            audible = [i + 1 for i, a in enumerate(has_audio) if a] or [1]
            v = int(rng.choice(audible))
            start, end = _window(rng, min(float(durations[v - 1]), self.max_duration))
            return ToolCall.listen(v, start, end)
        return ToolCall.answer(sample_answer(rng, ctx.get("answer_type", "single"),
                                             int(ctx.get("num_options", self.num_options)), durations))

    def __repr__(self) -> str:
        return (f"ToolCallSpace(max_videos={self.max_videos}, max_duration={self.max_duration}, "
                f"max_frames_per_target={self.max_frames_per_target}, max_targets={self.max_targets})")

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, ToolCallSpace) and (
            self.max_videos, self.max_duration, self.max_frames_per_target, self.max_targets, self.num_options
        ) == (other.max_videos, other.max_duration, other.max_frames_per_target, other.max_targets, other.num_options)

    def to_jsonable(self, sample_n: Sequence[Any]) -> list[Any]:
        return [s.to_dict() if isinstance(s, ToolCall) else s for s in sample_n]

    def from_jsonable(self, sample_n: Sequence[Any]) -> list[ToolCall]:
        return [parse_action(s)[0] for s in sample_n]


_FOCUS_WORDS = ("", "people", "objects", "text on screen", "what changes", "colours", "actions")


def _window(rng: np.random.Generator, duration: float) -> tuple[float, float]:
    a, b = sorted(rng.uniform(0.0, duration, size=2))
    if b - a < 0.5:
        b = min(duration, a + 0.5)
        a = max(0.0, b - 0.5)
    ra, rb = round(float(a), 2), round(float(b), 2)
    return (ra, rb) if rb > ra else (float(a), float(b))  # very short videos: keep the precision


def sample_answer(rng: np.random.Generator, answer_type: str, num_options: int,
                  durations: Sequence[float] = (60.0,)) -> Any:
    """A random answer of the given type (what a guessing agent would send)."""
    letters = string.ascii_uppercase[: max(1, num_options)]
    if answer_type == "multi":
        k = int(rng.integers(1, len(letters) + 1))
        return sorted(str(x) for x in rng.choice(list(letters), size=k, replace=False))
    if answer_type == "order":
        return [str(x) for x in rng.permutation(list(letters))]
    if answer_type == "interval":
        return list(_window(rng, float(max(durations))))
    if answer_type == "count":
        return int(rng.integers(0, 11))
    if answer_type == "free_text":
        return str(rng.choice(["they differ", "the same", "no idea"]))
    return str(rng.choice(list(letters)))
