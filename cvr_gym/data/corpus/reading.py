"""What the corpus readers share: answers from evidence *text*, fuzzily, so OCR and ASR output works.

Generated suites give key items structured attributes; real perception does not (only object
colour/count and beep pitch). Corpus readers therefore read the on-screen lines and the
transcripts themselves: a line is matched to the corpus vocabulary with :mod:`difflib`
(``"BYSTANDER LAUGH5"`` is still the laughing bystander), and lines shown together (overlapping
times) form one card. Each reader has ``claims(view)``, true when the question is one of its
family's templates (the family's ``MARK`` phrase), and ``read(view, evidence)``. Readers never
look at the gold answer and never raise: missing evidence gives a fixed guess.

Each family's reader sits beside its corpus builder (``cvr_gym/data/families/<code>/corpus.py``,
``READER``); :func:`cvr_gym.data.readers.corpus_reader` finds the one that claims a view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cvr_gym.core.evidence import Evidence
from cvr_gym.core.view import TaskView
from cvr_gym.data.corpus.match import norm, ratio, together

CARD_SECONDS = 3.5  # typical length of a key card (they last 3 to 4.5 s)


def best_option(options: Sequence[str], text: str, cutoff: float = 0.6) -> int | None:
    """The option that reads most like ``text`` (whole-text ratio), or ``None``."""
    scores = [ratio(opt, text) for opt in options]
    if not scores or max(scores) < cutoff:
        return None
    return scores.index(max(scores))


def card_lines(anchor: Evidence, evidence: Sequence[Evidence]) -> list[Evidence]:
    """``anchor`` and the text lines shown with it (one card)."""
    return [anchor, *together(anchor, evidence, "text")]


class CorpusReader:
    """Base class: a family code, the question phrase that identifies the template, a fallback."""

    code = ""
    marks: tuple[str, ...] = ()

    def claims(self, view: TaskView) -> bool:
        """Whether ``view`` is a question of this reader's template."""
        if view.family not in (None, self.code):
            return False
        question = norm(view.question)
        return any(norm(mark) in question for mark in self.marks)

    def read(self, view: TaskView, evidence: list[Evidence]) -> Any:
        raise NotImplementedError

    def guess(self, view: TaskView) -> Any:
        return "A"
