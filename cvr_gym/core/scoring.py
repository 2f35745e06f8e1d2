"""Scorers: one small function per answer type, plus coercion of what agents send.

Each ``score_*`` takes the agent's answer already coerced to canonical form and the gold answer
and returns a score in [0, 1]. :func:`score_answer` coerces a raw answer (``"(B)"``, ``"A, C"``,
``"12.5-20"``, ``"three"``) and dispatches on the task's answer type. The metrics follow
CrossVid's: exact choice, exact set for multi-select, IoU for intervals, exact order, and
scoring-point coverage for free text.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cvr_gym.core.tasks import OPTION_LETTERS, Task

_WORD = re.compile(r"[a-z0-9]+")
_NUMBER = re.compile(r"(?<![\d.])-?\d+(?:\.\d+)?")  # "12.5-20" is two numbers, not 12.5 and -20
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
STOPWORDS = frozenset(
    "a an the and or of to in on at for with by is are was were be been it its this that these those "
    "as from into than then there their they he she his her we you i do does did not no yes both each "
    "video videos".split())


@dataclass(frozen=True)
class ScoringConfig:
    """How outcomes are scored.

    Arguments:
        multi: ``"exact"`` set match, or ``"partial"``: |hit| / |gold| when no wrong option is picked.
        order: ``"exact"`` sequence match, or ``"kendall"``: (tau + 1) / 2 for a permutation.
        count: ``"exact"``, or ``"relative"``: max(0, 1 - |pred - gold| / max(gold, 1)).
        free_text: ``"points"`` (share of scoring points covered) or ``"f1"`` (token F1 to the reference).
        point_threshold: share of a scoring point's content words an answer must contain to cover it.
        mode: ``"lenient"`` (default, for training: ``"(B)"``, ``"b"``, ``"The answer is B."``,
            ``"CA"`` for ``AC``, ``"[31, 42]"`` and segment orders in any common spelling are
            read) or ``"crossvid"``: CrossVid's official per-answer scores exactly (raw text
            compared as its ``eval/<TASK>.py`` scripts do; see :mod:`cvr_gym.core.crossvid_scoring`).
        judge: the CCQA judge for ``mode="crossvid"`` (e.g.
            :class:`~cvr_gym.core.ccqa_judge.OpenAIJudge`); without one an offline clause
            matcher aware of video identity and negation stands in.

    ``gym.make(..., scoring="crossvid")`` is ``ScoringConfig(mode="crossvid")``.
    """

    multi: Literal["exact", "partial"] = "exact"
    order: Literal["exact", "kendall"] = "exact"
    count: Literal["exact", "relative"] = "exact"
    free_text: Literal["points", "f1"] = "points"
    point_threshold: float = 0.5
    mode: Literal["lenient", "crossvid"] = "lenient"
    judge: Any = None

    @classmethod
    def from_any(cls, value: "ScoringConfig | str | dict | None") -> "ScoringConfig":
        """A config from ``None``, a mode name (``"lenient"``, ``"crossvid"``) or a dict of fields."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            if value not in ("lenient", "crossvid"):
                raise ValueError(f"scoring must be 'lenient' or 'crossvid', got {value!r}")
            return cls(mode=value)
        if isinstance(value, dict):
            return cls(**value)
        raise TypeError(f"scoring must be a ScoringConfig, a mode name or a dict, got {type(value).__name__}")


@dataclass(frozen=True)
class ScoreResult:
    score: float
    parsed: Any
    error: str | None = None


# -- scorers on canonical answers --------------------------------------------------------------

def score_single(pred: str, gold: str) -> float:
    return 1.0 if pred == gold else 0.0


def score_multi(pred: Sequence[str], gold: Sequence[str], partial: bool = False) -> float:
    p, g = set(pred), set(gold)
    if p == g:
        return 1.0
    if not partial or not p or p - g:
        return 0.0
    return len(p & g) / len(g)


def kendall_tau(pred: Sequence[str], gold: Sequence[str]) -> float:
    """Kendall's tau between two orderings of the same items (1 identical, -1 reversed)."""
    pos = {item: i for i, item in enumerate(pred)}
    ranks = [pos[item] for item in gold]
    n = len(ranks)
    if n < 2:
        return 1.0
    concordant = sum(1 for i in range(n) for j in range(i + 1, n) if ranks[i] < ranks[j])
    pairs = n * (n - 1) // 2
    return (2 * concordant - pairs) / pairs


