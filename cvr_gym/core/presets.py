"""Presets: a paper's setting in one argument, ``gym.make("CVRSim-v0", preset="agentcvr")``.

Each preset fixes the env's limits, its prompt layout and the answer format to those of the
upstream system; keyword arguments given next to ``preset`` still win.

``agentcvr`` (github.com/wang-jh24/AgentCVR)
    - 20 turns: ``MAX_TURNS = 20`` in every ``agent_system/run_tasks/run_*_agent.py``;
    - at most 128 frames per call: "The total number of frames (num_frames sum) in a single
      operation must not exceed 128" (``agent_system/prompts/master_MOC.prompt``, ``_MSR``) and
      ``tool_frames_per_clip=128`` (``agent_system/agent_executor.py``); no episode frame
      budget upstream, so 20 x 128 = 2560 here;
    - up to 6 videos (PSS shows "usually 3-6" shuffled segments, each its own video, in
      ``master_PSS.prompt``) and up to 6 targets per observe;
    - the prompt is the executor's user payload, JSON ``{"query", "videos": [{"video_index",
      "duration_seconds"}], "possible_answers"}`` (``run_agent_loop``); actions are
      ``{"action": "observe"|"get_caption"|"answer", "thought", "params"}`` with
      ``final_answer`` in the prompts' formats: one letter, letters concatenated in alphabetical
      order (BU), ``"2->4->3->1"`` (PSS), ``[53.2, 57.8]`` (FSA), a paragraph (CCQA).

``eva`` (github.com/wangruohui/EfficientVideoAgent)
    - 6 turns: ``--max-turns`` default 6 in ``eval-eva.py``;
    - at most 12,000 visual tokens per call (``--max-visual-tokens`` default 12000): a larger
      call is shrunk as EVA's second-stage fallback does, frames and ``resize`` both by
      ``(cap / tokens) ** (1/3)``;
    - the prompt starts ``"Video Length: N seconds."`` before the question
      (``build_message_from_rl``); actions are ``<tool_call>{"tool": "frame_select",
      "arguments": {"start_time", "end_time", "nframes", "resize"}}</tool_call>`` and the answer
      is ``<answer>X</answer>``; no episode frame budget upstream (10,000 here).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Sequence

from cvr_gym.core.tasks import OPTION_LETTERS, Task


@dataclass(frozen=True)
class Preset:
    """An upstream setting: env keyword arguments, its prompt layout and where the numbers come from."""

    name: str
    env_kwargs: dict[str, Any]
    prompt_style: str
    sources: tuple[str, ...] = field(default=())


PRESETS: dict[str, Preset] = {
    "agentcvr": Preset(
        "agentcvr",
        {"max_steps": 20, "max_frames_per_target": 128, "max_frames_per_call": 128, "frame_budget": 20 * 128,
         "max_videos": 6, "max_targets": 6},
        "agentcvr",
        ("AgentCVR agent_system/run_tasks/run_*_agent.py (MAX_TURNS = 20)",
         "AgentCVR agent_system/prompts/master_MOC.prompt (num_frames sum <= 128)",
         "AgentCVR agent_system/agent_executor.py (user payload, defaults)"),
    ),
    "eva": Preset(
        "eva",
        {"max_steps": 6, "max_visual_tokens_per_call": 12_000, "frame_budget": 10_000, "max_frames_per_target": 256},
        "eva",
        ("EfficientVideoAgent eval-eva.py (--max-turns 6, --max-visual-tokens 12000, build_message_from_rl)",),
    ),
}


def apply_preset(name: str | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with the preset's settings filled in underneath (explicit arguments win)."""
    if name is None:
        return kwargs
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known: {sorted(PRESETS)}")
    preset = PRESETS[name]
    return {**preset.env_kwargs, "prompt_style": preset.prompt_style, **kwargs}


# -- prompt layouts ------------------------------------------------------------------------------

AGENTCVR_ANSWER_FORMATS = {
    "single": 'one uppercase option letter, e.g. "final_answer": "D"',
    "multi": 'the option letters concatenated in alphabetical order, e.g. "final_answer": "AC"',
    "order": 'segment (video) numbers joined by arrows, e.g. "final_answer": "2->4->3->1"',
    "interval": 'the [start, end] seconds, e.g. "final_answer": [53.2, 57.8]',
    "count": 'the number, e.g. "final_answer": "3"',
    "free_text": '"final_answer": a comparative paragraph of 3-5 sentences',
}


