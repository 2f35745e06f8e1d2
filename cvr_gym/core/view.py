"""What an agent knows about a task before looking: the question side of a task, never the answer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cvr_gym.core.tasks import Task

_OPTION_LINE = re.compile(r"^\s*\(([A-Z])\)\s?(.*)$")
_VIDEO_LINE = re.compile(r"^\s*Video (\d+): ([\d.]+) s, [^,]*, (with audio|no audio)")
_ANSWER_VIDEO = re.compile(r"\[start, end\] in seconds of video (\d+)")
_FORMATS = {
    "one option letter": "single", "every correct option letter": "multi",
    "all option letters in the right order": "order",
    "[start, end] in seconds": "interval", "a whole number": "count", "a short free-text answer": "free_text",
}


@dataclass(frozen=True)
class TaskView:
    """The question side of a task: what readers and agents may use (no gold answer, no spans).

    Arguments:
        question: the question text.
        options: the option texts (empty for interval, count and free-text answers).
        answer_type: ``single``, ``multi``, ``order``, ``interval``, ``count`` or ``free_text``.
        family: the task family code (``"CC"``, ``"AUD"``, ...) when known.
        answer_video: for interval answers, the video the interval refers to.
        durations: each video's length in seconds (video ``i`` is ``durations[i - 1]``).
        has_audio: whether each video has an audio track.
        task_id: the task's id when known.
    """

    question: str
    options: tuple[str, ...] = ()
    answer_type: str = "single"
    family: str | None = None
    answer_video: int | None = None
    durations: tuple[float, ...] = ()
    has_audio: tuple[bool, ...] = ()
    task_id: str | None = None

    @property
    def num_videos(self) -> int:
        return len(self.durations)

    @classmethod
    def from_task(cls, task: Task) -> "TaskView":
        """The view of a :class:`~cvr_gym.core.tasks.Task` (drops the answer and evidence)."""
        return cls(
            question=task.question, options=tuple(task.options), answer_type=task.answer_type,
            family=task.family, answer_video=task.answer_video,
            durations=tuple(v.duration for v in task.videos), has_audio=tuple(v.has_audio for v in task.videos),
            task_id=task.id,
        )

    @classmethod
    def from_info(cls, info: Mapping[str, Any]) -> "TaskView":
        """The view from an env's reset ``info`` (its ``task``, ``family`` and ``task_id`` entries).

        Falls back on ``info["action_context"]`` for the videos when ``info["task"]`` lacks them.
        """
        task = info.get("task") or {}
        ctx = info.get("action_context") or {}
        videos = task.get("videos") or []
        if videos:
            durations = tuple(float(v["duration"]) for v in videos)
            has_audio = tuple(bool(v.get("has_audio", True)) for v in videos)
        else:
            durations = tuple(float(d) for d in ctx.get("durations", ()))
            has_audio = tuple(bool(a) for a in ctx.get("has_audio", (True,) * len(durations)))
        return cls(
            question=str(task.get("question", "")), options=tuple(task.get("options") or ()),
            answer_type=str(task.get("answer_type") or ctx.get("answer_type") or "single"),
            family=info.get("family"), answer_video=task.get("answer_video") or None,  # the env sends 0 for none
            durations=durations, has_audio=has_audio, task_id=info.get("task_id"),
        )

    @classmethod
    def from_prompt(cls, prompt: str, family: str | None = None) -> "TaskView":
        """Parse the env's first observation (the prompt text) into a view.

        Use this when only the text is at hand; :meth:`from_info` is exact and preferred.
        """
        question, options, durations, has_audio = "", [], [], []
        answer_type, answer_video = "single", None
        for line in prompt.splitlines():
            if line.startswith("Question: "):
                question = line[len("Question: "):]
            elif (m := _OPTION_LINE.match(line)) and question:
                options.append(m.group(2))
            elif line.startswith("Answer with: "):
                fmt = line[len("Answer with: "):]
                answer_type = next((t for k, t in _FORMATS.items() if fmt.startswith(k)), answer_type)
                if (m := _ANSWER_VIDEO.search(fmt)):
                    answer_video = int(m.group(1))
            elif (m := _VIDEO_LINE.match(line)):
                durations.append(float(m.group(2)))
                has_audio.append(m.group(3) == "with audio")
        return cls(question=question, options=tuple(options), answer_type=answer_type, family=family,
                   answer_video=answer_video, durations=tuple(durations), has_audio=tuple(has_audio))
