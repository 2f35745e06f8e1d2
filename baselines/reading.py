"""Answer readers for the reference agents: turn gathered evidence into an answer.

Two readers exist:

- ``family``: the per-family readers of :mod:`cvr_gym.data.readers` (``read_answer(view,
  evidence)``). They read the structured ``attributes`` that the procedural generator gives the
  items that matter, so they are exact on generated suites (the bundled ``default`` suite).
- ``generic``: :mod:`baselines.standin_reader`, word overlap between options, question and
  evidence text. It needs no attributes, so it suits hand-written or imported suites.

``auto`` (the agents' default) is ``family`` when :mod:`cvr_gym.data.readers` is importable,
else ``generic``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from baselines import standin_reader

READERS = ("auto", "family", "generic")
Reader = Callable[[Any, Sequence[Any]], Any]


def task_view(info: dict[str, Any]) -> Any:
    """The question side of the task from a reset ``info`` (a ``TaskView``)."""
    try:
        from cvr_gym.data.view import TaskView
    except ImportError:
        return standin_reader.StandInView.from_info(info)
    return TaskView.from_info(info)


def _family_reader() -> Reader | None:
    try:
        from cvr_gym.data.readers import read_answer
    except ImportError:
        return None
    return read_answer


def get_reader(name: str = "auto") -> Reader:
    """The reader called ``name`` (``auto``, ``family`` or ``generic``); see the module docstring."""
    if name not in READERS:
        raise ValueError(f"unknown reader {name!r}; readers are {', '.join(READERS)}")
    if name == "generic":
        return standin_reader.read_answer
    family = _family_reader()
    if family is None:
        if name == "family":
            raise ValueError("the family readers (cvr_gym.data.readers) are not available")
        return standin_reader.read_answer
    return family


def resolved_name(name: str = "auto") -> str:
    """Which reader ``name`` stands for here: ``"family"`` or ``"generic"``."""
    return "generic" if get_reader(name) is standin_reader.read_answer else "family"


def read_answer(view: Any, evidence: Sequence[Any], reader: str = "auto") -> Any:
    """The answer ``reader`` derives from ``evidence`` for the task described by ``view``."""
    return get_reader(reader)(view, list(evidence))