def score_order(pred: Sequence[str], gold: Sequence[str], kendall: bool = False) -> float:
    if list(pred) == list(gold):
        return 1.0
    if not kendall or sorted(pred) != sorted(gold):
        return 0.0
    return (kendall_tau(pred, gold) + 1.0) / 2.0


def interval_iou(pred: Sequence[float], gold: Sequence[float]) -> float:
    (ps, pe), (gs, ge) = pred, gold
    inter = max(0.0, min(pe, ge) - max(ps, gs))
    union = max(pe, ge) - min(ps, gs)
    if union <= 0:
        return 1.0 if (ps, pe) == (gs, ge) else 0.0
    return inter / union


def score_count(pred: float, gold: int, relative: bool = False) -> float:
    if not relative:
        return 1.0 if pred == gold else 0.0
    return max(0.0, 1.0 - abs(pred - gold) / max(gold, 1))


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def token_f1(pred: str, reference: str) -> float:
    p, r = Counter(content_words(pred)), Counter(content_words(reference))
    common = sum((p & r).values())
    if not common:
        return 0.0
    precision, recall = common / sum(p.values()), common / sum(r.values())
    return 2 * precision * recall / (precision + recall)


def point_covered(answer: str, point: str, threshold: float = 0.5) -> bool:
    words = set(content_words(point))
    if not words:
        return False
    return len(words & set(content_words(answer))) / len(words) >= threshold


def score_points(answer: str, points: Sequence[str], threshold: float = 0.5) -> float:
    if not points:
        return 0.0
    return sum(point_covered(answer, p, threshold) for p in points) / len(points)


# -- coercion of raw agent answers ---------------------------------------------------------------

class AnswerFormatError(ValueError):
    pass


def _as_text(raw: Any) -> str:
    if isinstance(raw, (list, tuple)):
        return ", ".join(str(x) for x in raw)
    return str(raw)


def coerce_letter(raw: Any, options: Sequence[str]) -> str:
    letters = OPTION_LETTERS[: len(options)]
    if isinstance(raw, (list, tuple)) and len(raw) == 1:
        raw = raw[0]
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < len(options):
        return letters[raw]
    text = _as_text(raw).strip()
    # "B", "(B)", "B.", "B) blue", "Option B": a letter alone or closed by punctuation.
    m = re.fullmatch(r"(?:option\s*)?(?:\(([A-Za-z])\)|([A-Za-z])(?:[.):]|$))(?:\s.*)?", text, re.DOTALL | re.IGNORECASE)
    if m and (m.group(1) or m.group(2)).upper() in letters:
        return (m.group(1) or m.group(2)).upper()
    for i, opt in enumerate(options):
        if text.lower().rstrip(".") == opt.lower().rstrip("."):
            return letters[i]
    m = re.search(r"(?:answer|option)\s*(?:is)?\s*:?\s*\(?([A-Z])\)?\b", text, re.IGNORECASE)
    if m and m.group(1).upper() in letters:
        return m.group(1).upper()
    raise AnswerFormatError(f"expected one option letter out of {list(letters)}, got {text[:80]!r}")


def coerce_letters(raw: Any, options: Sequence[str]) -> list[str]:
    letters = OPTION_LETTERS[: len(options)]
    if isinstance(raw, (list, tuple)):
        items = [coerce_letter(x, options) for x in raw]
    else:
        text = str(raw).strip().upper()
        tokens = re.findall(r"[A-Z]+", text)
        if len(tokens) == 1 and all(c in letters for c in tokens[0]):
            items = list(tokens[0])  # "ACD"
        else:
            items = [t for t in tokens if len(t) == 1 and t in letters]
            if not items or len(items) != len([t for t in tokens if t not in ("AND", "THEN", "OPTION", "OPTIONS")]):
                raise AnswerFormatError(f"expected option letters out of {list(letters)}, got {str(raw)[:80]!r}")
    bad = [x for x in items if x not in letters]
    if bad or not items:
        raise AnswerFormatError(f"expected option letters out of {list(letters)}, got {str(raw)[:80]!r}")
    return items


# Segment-number orders as upstream writes them: AgentCVR's sort gold and answers "4->1->3->2"
# (agent_system/utils/answer_parse.py parse_agent_output_sort), CrossVid's PSS "2->4->1->3"
# (eval/PSS.py), and the usual variants: "4, 1, 3, 2", "4 1 3 2", "4→1→3→2", "4-1-3-2", "[4, 1, 3, 2]",
# "Segment 4 -> Segment 1 -> ...", "Video 4 > Video 1 > ...".
_ORDER_NUMBERS = re.compile(
    r"\s*\[?\s*(?:(?:segment|video|clip|seg\.?)\s*)?\d+\s*(?:(?:->|=>|→|>|-|–|,|;|\s)\s*(?:(?:segment|video|clip|seg\.?)\s*)?\d+\s*)+\]?\s*\.?\s*",
    re.IGNORECASE)


