"""The tools as OpenAI function schemas, and a system prompt for LLM masters."""

from __future__ import annotations

import json
from typing import Any

from cvr_gym.core.actions import MAX_RESIZE


def tool_schemas(space: Any) -> list[dict[str, Any]]:
    """OpenAI ``tools`` entries for observe, listen and answer within ``space``'s bounds."""
    window = {
        "video": {"type": "integer", "minimum": 1, "maximum": space.max_videos,
                  "description": "1-based index of the video, as listed in the prompt"},
        "start": {"type": "number", "minimum": 0, "description": "window start, seconds"},
        "end": {"type": "number", "minimum": 0, "description": "window end, seconds (after start)"},
    }
    focus = {"type": "string", "description": "what to look or listen for; evidence matching it comes first"}
    return [
        {"type": "function", "function": {
            "name": "observe",
            "description": ("Ask the visual agent what is visible in time windows of videos. num_frames frames are "
                            "sampled evenly in each window: few frames over a long window can miss short events. "
                            "Several targets compare windows side by side."),
            "parameters": {"type": "object", "properties": {
                "targets": {"type": "array", "minItems": 1, "maxItems": space.max_targets, "items": {
                    "type": "object", "properties": {
                        **window,
                        "num_frames": {"type": "integer", "minimum": 1, "maximum": space.max_frames_per_target,
                                       "description": "frames to sample in the window (each costs budget)"},
                    }, "required": ["video", "start", "end", "num_frames"]}},
                "focus": focus,
                "resize": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RESIZE,
                           "description": ("scale of each frame's sides before the visual agent looks (EVA's resize; "
                                           "default 1): visual tokens scale with the area, so 0.5 costs a quarter, "
                                           "but small text and objects may become unreadable")},
            }, "required": ["targets"]},
        }},
        {"type": "function", "function": {
            "name": "listen",
            "description": "Ask the audio agent for the speech and sounds in a time window of one video.",
            "parameters": {"type": "object", "properties": {**window, "focus": focus},
                           "required": ["video", "start", "end"]},
        }},
        {"type": "function", "function": {
            "name": "answer",
            "description": ("Submit the final answer and end the episode. Use the format the question asks for: "
                            'an option letter ("B"), a list of letters (["A", "C"]), letters in order, '
                            "[start, end] seconds, a number, or free text."),
            "parameters": {"type": "object", "properties": {
                "answer": {"description": "the answer", "anyOf": [
                    {"type": "string"}, {"type": "number"},
                    {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "number"}]}}]},
            }, "required": ["answer"]},
        }},
    ]


def system_prompt(space: Any, max_steps: int, frame_budget: int) -> str:
    """Instructions for an LLM master: the tools, the call format, the budget."""
    names = ", ".join(t["function"]["name"] for t in tool_schemas(space))
    example = {"name": "observe", "arguments": {
        "targets": [{"video": 1, "start": 0, "end": 60, "num_frames": 8}], "focus": "what the person holds"}}
    return (
        "You answer questions about several videos that you cannot see. A visual agent and an audio agent "
        f"look and listen for you. Tools: {names}.\n"
        "- observe: frames sampled evenly in time windows; start with a cheap scan, then zoom into short "
        "windows with more frames where the question points.\n"
        "- listen: what is said and heard in a window.\n"
        "- answer: your final answer; it ends the episode.\n"
        f"You have {max_steps} steps and {frame_budget} frames in all; frames cost reward.\n"
        "Call tools with <tool_call>{...}</tool_call> blocks holding JSON, for example:\n"
        f"<tool_call>{json.dumps(example)}</tool_call>\n"
        "You may think before the calls and put several calls in one reply."
    )


def compact_system_prompt(max_steps: int, frame_budget: int) -> str:
    """A short system prompt for small models (about 130 tokens): no JSON tool schemas, one
    example call per tool. Use it without ``tools=`` in the chat template."""
    return (
        "Answer a question about videos you cannot see by calling tools. One call per "
        '<tool_call>{"name": ..., "arguments": ...}</tool_call> block:\n'
        'observe {"targets": [{"video": 1, "start": 0, "end": 60, "num_frames": 8}], "focus": "..."}: '
        "what is visible in windows\n"
        'listen {"video": 1, "start": 0, "end": 60}: speech and sounds in a window\n'
        'answer {"answer": "B"}: the final answer; ends the episode\n'
        f"Budget: {max_steps} steps, {frame_budget} frames."
    )
