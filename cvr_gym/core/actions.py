"""Tool calls: the agent's actions, shared by every env.

Three tools exist: ``observe`` (the visual agent looks at one or more time windows),
``listen`` (the audio agent reports speech and sounds in a window) and ``answer``. A
:class:`ToolCall` is a validated, immutable record; :mod:`cvr_gym.core.parsing` turns text,
dicts and OpenAI tool calls into ToolCalls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

ToolName = Literal["observe", "listen", "answer"]
TOOL_NAMES: tuple[str, ...] = ("observe", "listen", "answer")

#: Structural limits checked by the parser (env limits such as the frame budget come on top).
MAX_FRAMES_PER_TARGET = 256
MAX_TARGETS = 8
MAX_FOCUS_CHARS = 1000
MAX_ANSWER_CHARS = 4000

_FROZEN = ConfigDict(extra="forbid", frozen=True)

MAX_VIDEO_INDEX = 99
MAX_SECONDS = 1e6
MAX_RESIZE = 4.0


def _utf8_text(value: str) -> str:
    """Refuse text that cannot be written as UTF-8 (lone surrogates): it is echoed in observations."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text is not valid Unicode (lone surrogate)") from None
    return value


Text = Annotated[str, AfterValidator(_utf8_text)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
AnswerValue = Union[Text, int, FiniteFloat, tuple[Union[Text, int, FiniteFloat], ...]]


MAX_FRAME_INDEX = 10_000_000


class Target(BaseModel):
    """One window to observe: ``video`` (1-based), ``start``/``end`` seconds, ``num_frames``.

    ``end`` left out means the end of the video (AgentCVR's executor defaults a target to its
    whole clip). Frame-indexed views (AgentCVR's drone tasks) give ``start_frame``/``end_frame``
    (inclusive) instead of times; the env turns them into seconds with the video's fps.
    """

    model_config = _FROZEN

    video: int = Field(ge=1, le=MAX_VIDEO_INDEX)
    start: float = Field(default=0.0, ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    end: Optional[float] = Field(default=None, ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    num_frames: int = Field(default=8, ge=1, le=MAX_FRAMES_PER_TARGET)
    start_frame: Optional[int] = Field(default=None, ge=0, le=MAX_FRAME_INDEX)
    end_frame: Optional[int] = Field(default=None, ge=0, le=MAX_FRAME_INDEX)

    @model_validator(mode="after")
    def _ordered(self) -> "Target":
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        if self.start_frame is not None and self.end_frame is not None and self.end_frame < self.start_frame:
            raise ValueError(f"end_frame ({self.end_frame}) must not be before start_frame ({self.start_frame})")
        if self.end_frame is not None and self.start_frame is None:
            raise ValueError("end_frame needs a start_frame")
        return self


class ObserveArgs(BaseModel):
    """Arguments of ``observe``: one or more targets (several = side-by-side) and a focus prompt."""

    model_config = _FROZEN

    targets: tuple[Target, ...] = Field(min_length=1, max_length=MAX_TARGETS)
    focus: Text = Field(default="", max_length=MAX_FOCUS_CHARS)
    #: EVA's "how to watch": frames are scaled by this factor (both sides) before the visual
    #: agent sees them; visual tokens scale with the frame area and small details may be lost.
    resize: Optional[float] = Field(default=None, gt=0, le=MAX_RESIZE, allow_inf_nan=False)


class ListenArgs(BaseModel):
    """Arguments of ``listen``: one video window and an optional focus prompt.

    ``start``/``end`` left out mean the whole video (AgentCVR's ``get_caption`` needs only
    ``video_index``).
    """

    model_config = _FROZEN

    video: int = Field(ge=1, le=MAX_VIDEO_INDEX)
    start: float = Field(default=0.0, ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    end: Optional[float] = Field(default=None, ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    focus: Text = Field(default="", max_length=MAX_FOCUS_CHARS)

    @model_validator(mode="after")
    def _ordered(self) -> "ListenArgs":
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


class AnswerArgs(BaseModel):
    """Arguments of ``answer``: a letter, letters, a number, an interval or free text."""

    model_config = _FROZEN

    answer: AnswerValue

    @model_validator(mode="after")
    def _bounded(self) -> "AnswerArgs":
        if len(json.dumps(_plain(self.answer), ensure_ascii=False)) > MAX_ANSWER_CHARS:
            raise ValueError(f"answer longer than {MAX_ANSWER_CHARS} characters")
        return self


ARGS_BY_TOOL: dict[str, type[BaseModel]] = {
    "observe": ObserveArgs,
    "listen": ListenArgs,
    "answer": AnswerArgs,
}


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A validated tool call. Build one directly or with the helpers::

        ToolCall("observe", {"targets": [{"video": 1, "start": 0, "end": 30, "num_frames": 8}]})
        ToolCall.observe(1, 0, 30, num_frames=8, focus="red car")
        ToolCall.observe_many([(1, 0, 10, 8), (2, 0, 10, 8)], focus="compare")
        ToolCall.listen(2, 10, 20)
        ToolCall.answer("B")

    ``arguments`` may be given as a dict; it is validated into the tool's arguments model.
    A plain frozen dataclass (not a pydantic model) because one is built on every ``step``.
    """

    name: ToolName
    arguments: Union[ObserveArgs, ListenArgs, AnswerArgs]

    def __post_init__(self) -> None:
        model = ARGS_BY_TOOL.get(self.name) if isinstance(self.name, str) else None
        if model is None:
            raise ValueError(f"unknown tool {self.name!r}; the tools are {', '.join(TOOL_NAMES)}")
        if not isinstance(self.arguments, model):
            if not isinstance(self.arguments, dict):
                raise ValueError(f"arguments of {self.name} must be an object, got {type(self.arguments).__name__}")
            object.__setattr__(self, "arguments", model.model_validate(self.arguments))

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def observe(cls, video: int, start: float, end: float, num_frames: int = 8, focus: str = "") -> "ToolCall":
        return cls.observe_many([(video, start, end, num_frames)], focus=focus)

    @classmethod
    def observe_many(cls, targets: list[tuple[int, float, float, int]], focus: str = "") -> "ToolCall":
        ts = tuple(Target(video=v, start=s, end=e, num_frames=n) for v, s, e, n in targets)
        return cls("observe", ObserveArgs(targets=ts, focus=focus))

    @classmethod
    def listen(cls, video: int, start: float, end: float, focus: str = "") -> "ToolCall":
        return cls("listen", ListenArgs(video=video, start=start, end=end, focus=focus))

    @classmethod
    def answer(cls, answer: Any) -> "ToolCall":
        if isinstance(answer, list):
            answer = tuple(answer)
        return cls("answer", AnswerArgs(answer=answer))

    # -- serialisation -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., "arguments": {...}}`` with plain JSON types."""
        # Unset optional fields (a whole-video window, no resize) are left out, not written as null.
        return {"name": self.name, "arguments": self.arguments.model_dump(mode="json", exclude_none=True)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def to_openai(self, call_id: str = "call_0") -> dict[str, Any]:
        """An OpenAI ``tool_calls`` entry (arguments as a JSON string)."""
        return {
            "id": call_id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.to_dict()["arguments"], ensure_ascii=False)},
        }

    @property
    def frames(self) -> int:
        """Frames this call asks for (0 for listen/answer)."""
        if isinstance(self.arguments, ObserveArgs):
            return sum(t.num_frames for t in self.arguments.targets)
        return 0


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