def coerce_order(raw: Any, options: Sequence[str]) -> list[str]:
    """An order answer as option letters: letters (``"C, A, B"``) or segment numbers 1..n
    (``"3->1->2"``, ``[3, 1, 2]``; a permutation of 0..n-1 counts as 0-based indices)."""
    n = len(options)
    numbers: list[int] | None = None
    if isinstance(raw, (list, tuple)) and raw and all(isinstance(x, int) and not isinstance(x, bool) for x in raw):
        numbers = list(raw)
    elif isinstance(raw, (list, tuple)) and raw and all(isinstance(x, str) and x.strip().isdigit() for x in raw):
        numbers = [int(x) for x in raw]
    elif isinstance(raw, str) and _ORDER_NUMBERS.fullmatch(raw):
        numbers = [int(x) for x in re.findall(r"\d+", raw)]
    if numbers is None:
        return coerce_letters(raw, options)
    if sorted(numbers) == list(range(1, n + 1)) or (len(set(numbers)) == len(numbers) and all(1 <= k <= n for k in numbers)):
        return [OPTION_LETTERS[k - 1] for k in numbers]
    if sorted(numbers) == list(range(n)):
        return [OPTION_LETTERS[k] for k in numbers]
    raise AnswerFormatError(f"expected an order of the segments 1..{n}, got {str(raw)[:80]!r}")


def coerce_interval(raw: Any) -> list[float]:
    if isinstance(raw, (list, tuple)) and len(raw) == 2:
        values = [_to_float(x) for x in raw]
    else:
        values = [float(x) for x in _NUMBER.findall(_as_text(raw))]
    if len(values) != 2 or not all(math.isfinite(v) for v in values):
        raise AnswerFormatError(f"expected an interval [start, end] in seconds, got {str(raw)[:80]!r}")
    start, end = sorted(values)
    return [start, end]


def coerce_count(raw: Any) -> float:
    if isinstance(raw, (list, tuple)) and len(raw) == 1:
        raw = raw[0]
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and math.isfinite(raw):
        return float(raw)
    text = str(raw).lower()
    m = _NUMBER.search(text)
    if m:
        return float(m.group())
    for word in _WORD.findall(text):
        if word in _NUMBER_WORDS:
            return float(_NUMBER_WORDS[word])
    raise AnswerFormatError(f"expected a count, got {str(raw)[:80]!r}")


def _to_float(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        raise AnswerFormatError(f"expected a number, got {str(x)[:40]!r}") from None


def score_answer(task: Task, raw: Any, config: ScoringConfig = ScoringConfig()) -> ScoreResult:
    """Coerce ``raw`` to the task's answer type and score it against the gold answer."""
    if config.mode == "crossvid":
        from cvr_gym.core.crossvid_scoring import crossvid_score

        return crossvid_score(task, raw, config.judge)
    kind = task.answer_type
    try:
        if kind == "single":
            pred = coerce_letter(raw, task.options)
            return ScoreResult(score_single(pred, task.answer), pred)
        if kind == "multi":
            pred = sorted(set(coerce_letters(raw, task.options)))
            return ScoreResult(score_multi(pred, task.answer, config.multi == "partial"), pred)
        if kind == "order":
            pred = coerce_order(raw, task.options)
            return ScoreResult(score_order(pred, task.answer, config.order == "kendall"), pred)
        if kind == "interval":
            pred = coerce_interval(raw)
            return ScoreResult(interval_iou(pred, task.answer), pred)
        if kind == "count":
            pred = coerce_count(raw)
            return ScoreResult(score_count(pred, task.answer, config.count == "relative"), pred)
        text = _as_text(raw)
        if config.free_text == "f1" or not task.scoring_points:
            return ScoreResult(token_f1(text, task.answer), text)
        from cvr_gym.core.ccqa import score_points_aware

        return ScoreResult(score_points_aware(text, task.scoring_points, task.answer, config.point_threshold), text)
    except AnswerFormatError as err:
        return ScoreResult(0.0, None, str(err))
    except OverflowError:  # an integer answer too large for a float (10**400)
        return ScoreResult(0.0, None, "the number in the answer is too large")
