"""Task schema: a question about several videos, its typed answer and the videos' scripts.

Suites are JSONL files, one :class:`Task` per line. Loading lives in :mod:`cvr_gym.core.suites`.
"""

from __future__ import annotations

import math
import string
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from cvr_gym.core.evidence import ScriptItem

AnswerType = Literal["single", "multi", "order", "interval", "count", "free_text"]
ANSWER_TYPES: tuple[str, ...] = ("single", "multi", "order", "interval", "count", "free_text")
OPTION_LETTERS = string.ascii_uppercase

#: The ten CrossVid task families plus our audio-dependent family.
FAMILIES: dict[str, str] = {
    "BU": "behavioural understanding",
    "NC": "narrative comprehension",
    "CC": "culinary comparison",
    "PEA": "procedural error analysis",
    "PI": "plot inference",
    "FSA": "functional step alignment",
    "PSS": "procedural step sequencing",
    "MSR": "multi-view spatial reasoning",
    "MOC": "multi-view object counting",
    "CCQA": "comparative culinary free-form QA",
    "AUD": "audio-dependent reasoning",
}


class VideoSpec(BaseModel):
    """One video of a task. ``index`` is the 1-based number the agent uses in tool calls.

    ``path`` (optional) is relative to the suite's data root; ``script`` is the video's timeline
    of evidence (empty for tasks that only have real videos).

    ``clip`` (optional) is the ``[begin, end]`` window of the file, in seconds, that this video
    shows: the agent sees only it, its times run from 0 at ``begin`` (as AgentCVR's executor
    offsets them by ``clip_begin``) and ``duration`` is its length. Script times are clip
    times too. CrossVid's PEA clips, PI's beginning and ending (the middle stays hidden) and
    PSS's segments (one video each, in shuffled order) are clips of one file.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    index: int = Field(ge=1)
    duration: float = Field(gt=0)
    fps: float = Field(default=30.0, gt=0)
    has_audio: bool = True
    path: str | None = None
    clip: tuple[float, float] | None = None
    script: tuple[ScriptItem, ...] = ()

    @model_validator(mode="after")
    def _clip_is_the_duration(self) -> "VideoSpec":
        if self.clip is not None:
            begin, end = self.clip
            if not (0 <= begin < end) or not all(map(math.isfinite, self.clip)):
                raise ValueError(f"clip must be [begin, end] with 0 <= begin < end, got {list(self.clip)}")
            if abs((end - begin) - self.duration) > 1e-3:
                raise ValueError(f"duration ({self.duration} s) must be the clip's length ({end - begin:g} s)")
        return self

    @model_validator(mode="after")
    def _items_inside_video(self) -> "VideoSpec":
        for n, item in enumerate(self.script):
            if item.end < item.start:
                raise ValueError(f"script item {n} ends ({item.end} s) before it starts ({item.start} s)")
            if item.start > self.duration + 1e-6:
                raise ValueError(
                    f"script item {n} starts at {item.start} s, after the video ends ({self.duration} s)"
                )
        return self


class EvidenceSpan(BaseModel):
    """Where the answer's evidence lies: video index and a time window in seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    video: int = Field(ge=1)
    start: float = Field(ge=0)
    end: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> "EvidenceSpan":
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class Task(BaseModel):
    """A cross-video question with a typed answer.

    Answer representation per ``answer_type``:

    - ``single``: one option letter, ``"B"``;
    - ``multi``: the set of correct letters, ``["A", "C"]``;
    - ``order``: the option letters in the right order, ``["C", "A", "B"]``;
    - ``interval``: ``[start, end]`` in seconds (in the video named by ``answer_video``);
    - ``count``: an integer;
    - ``free_text``: a reference answer; ``scoring_points`` list what a good answer covers.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    id: str = Field(min_length=1)
    family: str = Field(min_length=1)
    question: str = Field(min_length=1)
    options: tuple[str, ...] = ()
    answer_type: AnswerType
    answer: Any
    answer_video: int | None = None
    videos: tuple[VideoSpec, ...] = Field(min_length=1)
    evidence: tuple[EvidenceSpan, ...] = ()
    scoring_points: tuple[str, ...] = ()
    source: str = "cvr_gym"
    license: str = "CC-BY-4.0"
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("options")
    @classmethod
    def _few_options(cls, options: tuple[str, ...]) -> tuple[str, ...]:
        if len(options) > len(OPTION_LETTERS):
            raise ValueError(f"at most {len(OPTION_LETTERS)} options, got {len(options)}")
        return options

    @field_validator("answer")
    @classmethod
    def _typed_answer(cls, answer: Any, info: ValidationInfo) -> Any:
        if "answer_type" not in info.data:
            return answer  # answer_type itself is invalid and reported
        return normalise_answer(info.data["answer_type"], answer, info.data.get("options", ()))

    @field_validator("videos")
    @classmethod
    def _numbered(cls, videos: tuple[VideoSpec, ...]) -> tuple[VideoSpec, ...]:
        indices = [v.index for v in videos]
        if indices != list(range(1, len(indices) + 1)):
            raise ValueError(f"video indices must be 1..{len(indices)} in order, got {indices}")
        return videos

    @model_validator(mode="after")
    def _spans_name_videos(self) -> "Task":
        for span in self.evidence:
            if span.video > len(self.videos):
                raise ValueError(f"evidence span names video {span.video}, task has {len(self.videos)}")
        if self.answer_video is not None and not 1 <= self.answer_video <= len(self.videos):
            raise ValueError(f"answer_video {self.answer_video} is not a video of the task")
        return self

    @property
    def option_letters(self) -> tuple[str, ...]:
        return tuple(OPTION_LETTERS[: len(self.options)])

    @property
    def num_videos(self) -> int:
        return len(self.videos)


def normalise_answer(answer_type: str, answer: Any, options: tuple[str, ...]) -> Any:
    """Check a gold answer against its type and options and return its canonical form."""
    letters = OPTION_LETTERS[: len(options)]

    def letter(value: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(options):
            return letters[value]
        if isinstance(value, str) and value.strip().upper() in letters and value.strip():
            return value.strip().upper()
        raise ValueError(f"answer {value!r} is not one of the option letters {list(letters)}")

    if answer_type in ("single", "multi", "order") and not options:
        raise ValueError(f"answer type {answer_type!r} needs options")
    if answer_type == "single":
        return letter(answer)
    if answer_type == "multi":
        if not isinstance(answer, (list, tuple)) or not answer:
            raise ValueError("a multi answer is a non-empty list of option letters")
        return sorted({letter(a) for a in answer})
    if answer_type == "order":
        if not isinstance(answer, (list, tuple)) or not answer:
            raise ValueError("an order answer is a non-empty list of option letters")
        seq = [letter(a) for a in answer]
        if len(set(seq)) != len(seq):
            raise ValueError(f"an order answer repeats a letter: {seq}")
        return seq
    if answer_type == "interval":
        if (
            not isinstance(answer, (list, tuple)) or len(answer) != 2
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in answer)
        ):
            raise ValueError("an interval answer is [start, end] in seconds")
        start, end = float(answer[0]), float(answer[1])
        if not 0 <= start <= end:
            raise ValueError(f"an interval answer needs 0 <= start <= end, got {answer}")
        return [start, end]
    if answer_type == "count":
        if isinstance(answer, bool) or not isinstance(answer, (int, float)) or answer != int(answer) or answer < 0:
            raise ValueError(f"a count answer is a non-negative integer, got {answer!r}")
        return int(answer)
    if answer_type == "free_text":
        if not isinstance(answer, str) or not answer.strip():
            raise ValueError("a free_text answer is a non-empty string")
        return answer
    raise ValueError(f"unknown answer type {answer_type!r}")
