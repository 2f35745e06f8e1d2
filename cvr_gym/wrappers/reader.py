"""The reader behind the ``answer_from_evidence`` macro-action.

It turns the evidence gathered in an episode into an answer of the task's type. The real work is
done by the generator's per-family readers, ``cvr_gym.data.readers.read_answer(view, evidence)``
with ``view = cvr_gym.data.view.TaskView.from_info(reset_info)``. When that module is missing
(a checkout without the generator), the reference agents' generic stand-in reader
(``baselines.standin_reader``) is used if installed; failing that, a trivial answer (option A,
zero, the first window, the evidence text) is sent so the macro-action never crashes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

from cvr_gym.wrappers.episode import EpisodeState


@lru_cache(maxsize=1)
def _reader() -> tuple[str, Callable[[Any, list], Any] | None, Callable[[dict], Any] | None]:
    try:
        from cvr_gym.data.readers import read_answer
        from cvr_gym.data.view import TaskView

        return "family", read_answer, TaskView.from_info
    except ImportError:
        pass
    try:  # pragma: no cover - only without the generator
        from baselines.standin_reader import StandInView, read_answer

        return "stand-in", read_answer, StandInView.from_info
    except ImportError:  # pragma: no cover
        return "none", None, None


def reader_name() -> str:
    """``"family"`` (the generator's readers), ``"stand-in"`` or ``"none"``."""
    return _reader()[0]


def read_answer(state: EpisodeState) -> Any:
    """The reader's answer for the episode described by ``state`` (see the module docstring)."""
    name, read, make_view = _reader()
    if read is not None:
        try:
            return read(make_view(state.reset_info), list(state.all_evidence))
        except Exception:  # noqa: BLE001 - a reader bug must not crash an episode
            pass
    return _trivial(state)


def _trivial(state: EpisodeState) -> Any:
    kind = state.answer_type
    if kind in ("single",):
        return "A"
    if kind == "multi":
        return ["A"]
    if kind == "order":
        return [chr(65 + i) for i in range(max(1, state.num_options))]
    if kind == "count":
        return 0
    if kind == "interval":
        v = (state.answer_video or 1) - 1
        return [0.0, float(state.durations[v]) if v < state.num_videos else 1.0]
    from cvr_gym.wrappers.catalogue import evidence_text

    return evidence_text(state)
