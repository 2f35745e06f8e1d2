"""Answer readers for the reference agents: turn gathered evidence into an answer.

The per-family readers live in :mod:`cvr_gym.data.readers` (``read_answer(view, evidence)``) with
:class:`cvr_gym.data.view.TaskView`. When that module is not available (older checkouts, custom
suites), the generic word-overlap reader in :mod:`baselines.standin_reader` answers instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from baselines import standin_reader


def task_view(info: dict[str, Any]) -> Any:
    """The question side of the task from a reset ``info`` (a ``TaskView``)."""
    try:
        from cvr_gym.data.view import TaskView
    except ImportError:
        return standin_reader.StandInView.from_info(info)
    return TaskView.from_info(info)


def _load_reader() -> Callable[[Any, Sequence[Any]], Any]:
    try:
        from cvr_gym.data.readers import read_answer
    except ImportError:
        return standin_reader.read_answer
    return read_answer


def read_answer(view: Any, evidence: Sequence[Any]) -> Any:
    """The answer the reader derives from ``evidence`` for the task described by ``view``."""
    return _load_reader()(view, list(evidence))


def reader_name() -> str:
    """Which reader is in use: ``"family"`` (cvr_gym.data.readers) or ``"stand-in"``."""
    return "stand-in" if _load_reader() is standin_reader.read_answer else "family"
