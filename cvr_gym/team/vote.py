"""The team answer: a majority vote for choice questions, the summariser's answer otherwise."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cvr_gym.core.scoring import ScoringConfig, score_answer
from cvr_gym.core.tasks import Task

#: Answer types decided by a vote (the answer is one or more option letters).
VOTED_TYPES = frozenset({"single", "multi", "order"})


@dataclass
class TeamAnswer:
    """How the team answered.

    ``answer`` is the raw answer chosen (``None`` when no agent answered), ``score`` its score
    by the task's scorer, ``method`` ``"vote"``, ``"summariser"`` or ``"none"``, ``votes`` the
    count per distinct (coerced) answer, ``by`` the agent whose answer was taken.
    """

    answer: Any
    score: float
    method: str
    votes: dict[str, int] = field(default_factory=dict)
    by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        answer = list(self.answer) if isinstance(self.answer, tuple) else self.answer
        return {"answer": answer, "score": self.score, "method": self.method, "votes": dict(self.votes), "by": self.by}


def _key(pred: Any) -> str:
    return ",".join(pred) if isinstance(pred, (list, tuple)) else str(pred)


def team_answer(task: Task, answers: Mapping[str, Any], order: Sequence[str], summariser: str,
                scoring: ScoringConfig | None = None) -> TeamAnswer:
    """Combine the agents' ``answers`` (agent -> raw answer, only agents that answered).

    Choice questions: the answers are coerced as the scorer reads them ("b", "(B)" and "B" are
    one vote); the most votes win, ties go to the summariser's answer when it is among the tied,
    else to the tied answer given first in ``order``. Answers the scorer cannot read do not vote.
    Other answer types: the summariser's answer, or when it did not answer, the first answer in
    ``order``.
    """
    scoring = scoring or ScoringConfig()
    given = [a for a in order if a in answers]
    if not given:
        return TeamAnswer(None, 0.0, "none")
    if task.answer_type not in VOTED_TYPES:
        by = summariser if summariser in answers else given[0]
        return TeamAnswer(answers[by], score_answer(task, answers[by], scoring).score, "summariser", by=by)
    preds = {a: score_answer(task, answers[a], scoring).parsed for a in given}
    votes = Counter(_key(p) for p in preds.values() if p is not None)
    if not votes:
        by = summariser if summariser in answers else given[0]
        return TeamAnswer(answers[by], 0.0, "vote", {}, by)
    top = max(votes.values())
    tied = {k for k, v in votes.items() if v == top}
    candidates = ([summariser] if summariser in preds else []) + given
    by = next(a for a in candidates if preds[a] is not None and _key(preds[a]) in tied)
    result = score_answer(task, answers[by], scoring)
    return TeamAnswer(answers[by], result.score, "vote", dict(votes), by)
