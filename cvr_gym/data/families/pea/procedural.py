"""PEA, procedural error analysis: what goes wrong in the one video where a step fails (single).

Every video shows the same step of a recipe; in one video the cook makes a mistake, in the others
the step goes right. Options are four candidate mistakes of that step; the gold position is
uniform. Distractors are other steps (some going wrong in their own way).

Beat attributes: ``procedure`` (named in the question) and ``outcome`` (a mistake, exactly as an
option states it, or ``"done correctly"``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from cvr_gym.core.evidence import Evidence
from cvr_gym.data.difficulty import Difficulty
from cvr_gym.data.domains import KITCHEN
from cvr_gym.data.families.procedural_common import (
    Draft, about, attr, durations, lay_out, letter, num_videos, option_index, place_gold,
)
from cvr_gym.data.timeline import Beat, Scene
from cvr_gym.core.view import TaskView

CODE = "PEA"
ANSWER_TYPE = "single"
CORRECT = "done correctly"


@dataclass(frozen=True)
class Procedure:
    """A step that can go right (``correct``) or wrong in several ways (``(option, beat text)``)."""

    name: str
    context: str
    correct: str
    mistakes: tuple[tuple[str, str], ...]


PROCEDURES: tuple[Procedure, ...] = (
    Procedure(
        "kneading the dough", "the cook turns the dough out onto a floured board",
        "the cook kneads the dough until it is smooth and springy",
        (("The dough is barely kneaded", "the cook folds the dough twice and sets it aside straight away"),
         ("Far too much flour is added", "the cook tips a whole cup of extra flour onto the dough"),
         ("The dough is too dry and tears", "the dough cracks and tears as the cook presses it"),
         ("The yeast is left out", "the packet of yeast lies unopened beside the empty bowl"),
         ("The dough is left to dry out uncovered", "the cook walks off leaving the dough uncovered on the board")),
    ),
    Procedure(
        "boiling the pasta", "the cook brings a large pot of water to the boil",
        "the cook salts the rolling boil and drops in the pasta",
        (("The pasta goes into water that is not boiling", "the cook tips the pasta into still, barely warm water"),
         ("The water is never salted", "the cook puts the salt jar back on the shelf without opening it"),
         ("The pot boils over", "starchy foam boils over the rim of the pot onto the stove"),
         ("The pasta clumps together", "the pasta sticks together in a clump at the bottom of the pot"),
         ("The pasta is overcooked", "the cook lifts out pasta so soft it falls apart on the spoon")),
    ),
    Procedure(
        "frying the garlic", "the cook heats oil in a pan and adds sliced garlic",
        "the garlic sizzles gently and turns golden",
        (("The garlic burns", "the garlic turns black and gives off acrid smoke"),
         ("The oil is so hot it spatters", "hot oil spatters out of the pan across the counter"),
         ("The garlic goes into a cold pan", "the cook adds the garlic before switching the hob on"),
         ("The pan is left unattended", "the cook walks away from the pan to answer the door"),
         ("The cook cuts a finger", "the cook nicks a finger on the knife while slicing more garlic")),
    ),
    Procedure(
        "whipping the cream", "the cook pours cold cream into a mixing bowl",
        "the cook whips the cream into soft, glossy peaks",
        (("The cream is whipped until it splits", "the cream turns grainy and separates into butter"),
         ("Warm cream is used", "the cook takes the cream from a carton left beside the warm oven"),
         ("The cream splatters everywhere", "the mixer flings cream across the counter and the wall"),
         ("Salt is added instead of sugar", "the cook spoons salt from the jar instead of the sugar"),
         ("The cream is barely whipped", "the cook stops whisking while the cream is still runny")),
    ),
)


def _scene(proc: Procedure, outcome: str, text: str, key: bool) -> Scene:
    return Scene(proc.context, [Beat("visual", text, {"procedure": proc.name, "outcome": outcome}, key=key)])


def _distractor(exclude: Procedure):
    def make(rng: random.Random, video: int) -> Scene:
        proc = rng.choice([p for p in PROCEDURES if p is not exclude])
        if rng.random() < 0.5:
            return _scene(proc, CORRECT, proc.correct, key=False)
        option, text = rng.choice(proc.mistakes)
        return _scene(proc, option, text, key=False)

    return make


def generate(rng: random.Random, diff: Difficulty) -> Draft:
    n = num_videos(rng, diff)
    proc = rng.choice(PROCEDURES)
    four = rng.sample(proc.mistakes, 4)
    (gold_option, gold_text), others = four[0], [m[0] for m in four[1:]]
    options, gold = place_gold(rng, gold_option, others)
    faulty = rng.randrange(n)
    scenes = [[_scene(proc, gold_option, gold_text, key=True) if i == faulty
               else _scene(proc, CORRECT, proc.correct, key=False)] for i in range(n)]
    videos = lay_out(rng, diff, durations(rng, diff, n), scenes, _distractor(proc), KITCHEN)
    question = (f"The cooks in these videos are all {proc.name}. In one of the videos something goes wrong "
                "while they do it. What is the mistake?")
    return Draft(question=question, answer_type=ANSWER_TYPE, answer=letter(gold), videos=videos,
                 options=options, chance=1.0 / len(options))


def read(view: TaskView, evidence: list[Evidence]) -> Any:
    """The option naming the failed outcome seen for the question's step; ``A`` when none was seen."""
    for ev in about(evidence, view.question, "procedure"):
        index = option_index(view.options, attr(ev, "outcome"))
        if index is not None:
            return letter(index)
    return "A"
