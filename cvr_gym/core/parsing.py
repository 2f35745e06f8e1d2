"""Turning whatever an agent emits into :class:`~cvr_gym.core.actions.ToolCall` objects.

Accepted forms (alone or in lists; several calls in one action run in order):

- a ``ToolCall``;
- ``{"name": ..., "arguments": {...}}`` (arguments may be a JSON string);
- an OpenAI tool call ``{"type": "function", "function": {"name", "arguments"}}`` or an
  assistant message holding ``tool_calls``;
- AgentCVR's ``{"action": "observe"|"get_caption"|"answer", "thought": ..., "params": {...}}``
  (optional arguments as its executor defaults them; ``//`` and ``#`` comments as in its
  prompt examples);
- EVA's ``<tool_call>{"tool": "frame_select", "arguments"|"parameters": {"start_time",
  "end_time", "nframes", "resize"}}</tool_call>`` (times in seconds or ``[[HH:]MM:]SS``, several
  calls in one block) and ``<answer>X</answer>``;
- text: bare JSON of any of the above, ``<tool_call>{...}</tool_call>`` blocks (Qwen/Hermes)
  with reasoning text around them, or JSON in a code fence.

Nothing is ever evaluated: text goes through ``json`` only. Failures raise
:class:`ActionParseError` with a message meant to be shown to the agent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from cvr_gym.core.actions import ARGS_BY_TOOL, TOOL_NAMES, AnswerArgs, ListenArgs, ObserveArgs, ToolCall
from cvr_gym.core.clock import looks_like_clock, parse_seconds
from cvr_gym.core.jsonscan import NumberTooLong, loads as _json_loads, strip_comments, top_level_objects

MAX_ACTION_CHARS = 50_000
MAX_CALLS_PER_ACTION = 16

_TOOL_CALL_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_CODE_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)

# Field spellings other agents use, mapped to ours.
_ALIASES = {
    "video_index": "video", "video_id": "video", "start_time": "start", "end_time": "end",
    "focus_prompt": "focus", "prompt": "focus", "query": "focus", "frames": "num_frames",
    "observation_targets": "targets", "final_answer": "answer", "nframes": "num_frames",
}
_AGENTCVR_TOOLS = {"observe": "observe", "active_perception": "observe", "get_caption": "listen",
                   "listen": "listen", "answer": "answer", "frame_select": "observe"}
# AgentCVR's executor (agent_system/agent_executor.py) samples 32 frames when a video target
# names none, 16 for a frame-indexed drone view.
AGENTCVR_DEFAULT_FRAMES = 32
AGENTCVR_DEFAULT_FRAMES_UAV = 16
_ANSWER_TAG = re.compile(r"<answer>\s*(.*?)\s*</answer>", re.DOTALL)  # EVA's extract_answer
_ANSWER_LATE = re.compile(r"[Aa]nswer[\.:\s]\s*(\w)(\W.{,100}|)$", re.DOTALL)  # EVA's extract_answer_v2
_CALL_KEYS = ("name", "action", "tool", "function", "tool_calls")
_NOTES: ContextVar[list[str] | None] = ContextVar("cvr_gym_parse_notes", default=None)
NOTE_COMMENTS = "comments (// or #) in the JSON were ignored"


class ActionParseError(ValueError):
    """The action could not be read as tool calls. ``str(err)`` is shown to the agent."""


def parse_action_notes(action: Any) -> tuple[list[ToolCall], list[str]]:
    """Like :func:`parse_action`, plus notes on what was read leniently (comments dropped,
    several JSON actions in one reply) for the env to show the agent."""
    if isinstance(action, str) and action[:1] == "{":
        fast = _fast_call(action)  # canonical JSON: nothing read leniently, no notes
        if fast is not None:
            return [fast], []
    token = _NOTES.set([])
    try:
        calls = parse_action(action)
        return calls, list(dict.fromkeys(_NOTES.get() or ()))
    finally:
        _NOTES.reset(token)


def _note(message: str) -> None:
    notes = _NOTES.get()
    if notes is not None:
        notes.append(message)


def parse_action(action: Any) -> list[ToolCall]:
    """Return the tool calls in ``action`` or raise :class:`ActionParseError`."""
    try:
        calls = _parse(action, depth=0)
    except RecursionError:  # json.loads on "[[[[..." overflows before our own depth check
        raise ActionParseError("the action is nested too deeply") from None
    except NumberTooLong as err:
        raise ActionParseError(str(err)) from None
    if not calls:
        raise ActionParseError("the action holds no tool call")
    if len(calls) > MAX_CALLS_PER_ACTION:
        raise ActionParseError(f"at most {MAX_CALLS_PER_ACTION} tool calls per action, got {len(calls)}")
    return calls


def _parse(action: Any, depth: int) -> list[ToolCall]:
    if depth > 4:
        raise ActionParseError("tool calls are nested too deeply")
    if isinstance(action, ToolCall):
        return [action]
    if isinstance(action, (bytes, bytearray)):
        try:
            action = action.decode("utf-8")
        except UnicodeDecodeError:
            raise ActionParseError("the action is bytes that are not UTF-8 text") from None
    if isinstance(action, str):
        return _parse_text(action, depth)
    if isinstance(action, Mapping):
        return _parse_mapping(action, depth)
    if isinstance(action, (list, tuple)):
        if len(action) > MAX_CALLS_PER_ACTION:  # refuse before building any of them
            raise ActionParseError(f"at most {MAX_CALLS_PER_ACTION} tool calls per action, got a list of {len(action)}")
        calls: list[ToolCall] = []
        for item in action:
            calls.extend(_parse(item, depth + 1))
            if len(calls) > MAX_CALLS_PER_ACTION:
                raise ActionParseError(f"at most {MAX_CALLS_PER_ACTION} tool calls per action")
        return calls
    raise ActionParseError(
        f"cannot read a tool call from a {type(action).__name__}; send JSON text, a dict or a ToolCall"
    )


def _parse_text(text: str, depth: int) -> list[ToolCall]:
    if len(text) > MAX_ACTION_CHARS:
        raise ActionParseError(f"the action is longer than {MAX_ACTION_CHARS} characters")
    stripped = text.strip()
    if not stripped:
        raise ActionParseError("the action is empty; call observe, listen or answer")
    if stripped[0] in "{[":
        fast = _fast_call(stripped)
        if fast is not None:
            return [fast]
        try:
            return _parse(_json_loads(stripped), depth + 1)
        except json.JSONDecodeError:
            pass  # maybe JSON followed by prose, comments or a second object: read on below
    answer = _ANSWER_TAG.search(text)
    if answer:  # EVA's loop looks for <answer> before any <tool_call>
        return [_build("answer", {"answer": answer.group(1)})]
    if "<tool_call>" in text:
        calls: list[ToolCall] = []
        for body in _TOOL_CALL_BLOCK.findall(text):
            fast = _fast_call(body)
            if fast is not None:
                calls.append(fast)
            else:
                for value in _load_values(body, "<tool_call> block"):
                    calls.extend(_parse(value, depth + 1))
        return calls
    fenced = _CODE_FENCE.findall(text)
    if fenced:
        calls = []
        for body in fenced:
            for value in _load_values(body, "code block"):
                calls.extend(_parse(value, depth + 1))
        if len(fenced) > 1:
            _note(f"{len(fenced)} JSON blocks in one reply; all ran, in order")
        return calls
    found = _scan_objects(text)
    if not found and (late := _ANSWER_LATE.search(text)):  # EVA's extract_answer_v2 fallback
        return [_build("answer", {"answer": late.group(1)})]
    if not found:
        raise ActionParseError(
            'no tool call found; reply with JSON such as {"name": "observe", "arguments": '
            '{"targets": [{"video": 1, "start": 0, "end": 30, "num_frames": 8}], "focus": "..."}}'
        )
    calls = []
    for value in found:
        calls.extend(_parse(value, depth + 1))
    return calls


class _ObserveCall(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Literal["observe"]
    arguments: ObserveArgs


class _ListenCall(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Literal["listen"]
    arguments: ListenArgs


class _AnswerCall(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Literal["answer"]
    arguments: AnswerArgs


# The canonical {"name", "arguments"} JSON parsed and validated in one pass by pydantic-core;
# anything else (aliases, OpenAI or AgentCVR shapes, errors) takes the general path below.
_CANONICAL = TypeAdapter(Annotated[Union[_ObserveCall, _ListenCall, _AnswerCall], Field(discriminator="name")])


def _fast_call(text: str) -> ToolCall | None:
    try:
        call = _CANONICAL.validate_json(text)
    except ValidationError:
        return None
    return ToolCall(call.name, call.arguments)


def _load_json(body: str, where: str) -> Any:
    try:
        return _json_loads(body.strip())
    except json.JSONDecodeError as err:
        raise ActionParseError(f"the {where} is not valid JSON: {err.msg} at character {err.pos}") from None


def _load_values(body: str, where: str) -> list[Any]:
    """The JSON value(s) of a block: plain JSON, JSON with comments, or several objects."""
    try:
        return [_json_loads(body.strip())]
    except json.JSONDecodeError as err:
        first_error = err
    cleaned, removed = strip_comments(body)
    if removed:
        try:
            value = _json_loads(cleaned.strip())
            _note(NOTE_COMMENTS)
            return [value]
        except json.JSONDecodeError:
            pass
    found = _scan_objects(body)
    if found:
        return found
    raise ActionParseError(f"the {where} is not valid JSON: {first_error.msg} at character {first_error.pos}")


def _scan_objects(text: str) -> list[Any]:
    """The tool-call objects embedded in prose (read without comments when that is what makes
    them JSON); several are all returned, with a note."""
    cleaned, removed = strip_comments(text)
    for candidate, uncommented in ((cleaned, True), (text, False)) if removed else ((text, False),):
        objects = top_level_objects(candidate)
        calls = [o for o in objects if any(k in o for k in _CALL_KEYS)]
        if calls:
            if uncommented:
                _note(NOTE_COMMENTS)
            if len(calls) > 1:
                _note(f"{len(calls)} JSON actions in one reply; all ran, in order")
            return calls
    return top_level_objects(text)[:1]


def _parse_mapping(obj: Mapping[str, Any], depth: int) -> list[ToolCall]:
    if "tool_calls" in obj and isinstance(obj["tool_calls"], (list, tuple)):
        return _parse(obj["tool_calls"], depth + 1)
    if "function" in obj and isinstance(obj["function"], Mapping):
        fn = obj["function"]
        return [_build(fn.get("name"), fn.get("arguments", {}))]
    if "action" in obj and "name" not in obj:
        return _parse_agentcvr(obj)
    if "tool" in obj and "name" not in obj:  # EVA: {"tool": "frame_select", "arguments"|"parameters": {...}}
        return [_build(obj.get("tool"), obj.get("arguments", obj.get("parameters", {})))]
    if "name" in obj:
        args = obj.get("arguments", obj.get("parameters", obj.get("args", {})))
        return [_build(obj.get("name"), args)]
    raise ActionParseError(
        f"a tool call needs a 'name' and 'arguments'; got keys {sorted(map(str, obj))[:8]}"
    )


def _parse_agentcvr(obj: Mapping[str, Any]) -> list[ToolCall]:
    action = obj.get("action")
    tool = _AGENTCVR_TOOLS.get(action) if isinstance(action, str) else None
    if tool is None:
        raise ActionParseError(f"unknown action {action!r}; use observe, get_caption or answer")
    params = obj.get("params", {})
    if not isinstance(params, Mapping):
        raise ActionParseError("'params' must be an object")
    if tool == "answer":
        value = obj.get("final_answer", params.get("final_answer", params.get("answer")))
        return [_build("answer", {"answer": value})]
    if tool == "listen" and "observation_targets" in params:
        targets = params["observation_targets"]
        if not isinstance(targets, list):
            raise ActionParseError("'observation_targets' must be a list")
        focus = params.get("focus_prompt", "")
        return [_build("listen", {**t, "focus": focus} if isinstance(t, Mapping) else t) for t in targets]
    return [_build(tool, params)]


def _agentcvr_frame_defaults(params: Mapping[str, Any]) -> Mapping[str, Any]:
    """AgentCVR targets without ``num_frames`` get its executor's defaults (32, or 16 by frame)."""
    targets = params.get("observation_targets")
    if not isinstance(targets, list):
        return params
    filled = []
    for t in targets:
        if isinstance(t, Mapping) and "num_frames" not in t:
            uav = "start_frame" in t or "end_frame" in t
            t = {**t, "num_frames": AGENTCVR_DEFAULT_FRAMES_UAV if uav else AGENTCVR_DEFAULT_FRAMES}
        filled.append(t)
    return {**params, "observation_targets": filled}


