"""CrossVid's official per-answer scores, replayed rule by rule (``ScoringConfig(mode="crossvid")``).

The rules are those of CrossVid's evaluation scripts (github.com/chuntianli666/CrossVid,
``eval/<TASK>.py``); the model's raw text output is compared, nothing is normalised:

====== ================================================================ =======================
task   official rule                                                    lenient default differs
====== ================================================================ =======================
NC, CC ``answer == input_pair["answer"]`` (exact string, e.g. ``"B"``)  ``"B."``, ``"(B)"``,
PEA,PI                                                                  ``"b"``, ``"The answer
MOC,MSR                                                                 is B"`` all score 1
BU     ``answer == "".join(input_pair["answer"])`` (``"AC"``)           ``"CA"``, ``"A, C"`` score 1
PSS    ``answer == input_pair["answer"]`` (``"2->4->1->3"``)            ``"2, 4, 1, 3"``, letters
FSA    ``answer.split(",")`` into two ``float``s, then IoU (union 0 ->   ``"[31, 42]"``,
       0); anything else scores 0                                       ``"31-42"`` are read
CCQA   an LLM judge marks per scoring point ``coverage`` and            offline clause matcher
       ``correctness``; score = (sum of both) / (2 x points)            (``core/ccqa.py``)
       (``eval/score_CCQA.py``), pooled over the set
====== ================================================================ =======================

Tasks that did not come from CrossVid are scored by the rule of their answer type (single ->
exact letter, multi -> joined letters in gold order, order -> segment numbers joined by
``->``, interval -> the FSA rule, count -> the exact number as text).
"""

from __future__ import annotations

from typing import Any

from cvr_gym.core.scoring import ScoreResult
from cvr_gym.core.tasks import OPTION_LETTERS, Task

SINGLE_TASKS = frozenset({"NC", "CC", "PEA", "PI", "MOC", "MSR"})


def fsa_interval_iou(interval1: tuple[float, float], interval2: tuple[float, float]) -> float:
    """CrossVid's ``interval_iou`` (eval/FSA.py): no sorting of the ends, 0 for an empty union."""
    start1, end1 = interval1
    start2, end2 = interval2
    intersection = max(0, min(end1, end2) - max(start1, start2))
    union = max(end1, end2) - min(start1, start2)
    if union == 0:
        return 0.0
    return intersection / union


def gold_text(task: Task) -> Any:
    """The gold answer as CrossVid's script compares it: the QA file's own value (the importer
    keeps it as ``original_answer``; BU's is joined), else one built from our canonical answer."""
    if "original_answer" in task.meta and task.answer_type in ("single", "multi", "order"):
        original = task.meta["original_answer"]
        if task.answer_type == "multi":  # eval/BU.py: "".join(input_pair["answer"])
            try:
                return "".join(original)
            except TypeError:
                return original
        return original  # compared as it is: a non-string gold matches no text, as upstream
    if task.answer_type == "multi":
        return "".join(task.answer)
    if task.answer_type == "order":
        return "->".join(str(OPTION_LETTERS.index(letter) + 1) for letter in task.answer)
    if task.answer_type == "count":
        return str(task.answer)
    return task.answer


def crossvid_score(task: Task, raw: Any, judge: Any = None) -> ScoreResult:
    """The score CrossVid's script would give the model output ``raw`` on ``task``."""
    if task.answer_type == "free_text":
        return _ccqa(task, raw, judge)
    if not isinstance(raw, str):
        return ScoreResult(0.0, raw, "CrossVid scores the model's text output; send the answer as a string")
    gold = gold_text(task)
    if task.answer_type == "interval":
        try:  # eval/FSA.py: answer1, answer2 = answer.split(","); float(...) each
            first, second = raw.split(",")
            pred = (float(first), float(second))
        except ValueError:
            return ScoreResult(0.0, raw, 'CrossVid reads an interval as "start,end" (two numbers and one comma)')
        return ScoreResult(fsa_interval_iou(pred, (float(gold[0]), float(gold[1]))), list(pred))
    return ScoreResult(1.0 if raw == gold else 0.0, raw)


def _ccqa(task: Task, raw: Any, judge: Any) -> ScoreResult:
    text = raw if isinstance(raw, str) else str(raw)
    points = list(task.scoring_points)
    if not points:
        return ScoreResult(0.0, text, "the task has no scoring points to judge")
    if judge is None:
        from cvr_gym.core.ccqa import covered

        hits = [covered(text, p, task.answer) for p in points]
        # Offline: a covered point counts as covered and correct (2 of 2), as the judge would.
        return ScoreResult(2 * sum(hits) / (2 * len(points)), text)
    question = task.meta.get("original_question", task.question)
    verdict = judge(question=question, answer=task.answer, points=points, output=text)
    if verdict is None:
        return ScoreResult(0.0, text, "the judge gave no verdict")
    coverage, correctness = verdict
    return ScoreResult((sum(map(bool, coverage)) + sum(map(bool, correctness))) / (2 * len(points)), text)


def ccqa_set_score(results: list[tuple[float, int]]) -> float:
    """CrossVid's CCQA number for a set: points pooled over answers, not a mean of per-answer
    scores (``eval/score_CCQA.py``: ``sum(score) / sum(2 * len(coverage))``). ``results`` holds
    (per-answer score from :func:`crossvid_score`, number of scoring points) pairs; answers the
    judge could not read are left out, as the script drops them."""
    total = sum(2 * n for _, n in results)
    return sum(score * 2 * n for score, n in results) / total if total else 0.0
