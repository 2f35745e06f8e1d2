"""Readers: turn the evidence an agent gathered into an answer. The one place that picks a reader.

:func:`read_answer` is what reference agents, the ``answer_from_evidence`` macro-action of the
classic-RL wrappers and the comparison tools call once they have looked around::

    view = TaskView.from_info(reset_info)          # or TaskView.from_task(task)
    evidence = []
    for action in my_calls:
        obs, reward, terminated, truncated, info = env.step(action)
        evidence.extend(info["evidence"])
    env.step(ToolCall.answer(read_answer(view, evidence)))

Three kinds of reader, chosen by ``reader``:

- ``family``: the task family's own reader. Generated scripts give the items that matter structured
  ``attributes`` (``{"step": "thicken the sauce", "ingredient": "flour"}``); a family reader keeps
  the records about what the question asks, ignores fillers, distractors and repeats, and reads the
  value off them. Questions of the rendered corpus (their templates are claimed by a corpus
  reader) are read from the perceived text itself, fuzzily, so OCR and ASR output works.
- ``generic``: :mod:`cvr_gym.data.generic_reader`, word overlap between options, question and
  evidence text; it needs no attributes and no known family.
- ``auto`` (the default): ``family`` where the task's family (or corpus template) has a reader,
  else ``generic``.

Readers never look at the gold answer, are deterministic (the order of the evidence does not
matter) and never raise: with evidence missing they return a best guess (an option ruled in by
elimination, or :func:`blind_guess`), which scores chance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from cvr_gym.core.evidence import Evidence
from cvr_gym.core.tasks import OPTION_LETTERS
from cvr_gym.core.view import TaskView
from cvr_gym.data import generic_reader
from cvr_gym.data.corpus.reading import CorpusReader
from cvr_gym.data.families import CORPUS_READERS, FAMILY_MODULES

READERS = ("auto", "family", "generic")


def read_answer(view: TaskView, evidence: Iterable[Any], reader: str = "auto") -> Any:
    """Answer ``view``'s question from ``evidence`` with the reader ``reader`` picks.

    Arguments:
        view: the question side of the task (:class:`~cvr_gym.core.view.TaskView`); its
            ``family`` (and question template) picks the family reader.
        evidence: :class:`~cvr_gym.core.evidence.Evidence` records, e.g. everything collected
            from ``info["evidence"]`` over an episode. Extra, irrelevant or repeated records are
            fine; plain dicts with the same fields are accepted too.
        reader: ``"auto"``, ``"family"`` or ``"generic"`` (see the module docstring).

    Returns:
        An answer in the form the env's ``answer`` tool takes: a letter (``single``), a list of
        letters (``multi``, ``order``), ``[start, end]`` (``interval``), an int (``count``) or a
        string (``free_text``).
    """
    if reader not in READERS:
        raise ValueError(f"unknown reader {reader!r}; readers are {', '.join(READERS)}")
    records = [ev for ev in (Evidence.coerce(e) for e in evidence or ()) if ev is not None]
    read = _family_reader(view) if reader != "generic" else None
    if read is None:
        if reader == "family" or not records:  # nothing a generic reading could go on
            return blind_guess(view)
        read = generic_reader.read_answer
    try:
        return read(view, records)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError, ZeroDivisionError):
        return blind_guess(view)


def has_family_reader(view: TaskView) -> bool:
    """Whether ``view``'s task has a family (or corpus) reader; ``auto`` uses the generic one if not."""
    return _family_reader(view) is not None


def _family_reader(view: TaskView) -> Callable[[TaskView, list[Evidence]], Any] | None:
    # Tasks of the rendered corpus (their questions name a template) are read from text, fuzzily.
    if corpus_reader(view) is not None:
        return read_corpus_answer  # falls back on the corpus reader's own guess
    module = FAMILY_MODULES.get(view.family or "")
    return None if module is None else module.read


def corpus_reader(view: TaskView) -> CorpusReader | None:
    """The corpus reader whose template ``view``'s question is, if any."""
    return next((r for r in CORPUS_READERS if r.claims(view)), None)


def read_corpus_answer(view: TaskView, evidence: Iterable[Any]) -> Any:
    """Answer a corpus task from ``evidence`` (``None`` if no corpus reader claims ``view``)."""
    reader = corpus_reader(view)
    if reader is None:
        return None
    records = [ev for ev in (Evidence.coerce(e) for e in evidence or ()) if ev is not None]
    try:
        return reader.read(view, records)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError, ZeroDivisionError):
        return reader.guess(view)


def blind_answer(view: TaskView) -> Any:
    """The family reader's answer with no evidence at all (its fixed guess), else :func:`blind_guess`."""
    return read_answer(view, [], reader="family")


def blind_guess(view: TaskView) -> Any:
    """A fixed answer of the view's answer type, for when no evidence can be read."""
    kind, options = view.answer_type, view.options
    if kind == "multi":
        return ["A"]
    if kind == "order":
        return list(OPTION_LETTERS[: len(options)])
    if kind == "count":
        return 3 * max(1, view.num_videos)
    if kind == "interval":
        duration = view.durations[(view.answer_video or 1) - 1] if view.durations else 60.0
        return [round(duration / 2 - 1.5, 1), round(duration / 2 + 1.5, 1)]
    if kind == "free_text":
        return "I could not find the evidence."
    return "A"
