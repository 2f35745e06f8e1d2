"""Turning the windows an agent names into concrete seconds of a task's videos.

Agents may leave a window open (AgentCVR's ``get_caption`` with only ``video_index`` means the
whole clip; an observe target with only ``video_index`` likewise) or name frames of a
frame-indexed view (AgentCVR's drone tasks use ``start_frame``/``end_frame``, inclusive). The env
resolves such calls against the task before running them, so ``info["tool_calls"]`` and costs
always show concrete seconds.
"""

from __future__ import annotations

from cvr_gym.core.actions import ListenArgs, ObserveArgs, Target, ToolCall
from cvr_gym.core.tasks import Task


def resolve_call(call: ToolCall, task: Task) -> tuple[ToolCall, list[str]]:
    """``call`` with open ends and frame indices replaced by seconds, and notes saying so."""
    args = call.arguments
    notes: list[str] = []
    if isinstance(args, ObserveArgs):
        if all(t.end is not None and t.start_frame is None for t in args.targets):
            return call, notes  # the usual case: concrete seconds already
        targets = tuple(_resolve_target(t, task, notes) for t in args.targets)
        if targets == args.targets:
            return call, notes
        return ToolCall("observe", args.model_copy(update={"targets": targets})), notes
    if isinstance(args, ListenArgs) and args.end is None and 1 <= args.video <= task.num_videos:
        end = task.videos[args.video - 1].duration
        if end > args.start:
            return ToolCall("listen", args.model_copy(update={"end": end})), notes
    return call, notes


def _resolve_target(t: Target, task: Task, notes: list[str]) -> Target:
    if not 1 <= t.video <= task.num_videos:
        return t
    video = task.videos[t.video - 1]
    if t.start_frame is not None:
        start = t.start_frame / video.fps
        last = t.end_frame if t.end_frame is not None else max(t.start_frame, round(video.duration * video.fps) - 1)
        end = min(video.duration, (last + 1) / video.fps)
        notes.append(f"frames {t.start_frame}-{last} of video {t.video} are {start:.2f}-{end:.2f} s "
                     f"at {video.fps:g} fps")
        if end <= start:  # starts after the video: let the env report it with its usual message
            end = start + 1.0 / video.fps
        return Target(video=t.video, start=start, end=end, num_frames=t.num_frames)
    if t.end is None:
        return Target(video=t.video, start=t.start, end=max(video.duration, t.start + 1e-3),
                      num_frames=t.num_frames)
    return t