def _times(window: dict[str, Any]) -> dict[str, Any]:
    """``"1:15"``/``"75s"`` start and end strings as seconds (EVA and chat models write them)."""
    for key in ("start", "end"):
        value = window.get(key)
        if looks_like_clock(value):
            window[key] = parse_seconds(value)
    return window


def _normalise_args(name: str, args: Any) -> Any:
    if isinstance(args, str):
        stripped = args.strip()
        if name == "answer" and not stripped.startswith("{"):
            return {"answer": args}
        args = _load_json(stripped or "{}", f"arguments of {name}")
    if name == "answer" and not isinstance(args, Mapping):
        return {"answer": args}
    if not isinstance(args, Mapping):
        raise ActionParseError(f"the arguments of {name} must be an object")
    if name == "observe" and "observation_targets" in args:  # AgentCVR's argument names
        args = _agentcvr_frame_defaults(args)
    out = {_ALIASES.get(k, k): v for k, v in args.items() if k != "thought"}
    if name == "observe":
        if "targets" not in out and "video" in out:
            target = {k: out.pop(k) for k in ("video", "start", "end", "num_frames", "start_frame", "end_frame")
                      if k in out}
            out["targets"] = [target]
        targets = out.get("targets")
        if isinstance(targets, Mapping):
            targets = [targets]
        if isinstance(targets, list):
            out["targets"] = [
                _times({_ALIASES.get(k, k): v for k, v in t.items()}) if isinstance(t, Mapping) else t for t in targets
            ]
    if name == "listen":
        _times(out)
    if name == "answer" and isinstance(out.get("answer"), list):
        out["answer"] = tuple(out["answer"])
    return out


