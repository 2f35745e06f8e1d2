"""Per-family readers: turn the evidence an agent gathered into an answer.

:func:`read_answer` is what reference agents (oracle, heuristic, single-pass) call once they
have looked around::

    view = TaskView.from_info(reset_info)          # or TaskView.from_task(task)
    evidence = []
    for action in my_calls:
        obs, reward, terminated, truncated, info = env.step(action)
        evidence.extend(info["evidence"])
    env.step(ToolCall.answer(read_answer(view, evidence)))

How readers work: generated scripts give the items that matter structured ``attributes`` (for
example ``{"step": "thicken the sauce", "ingredient": "flour"}``). A reader keeps the records
whose attributes are about what the question asks (the step named in the question, the video it
names, ...), ignores everything else (fillers, distractors, duplicates from repeated calls) and
reads the value off them. Readers never look at the gold answer, are deterministic (the order of
the evidence does not matter) and never raise: with evidence missing they return a best guess
(an option ruled in by elimination, or a fixed default such as ``"A"``), which scores chance.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cvr_gym.core.evidence import Evidence
from cvr_gym.data.families import FAMILY_MODULES
from cvr_gym.data.families.common import LETTERS
from cvr_gym.data.view import TaskView


def read_answer(view: TaskView, evidence: Iterable[Evidence]) -> Any:
    """Answer ``view``'s question from ``evidence`` with the reader of the view's family.

    Arguments:
        view: the question side of the task (:class:`~cvr_gym.data.view.TaskView`); its
            ``family`` picks the reader. Unknown families get :func:`blind_answer`.
        evidence: :class:`~cvr_gym.core.evidence.Evidence` records, e.g. everything collected
            from ``info["evidence"]`` over an episode. Extra, irrelevant or repeated records are
            fine; plain dicts with the same fields are accepted too.

    Returns:
        An answer in the form the env's ``answer`` tool takes: a letter (``single``), a list of
        letters (``multi``, ``order``), ``[start, end]`` (``interval``), an int (``count``) or a
        string (``free_text``).
    """
    records = [Evidence.coerce(ev) for ev in evidence or ()]
    records = [ev for ev in records if ev is not None]
    # Tasks of the rendered corpus (their questions name a template) are read from text, fuzzily.
    from cvr_gym.data.corpus.readers import corpus_reader, read_corpus_answer

    if corpus_reader(view) is not None:
        return read_corpus_answer(view, records)
    module = FAMILY_MODULES.get(view.family or "")
    if module is None:
        return _generic_guess(view)
    try:
        return module.read(view, records)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return _generic_guess(view)


def blind_answer(view: TaskView) -> Any:
    """The reader's answer with no evidence at all: the family's fixed guess, else a generic one."""
    return read_answer(view, [])


def _generic_guess(view: TaskView) -> Any:
    kind, options = view.answer_type, view.options
    if kind == "multi":
        return ["A"]
    if kind == "order":
        return list(LETTERS[: len(options)])
    if kind == "count":
        return 3 * max(1, view.num_videos)
    if kind == "interval":
        duration = view.durations[(view.answer_video or 1) - 1] if view.durations else 60.0
        return [round(duration / 2 - 1.5, 1), round(duration / 2 + 1.5, 1)]
    if kind == "free_text":
        return "I could not find the evidence."
    return "A"
