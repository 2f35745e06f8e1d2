"""PSS, procedural step sequencing: order prep steps spread over consecutive videos (order answer).

The videos are consecutive parts of one cooking session (video 1 first). Three or four prep
steps with no natural order (grating cheese, washing lettuce, ...) happen across them; the
options list those steps in a random order and the answer is their order in time, so every
permutation is equally likely. Other prep steps are distractors.

Key beat attribute: ``prep`` (the step exactly as its option states it).
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

from cvr_gym.core.evidence import Evidence
from cvr_gym.data.difficulty import Difficulty
from cvr_gym.data.domains import KITCHEN
from cvr_gym.data.families.procedural_common import (
    Draft, attr, balanced, durations, lay_out, letter, num_videos, option_index, unique,
)
from cvr_gym.data.timeline import Beat, Scene
from cvr_gym.core.view import TaskView

CODE = "PSS"
ANSWER_TYPE = "order"

#: (option text, context scene, key beat)
PREP_STEPS: tuple[tuple[str, str, str], ...] = (
    ("Grate the cheese",
     "the cook takes a block of cheese out of the fridge",
     "the cook grates the cheese into a small bowl"),
    ("Chop the onions",
     "the cook peels two onions at the chopping board",
     "the cook dices the onions with a large knife"),
    ("Wash the lettuce",
     "the cook carries a head of lettuce to the sink",
     "the cook rinses the lettuce leaves under the tap"),
    ("Slice the tomatoes",
     "the cook lines up ripe tomatoes on the board",
     "the cook slices the tomatoes into thin rounds"),
    ("Whisk the eggs",
     "the cook cracks eggs into a mixing bowl",
     "the cook whisks the eggs until they are frothy"),
    ("Toast the bread",
     "the cook takes slices of bread from the bag",
     "the cook drops the bread into the toaster"),
    ("Peel the carrots",
     "the cook pulls a bunch of carrots from a paper bag",
     "the cook peels the carrots over the bin"),
    ("Squeeze the lemons",
     "the cook cuts lemons in half on the board",
     "the cook squeezes the lemons into a jug"),
    ("Crush the garlic",
     "the cook separates a few cloves of garlic",
     "the cook crushes the garlic with the flat of a knife"),
    ("Rinse the rice",
     "the cook pours rice into a sieve",
     "the cook rinses the rice until the water runs clear"),
    ("Pick the parsley",
     "the cook brings a bunch of parsley to the board",
     "the cook picks the parsley leaves off the stems"),
)


def _scene(step: tuple[str, str, str], key: bool) -> Scene:
    option, context, text = step
    return Scene(context, [Beat("visual", text, {"prep": option}, key=key)])


def generate(rng: random.Random, diff: Difficulty) -> Draft:
    n = num_videos(rng, diff)
    k = rng.choice((3, 4))
    chosen = rng.sample(PREP_STEPS, k)  # the order they happen in
    homes = sorted(rng.randrange(n) for _ in range(k))
    scenes: list[list[Scene]] = [[] for _ in range(n)]
    for step, home in zip(chosen, homes):
        scenes[home].append(_scene(step, key=True))
    spare = [s for s in PREP_STEPS if s not in chosen]

    def distractor(rng_: random.Random, video: int) -> Scene:
        return _scene(rng_.choice(spare), key=False)

    videos = lay_out(rng, diff, durations(rng, diff, n), scenes, distractor, KITCHEN, ordered=True)
    # The gold order is a (balanced) uniform permutation: step j in time gets option letter order[j].
    order = list(itertools.permutations(range(k)))[balanced(rng, math.factorial(k))]
    options = [""] * k
    for step, slot in zip(chosen, order):
        options[slot] = step[0]
    answer = [letter(slot) for slot in order]
    question = ("These videos are consecutive parts of one cooking session, starting with video 1. "
                "In what order does the cook do the following steps?")
    chance = 1.0 / math.factorial(k)
    return Draft(question=question, answer_type=ANSWER_TYPE, answer=answer, videos=videos,
                 options=options, chance=chance)


def read(view: TaskView, evidence: list[Evidence]) -> Any:
    """Option letters sorted by (video, time) of their step beats; unseen steps go last in option order."""
    first_seen: dict[int, tuple[int, float]] = {}
    for ev in unique(evidence):
        index = option_index(view.options, attr(ev, "prep"))
        if index is not None and index not in first_seen:
            first_seen[index] = (ev.video, ev.start)
    seen = sorted(first_seen, key=lambda i: (first_seen[i], i))
    unseen = [i for i in range(len(view.options)) if i not in first_seen]
    return [letter(i) for i in seen + unseen]
