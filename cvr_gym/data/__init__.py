"""Procedural task suites: script-only tasks of the eleven families, their readers and views.

- :func:`generate_suite` / :func:`generate_splits` make seeded suites; :func:`write_jsonl`
  saves them (``cvr-gym generate`` is the command-line front end).
- :class:`Difficulty` and :data:`DIFFICULTIES` are the knobs and presets.
- :func:`read_answer` answers a task from gathered evidence, given a :class:`TaskView`.
"""

from cvr_gym.data.difficulty import DIFFICULTIES, Difficulty, resolve_difficulty
from cvr_gym.data.generator import (
    generate_splits, generate_suite, generate_task, parse_families, spread, task_json, to_jsonl, write_jsonl,
)
from cvr_gym.data.readers import blind_answer, read_answer
from cvr_gym.core.view import TaskView

__all__ = [
    "DIFFICULTIES", "Difficulty", "TaskView", "blind_answer", "generate_splits", "generate_suite", "generate_task",
    "parse_families", "read_answer", "resolve_difficulty", "spread", "task_json", "to_jsonl", "write_jsonl",
]