def agentcvr_prompt(task: Task) -> str:
    """The executor's first user message: ``{"query", "videos", "possible_answers"}`` as JSON
    (``run_agent_loop``); frame-folder videos give ``total_frames`` instead of ``duration_seconds``."""
    videos = []
    for v in task.videos:
        if v.path and not PurePosixPath(v.path).suffix:  # a frame folder: run_MOC_agent.py gives its frame count
            videos.append({"video_index": v.index, "total_frames": round(v.duration * v.fps)})
        else:
            videos.append({"video_index": v.index, "duration_seconds": round(v.duration, 3)})
    payload: dict[str, Any] = {"query": task.question, "videos": videos}
    if task.options:
        payload["possible_answers"] = [f"{OPTION_LETTERS[i]}. {o}" for i, o in enumerate(task.options)]
    return json.dumps(payload, ensure_ascii=False)


def agentcvr_system_prompt(max_steps: int, max_frames_per_call: int) -> str:
    example = {"action": "observe", "thought": "First skim every video.", "params": {
        "observation_targets": [{"video_index": 1, "start_time": 0, "end_time": 10, "num_frames": 8}],
        "focus_prompt": "What happens?"}}
    return (
        "You analyse several videos through tools. Each turn, output exactly one JSON object with the keys "
        '"action", "thought" and "params".\n'
        '- observe: "params": {"observation_targets": [{"video_index", "start_time", "end_time", "num_frames"}], '
        '"focus_prompt": "..."}; times are seconds within each video.\n'
        '- get_caption: "params": {"video_index", "start_time" (optional), "end_time" (optional)}: subtitles.\n'
        '- answer: {"action": "answer", "thought": "...", "final_answer": ...}.\n'
        f"At most {max_frames_per_call} frames (num_frames sum) per observe; {max_steps} turns in all.\n"
        f"Example: {json.dumps(example)}"
    )


def eva_prompt(task: Task, short_sides: Sequence[int | None] = ()) -> str:
    """EVA's user turn: ``Video Length: N seconds. Original video resolution: Pp.`` then the
    question (and the options); the resolution only where it is known (the real env). EVA
    watches one video; with several, each gets its own length sentence."""
    sides = list(short_sides) + [None] * (task.num_videos - len(short_sides))

    def about(v, label: str) -> str:
        text = f"{label}Length: {int(max(v.duration - 0.5, 1))} seconds."  # eval-eva.py build_message_from_rl
        side = sides[v.index - 1]
        return text + (f" Original video resolution: {side}p." if side else "")

    if task.num_videos == 1:
        head = about(task.videos[0], "Video ")
    else:
        head = " ".join(about(v, f"Video {v.index} ") for v in task.videos)
    lines = [f"{head} {task.question}"]
    lines.extend(f"{OPTION_LETTERS[i]}. {o}" for i, o in enumerate(task.options))
    return "\n".join(lines)


def eva_system_prompt(max_steps: int) -> str:
    return (
        "Use Frame Select Tool to Anlysis the video and generate an answer to the question. "  # eval-eva.py, verbatim
        'Call it as <tool_call>{"tool": "frame_select", "arguments": {"start_time": S, "end_time": E, '
        '"nframes": N, "resize": R}}</tool_call> (times in seconds or [[HH:]MM:]SS, resize scales the frames); '
        f"answer with <answer>X</answer>. At most {max_steps} turns."
    )


def fit_visual_tokens(frames: int, resize: float, tokens_per_frame: int, cap: int) -> tuple[int, float]:
    """EVA's second-stage fallback (``eval-eva.py``): shrink frames and resize together until the
    call's visual tokens fit ``cap``."""
    tokens = frames * tokens_per_frame * resize * resize
    if tokens <= cap:
        return frames, resize
    r = (cap / tokens) ** (1 / 3)
    return max(1, int(frames * r)), resize * r


def fit_call(call: Any, tokens_per_frame: int, cap: int) -> tuple[Any, list[str]]:
    """An observe call shrunk to at most ``cap`` visual tokens (every target's frames and the
    resize scaled alike), and a note saying so; other calls unchanged."""
    from cvr_gym.core.actions import ObserveArgs, ToolCall

    args = call.arguments
    if not isinstance(args, ObserveArgs):
        return call, []
    resize = 1.0 if args.resize is None else args.resize
    frames, new_resize = fit_visual_tokens(call.frames, resize, tokens_per_frame, cap)
    if frames == call.frames and new_resize == resize:
        return call, []
    share = frames / call.frames
    targets = tuple(t.model_copy(update={"num_frames": max(1, int(t.num_frames * share))}) for t in args.targets)
    shrunk = ToolCall("observe", args.model_copy(update={"targets": targets, "resize": round(new_resize, 4)}))
    return shrunk, [f"the call asked for more than {cap} visual tokens; it ran with {shrunk.frames} frames at "
                    f"resize {new_resize:.3f}"]