def _build(name: Any, args: Any) -> ToolCall:
    if not isinstance(name, str) or name not in TOOL_NAMES:
        mapped = _AGENTCVR_TOOLS.get(name) if isinstance(name, str) else None
        if mapped is None:
            raise ActionParseError(f"unknown tool {name!r}; the tools are {', '.join(TOOL_NAMES)}")
        if name == "frame_select" and isinstance(args, Mapping) and not {"video", "video_index"} & set(args):
            args = {**args, "video": 1}  # EVA's tool watches the one video of the task
        name = mapped
    arguments = _normalise_args(name, args)
    try:
        # The arguments model is chosen by name, so validating it alone is the whole check.
        return ToolCall(name, ARGS_BY_TOOL[name].model_validate(arguments))
    except ValidationError as err:
        raise ActionParseError(f"invalid {name} call: {describe_validation_error(err)}") from None


def describe_validation_error(err: ValidationError) -> str:
    """A short, agent-readable summary of a pydantic error."""
    parts = []
    for e in err.errors(include_url=False):
        # Drop pydantic's internal location parts (model and union-branch names).
        loc = [str(x) for x in e["loc"] if not str(x).endswith("Args") and x != "arguments"
               and "[" not in str(x) and str(x) not in _TYPE_NAMES]
        if loc and loc[0] == "answer":
            parts.append("answer: must be text, a finite number, or a list of them")
        else:
            parts.append(f"{'.'.join(loc) or 'arguments'}: {e['msg']}")
    return "; ".join(list(dict.fromkeys(parts))[:4])  # unique, in order


_TYPE_NAMES = frozenset({"str", "int", "float", "tuple", "bool", "list", "dict"})
