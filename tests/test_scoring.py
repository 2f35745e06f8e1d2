"""Scorers against hand-computed values."""

import pytest

from cvr_gym.core.scoring import (
    ScoringConfig, coerce_count, coerce_interval, coerce_letter, coerce_letters, interval_iou, kendall_tau,
    score_answer, score_count, score_multi, score_order, score_points, score_single, token_f1,
)
from cvr_gym.core.tasks import Task

OPTS = ("red", "blue", "green", "white")


def test_single_exact():
    assert score_single("B", "B") == 1.0
    assert score_single("A", "B") == 0.0


@pytest.mark.parametrize("raw,letter", [
    ("B", "B"), ("(B)", "B"), ("b", "B"), ("B.", "B"), ("B) blue", "B"), ("blue", "B"),
    ("The answer is C", "C"), ("Option D", "D"), (1, "B"), (["A"], "A"),
])
def test_coerce_letter(raw, letter):
    assert coerce_letter(raw, OPTS) == letter


@pytest.mark.parametrize("raw", ["E", "", "none of them", 7, "A dog"])
def test_coerce_letter_rejects(raw):
    with pytest.raises(ValueError):
        coerce_letter(raw, OPTS)


def test_multi_exact_and_partial():
    assert score_multi(["A", "C"], ["A", "C"]) == 1.0
    assert score_multi(["A"], ["A", "C"]) == 0.0
    # partial: 1 of 2 gold letters and no wrong pick -> 1/2
    assert score_multi(["A"], ["A", "C"], partial=True) == 0.5
    # partial: a wrong pick gives nothing
    assert score_multi(["A", "B"], ["A", "C"], partial=True) == 0.0
    # 2 of 3 -> 2/3
    assert score_multi(["A", "B"], ["A", "B", "D"], partial=True) == pytest.approx(2 / 3)


@pytest.mark.parametrize("raw,letters", [
    ("AC", ["A", "C"]), ("A, C", ["A", "C"]), (["C", "A"], ["C", "A"]), ("A and C", ["A", "C"]),
    ("[A, C]", ["A", "C"]), ("C > A > B", ["C", "A", "B"]),
])
def test_coerce_letters(raw, letters):
    assert coerce_letters(raw, OPTS) == letters


def test_kendall_tau_hand_values():
    assert kendall_tau(["A", "B", "C"], ["A", "B", "C"]) == 1.0
    assert kendall_tau(["C", "B", "A"], ["A", "B", "C"]) == -1.0
    # one adjacent swap of 3 items: 2 concordant, 1 discordant pair -> (2 - 1) / 3
    assert kendall_tau(["B", "A", "C"], ["A", "B", "C"]) == pytest.approx(1 / 3)
    # 4 items, one adjacent swap: 5 concordant, 1 discordant -> 4/6
    assert kendall_tau(["A", "B", "D", "C"], ["A", "B", "C", "D"]) == pytest.approx(4 / 6)


def test_order_exact_and_kendall():
    assert score_order(["C", "A", "B"], ["C", "A", "B"]) == 1.0
    assert score_order(["A", "C", "B"], ["C", "A", "B"]) == 0.0
    # (1/3 + 1) / 2 = 2/3
    assert score_order(["A", "C", "B"], ["C", "A", "B"], kendall=True) == pytest.approx(2 / 3)
    # not a permutation of the gold items -> 0 even with Kendall
    assert score_order(["A", "C"], ["C", "A", "B"], kendall=True) == 0.0


def test_interval_iou_hand_values():
    assert interval_iou([40, 50], [40, 50]) == 1.0
    # overlap 5 (45-50), union 15 (40-55)
    assert interval_iou([45, 55], [40, 50]) == pytest.approx(5 / 15)
    assert interval_iou([0, 10], [20, 30]) == 0.0
    # nested: 2 / 10
    assert interval_iou([42, 44], [40, 50]) == pytest.approx(0.2)


@pytest.mark.parametrize("raw,value", [
    ([12.5, 20], [12.5, 20.0]), ("12.5-20", [12.5, 20.0]), ("from 20 s to 12.5 s", [12.5, 20.0]),
    ("[3, 7]", [3.0, 7.0]),
])
def test_coerce_interval(raw, value):
    assert coerce_interval(raw) == value


def test_count_exact_and_relative():
    assert score_count(5, 5) == 1.0
    assert score_count(4, 5) == 0.0
    # relative: 1 - |4 - 5| / 5 = 0.8
    assert score_count(4, 5, relative=True) == pytest.approx(0.8)
    # 1 - |12 - 5| / 5 < 0 -> 0
    assert score_count(12, 5, relative=True) == 0.0
    # gold 0: denominator 1 -> 1 - 1 = 0
    assert score_count(1, 0, relative=True) == 0.0


@pytest.mark.parametrize("raw,value", [(5, 5.0), ("5", 5.0), ("there are five", 5.0), ("about 3 cups", 3.0)])
def test_coerce_count(raw, value):
    assert coerce_count(raw) == value


def test_token_f1_hand_value():
    # content words: pred {fries, onions}, reference {video?...}
    # reference "the cook fries onions" -> cook, fries, onions; pred "fries onions fast" -> fries, onions, fast
    # common 2: precision 2/3, recall 2/3, F1 2/3
    assert token_f1("fries onions fast", "the cook fries onions") == pytest.approx(2 / 3)
    assert token_f1("nothing", "the cook fries onions") == 0.0


def test_scoring_points_coverage():
    points = ["video 1 fries the onions", "video 2 boils the onions"]
    # point 1 content words {1, fries, onions}: all present; point 2 {2, boils, onions}: only onions (1/3 < 0.5)
    assert score_points("In video 1 the cook fries onions", points) == 0.5
    assert score_points("1 fries onions, 2 boils onions", points) == 1.0
    assert score_points("", points) == 0.0


def _task(**kw):
    base = {"id": "t", "family": "BU", "question": "q?", "videos": [{"index": 1, "duration": 10}]}
    base.update(kw)
    return Task.model_validate(base)


def test_score_answer_dispatch_and_format_errors():
    single = _task(options=list(OPTS), answer_type="single", answer="B")
    assert score_answer(single, "(B)").score == 1.0
    bad = score_answer(single, "purple")
    assert bad.score == 0.0 and bad.error
    multi = _task(options=list(OPTS), answer_type="multi", answer=["A", "C"])
    assert score_answer(multi, "CA").score == 1.0
    assert score_answer(multi, "A", ScoringConfig(multi="partial")).score == 0.5
    count = _task(answer_type="count", answer=5)
    assert score_answer(count, "4", ScoringConfig(count="relative")).score == pytest.approx(0.8)
    interval = _task(answer_type="interval", answer=[40, 50])
    assert score_answer(interval, "45-55").score == pytest.approx(1 / 3)
    free = _task(answer_type="free_text", answer="the cook fries onions")
    assert score_answer(free, "fries onions fast").score == pytest.approx(2 / 3)


def test_gold_answers_are_validated():
    with pytest.raises(ValueError):
        _task(options=list(OPTS), answer_type="single", answer="F")
    with pytest.raises(ValueError):
        _task(options=list(OPTS), answer_type="order", answer=["A", "A"])
    with pytest.raises(ValueError):
        _task(answer_type="count", answer=-1)
    with pytest.raises(ValueError):
        _task(answer_type="interval", answer=[5, 2])
