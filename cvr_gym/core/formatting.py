"""Observation text: the prompt and tool results, identical in the simulator and the real env."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cvr_gym.core.actions import ToolCall
from cvr_gym.core.costs import CallCost
from cvr_gym.core.evidence import Evidence
from cvr_gym.core.tasks import OPTION_LETTERS, Task

ANSWER_FORMATS = {
    "single": 'one option letter, e.g. "B"',
    "multi": 'every correct option letter, e.g. ["A", "C"]',
    "order": 'all option letters in the right order, e.g. ["C", "A", "B"]',
    "interval": "[start, end] in seconds",
    "count": "a whole number",
    "free_text": "a short free-text answer",
}


# Terminal escape sequences (CSI, OSC, two-character), then any control or line-breaking character.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]")
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_SUSPECT = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def clean_line(text: str) -> str:
    """``text`` as one printable line: terminal escapes removed, line breaks and control characters
    turned into spaces, lone surrogates into U+FFFD. Focus prompts, perception output and error
    messages pass through it, so none can colour the agent's terminal, forge a ``Status:`` line of
    its own or carry text that cannot be written as UTF-8."""
    if not _SUSPECT.search(text):
        return text
    text = _ESCAPES.sub("", text)
    text = _BREAKS.sub(" ", text)
    return _SURROGATES.sub("\ufffd", text)


@dataclass
class ToolResult:
    """What one tool call produced: evidence records, notes for the agent, an error, its cost."""

    call: ToolCall
    header: str
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    cost: CallCost | None = None


def answer_format(task: Task) -> str:
    text = ANSWER_FORMATS[task.answer_type]
    if task.answer_type == "interval" and task.answer_video:
        text += f" of video {task.answer_video}"
    return text


def format_prompt(task: Task, max_steps: int, frame_budget: int) -> str:
    lines = [f"You are given {task.num_videos} videos and a question. You cannot see them: use the tools.",
             "", f"Question: {task.question}"]
    if task.options:
        lines.append("Options:")
        lines.extend(f"  ({OPTION_LETTERS[i]}) {opt}" for i, opt in enumerate(task.options))
    lines.append(f"Answer with: {answer_format(task)}.")
    lines.append("")
    lines.append("Videos:")
    for v in task.videos:
        audio = "with audio" if v.has_audio else "no audio"
        lines.append(f"  Video {v.index}: {v.duration:.1f} s, {v.fps:g} fps, {audio}")
    lines.append(f"Budget: {max_steps} steps, {frame_budget} frames. Tools: observe, listen, answer.")
    return "\n".join(lines)


def _when(ev: Evidence) -> str:
    if ev.end - ev.start < 0.05:
        return f"{ev.start:.1f} s"
    return f"{ev.start:.1f}-{ev.end:.1f} s"


def format_evidence(ev: Evidence, with_video: bool = False) -> str:
    content = clean_line(ev.content)
    content = f'"{content}"' if ev.kind in ("text", "speech") else content
    where = f"video {ev.video}, " if with_video else ""
    return f"  {where}{_when(ev)}  {ev.kind}: {content}"


def format_result(result: ToolResult) -> str:
    lines = [clean_line(result.header)]
    if result.error:
        lines.append(f"  error: {clean_line(result.error)}")
    lines.extend(f"  note: {clean_line(n)}" for n in result.notes)
    if not result.error:
        if result.evidence:
            several = len({ev.video for ev in result.evidence}) > 1
            lines.extend(format_evidence(ev, several) for ev in result.evidence)
        elif result.call.name != "answer":
            lines.append("  (nothing found)")
    return "\n".join(lines)


def format_step(results: Sequence[ToolResult], status: str, error: str | None = None) -> str:
    parts = [format_result(r) for r in results]
    if error:
        parts.append(f"Invalid action: {clean_line(error)}")
    parts.append(status)
    return "\n".join(parts)


def format_status(step: int, max_steps: int, frames_used: int, frame_budget: int) -> str:
    status = f"Status: step {step}/{max_steps}, frames {frames_used}/{frame_budget} used."
    if frames_used >= frame_budget:
        status += " The frame budget is spent: another observe ends the episode; answer now."
    elif step == max_steps - 1:
        status += " One step left: answer now."
    return status


def terse_observation(text: str, max_evidence: int = 4) -> str:
    """``text`` (a tool-result observation) shortened for small models: each result keeps its
    first ``max_evidence`` evidence lines (the env lists focus matches first) and its header
    loses the echoed focus; notes, errors and the status line stay."""
    out: list[str] = []
    kept = 0
    for line in text.split("\n"):
        if not line.startswith("  "):  # a result header or the status line
            kept = 0
            out.append(line.split(', focus "', 1)[0])
        elif line.startswith(("  note:", "  error:", "  (nothing")):
            out.append(line)
        elif kept < max_evidence:
            kept += 1
            out.append(line)
    return "\n".join(out)
