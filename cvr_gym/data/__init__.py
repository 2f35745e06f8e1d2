"""Task data: the eleven task families, procedural suites, the rendered corpus, and the readers.

- :mod:`~cvr_gym.data.families`: one package per family, its generator and reader
  (``procedural.py``) beside its corpus builder and fuzzy reader (``corpus.py``).
- :func:`generate_suite` / :func:`generate_splits` make seeded script-only suites;
  :func:`write_jsonl` saves them (``cvr-gym generate`` is the command-line front end).
- :class:`Difficulty` and :data:`DIFFICULTIES` are the knobs and presets.
- :mod:`~cvr_gym.data.corpus` and :mod:`~cvr_gym.data.render`: the renderable corpus of real
  videos; :mod:`~cvr_gym.data.build_scripts`: scripts from dense real perception.
- :func:`read_answer` (:mod:`~cvr_gym.data.readers`) answers a task from gathered evidence, given
  a :class:`~cvr_gym.core.view.TaskView`: the one place that picks a reader.
"""

from cvr_gym.data.difficulty import DIFFICULTIES, Difficulty, resolve_difficulty
from cvr_gym.data.generator import (
    generate_splits, generate_suite, generate_task, parse_families, spread, task_json, to_jsonl, write_jsonl,
)
from cvr_gym.data.readers import blind_answer, read_answer

__all__ = [
    "DIFFICULTIES", "Difficulty", "blind_answer", "generate_splits", "generate_suite", "generate_task",
    "parse_families", "read_answer", "resolve_difficulty", "spread", "task_json", "to_jsonl", "write_jsonl",
]
