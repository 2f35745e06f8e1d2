"""Tool calls: the agent's actions, shared by every env.

Three tools exist: ``observe`` (the visual agent looks at one or more time windows),
``listen`` (the audio agent reports speech and sounds in a window) and ``answer``. A
:class:`ToolCall` is a validated, immutable record; :mod:`cvr_gym.core.parsing` turns text,
dicts and OpenAI tool calls into ToolCalls.
"""

from __future__ import annotations

import json
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

ToolName = Literal["observe", "listen", "answer"]
TOOL_NAMES: tuple[str, ...] = ("observe", "listen", "answer")

#: Structural limits checked by the parser (env limits such as the frame budget come on top).
MAX_FRAMES_PER_TARGET = 256
MAX_TARGETS = 8
MAX_FOCUS_CHARS = 1000
MAX_ANSWER_CHARS = 4000

_FROZEN = ConfigDict(extra="forbid", frozen=True)

AnswerValue = Union[str, int, float, tuple[Union[str, int, float], ...]]


class Target(BaseModel):
    """One window to observe: ``video`` (1-based), ``start``/``end`` seconds, ``num_frames``."""

    model_config = _FROZEN

    video: int = Field(ge=1, le=99)
    start: float = Field(ge=0, le=1e6, allow_inf_nan=False)
    end: float = Field(ge=0, le=1e6, allow_inf_nan=False)
    num_frames: int = Field(default=8, ge=1, le=MAX_FRAMES_PER_TARGET)

    @model_validator(mode="after")
    def _ordered(self) -> "Target":
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


class ObserveArgs(BaseModel):
    """Arguments of ``observe``: one or more targets (several = side-by-side) and a focus prompt."""

    model_config = _FROZEN

    targets: tuple[Target, ...] = Field(min_length=1, max_length=MAX_TARGETS)
    focus: str = Field(default="", max_length=MAX_FOCUS_CHARS)


class ListenArgs(BaseModel):
    """Arguments of ``listen``: one video window and an optional focus prompt."""

    model_config = _FROZEN

    video: int = Field(ge=1, le=99)
    start: float = Field(ge=0, le=1e6, allow_inf_nan=False)
    end: float = Field(ge=0, le=1e6, allow_inf_nan=False)
    focus: str = Field(default="", max_length=MAX_FOCUS_CHARS)

    @model_validator(mode="after")
    def _ordered(self) -> "ListenArgs":
        if self.end <= self.start:
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


class ToolCall(BaseModel):
    """A validated tool call. Build one directly or with the helpers::

        ToolCall.observe(1, 0, 30, num_frames=8, focus="red car")
        ToolCall.observe_many([(1, 0, 10, 8), (2, 0, 10, 8)], focus="compare")
        ToolCall.listen(2, 10, 20)
        ToolCall.answer("B")
    """

    model_config = _FROZEN

    name: ToolName
    arguments: Union[ObserveArgs, ListenArgs, AnswerArgs]

    @model_validator(mode="before")
    @classmethod
    def _typed_arguments(cls, data: Any) -> Any:
        if isinstance(data, dict):
            name = data.get("name")
            args = data.get("arguments", {})
            model = ARGS_BY_TOOL.get(name) if isinstance(name, str) else None
            if model is not None and not isinstance(args, model):
                if not isinstance(args, dict):
                    raise ValueError(f"arguments of {name} must be an object, got {type(args).__name__}")
                data = {"name": name, "arguments": model.model_validate(args)}
        return data

    @model_validator(mode="after")
    def _arguments_match_name(self) -> "ToolCall":
        if not isinstance(self.arguments, ARGS_BY_TOOL[self.name]):
            raise ValueError(f"arguments do not belong to tool {self.name}")
        return self

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def observe(cls, video: int, start: float, end: float, num_frames: int = 8, focus: str = "") -> "ToolCall":
        return cls.observe_many([(video, start, end, num_frames)], focus=focus)

    @classmethod
    def observe_many(cls, targets: list[tuple[int, float, float, int]], focus: str = "") -> "ToolCall":
        ts = tuple(Target(video=v, start=s, end=e, num_frames=n) for v, s, e, n in targets)
        return cls(name="observe", arguments=ObserveArgs(targets=ts, focus=focus))

    @classmethod
    def listen(cls, video: int, start: float, end: float, focus: str = "") -> "ToolCall":
        return cls(name="listen", arguments=ListenArgs(video=video, start=start, end=end, focus=focus))

    @classmethod
    def answer(cls, answer: Any) -> "ToolCall":
        if isinstance(answer, list):
            answer = tuple(answer)
        return cls(name="answer", arguments=AnswerArgs(answer=answer))

    # -- serialisation -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., "arguments": {...}}`` with plain JSON types."""
        return {"name": self.name, "arguments": self.arguments.model_dump(mode="json")}

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
