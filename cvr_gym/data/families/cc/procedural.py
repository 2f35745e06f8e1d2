"""CC, culinary comparison: which video's cook does a step with a given ingredient (single choice).

Every video shows the same step (say, thickening the sauce) with a different ingredient. The
step is a short beat inside a longer "the cook starts making the sauce" scene; other steps with
their own ingredients are distractors. Options are the videos; the gold video is uniform.

Key beat attributes: ``step`` (named in the question) and ``ingredient``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from cvr_gym.core.evidence import Evidence
from cvr_gym.data.difficulty import Difficulty
from cvr_gym.data.domains import KITCHEN
from cvr_gym.data.families.procedural_common import (
    Draft, about, attr, balanced, durations, lay_out, letter, mentions, num_videos, video_options,
)
from cvr_gym.data.timeline import Beat, Scene
from cvr_gym.core.view import TaskView

CODE = "CC"
ANSWER_TYPE = "single"


@dataclass(frozen=True)
class Step:
    """A cooking step done with one of several interchangeable ingredients.

    ``step`` is how questions name it ("thicken the sauce"); ``template`` is the beat's wording
    with ``{v}`` for the ingredient. Ingredients of one step share no word, so a free-text
    answer naming one can never cover another.
    """

    step: str
    context: str
    template: str
    ingredients: tuple[str, ...]


STEPS: tuple[Step, ...] = (
    Step("thicken the sauce", "the cook starts making the sauce", "the cook stirs {v} into the sauce to thicken it",
         ("flour", "cornstarch", "heavy cream", "egg yolks", "grated parmesan", "mashed potato")),
    Step("grease the pan", "the cook sets a frying pan on the stove to heat", "the cook greases the pan with {v}",
         ("butter", "olive oil", "lard", "ghee", "bacon fat", "cooking spray")),
    Step("sweeten the batter", "the cook mixes the batter for the cake", "the cook sweetens the batter with {v}",
         ("honey", "maple syrup", "brown sugar", "agave nectar", "mashed dates", "molasses")),
    Step("season the soup", "the cook tastes the soup simmering on the stove", "the cook seasons the soup with {v}",
         ("sea salt", "soy sauce", "miso paste", "lemon juice", "black pepper", "smoked paprika")),
    Step("garnish the plate", "the cook starts arranging the food on the plate",
         "the cook garnishes the plate with {v}",
         ("fresh basil", "chopped chives", "toasted almonds", "lime wedges", "crispy shallots", "pomegranate")),
    Step("coat the chicken", "the cook lays the chicken pieces out on a tray", "the cook coats the chicken with {v}",
         ("breadcrumbs", "seasoned flour", "crushed cornflakes", "sesame seeds", "panko", "beaten egg")),
)


def step_beat(step: Step, ingredient: str, key: bool) -> Beat:
    return Beat("visual", step.template.format(v=ingredient), {"step": step.step, "ingredient": ingredient}, key=key)


def step_scene(step: Step, ingredient: str, key: bool) -> Scene:
    return Scene(step.context, [step_beat(step, ingredient, key)])


def other_step_distractor(exclude: Step):
    """A factory of distractor scenes: another step, any ingredient."""

    def make(rng: random.Random, video: int) -> Scene:
        step = rng.choice([s for s in STEPS if s is not exclude])
        return step_scene(step, rng.choice(step.ingredients), key=False)

    return make


def generate(rng: random.Random, diff: Difficulty) -> Draft:
    n = num_videos(rng, diff)
    step = rng.choice(STEPS)
    ingredients = rng.sample(step.ingredients, n)
    gold = balanced(rng, n)
    target = ingredients[gold]
    lengths = durations(rng, diff, n)
    scenes = [[step_scene(step, ingredients[i], key=True)] for i in range(n)]
    videos = lay_out(rng, diff, lengths, scenes, other_step_distractor(step), KITCHEN)
    question = f"In which video does the cook {step.step} with {target}?"
    return Draft(question=question, answer_type=ANSWER_TYPE, answer=letter(gold), videos=videos,
                 options=video_options(n), chance=1.0 / n)


def read(view: TaskView, evidence: list[Evidence]) -> Any:
    """The video whose step beat uses the ingredient the question names.

    Missing evidence: rule out videos seen using another ingredient and pick the first left.
    """
    n = max(1, len(view.options) or view.num_videos)
    seen = about(evidence, view.question, "step")
    ruled_out = set()
    for ev in seen:
        if not 1 <= ev.video <= n:
            continue
        if mentions(view.question, attr(ev, "ingredient")):
            return letter(ev.video - 1)
        ruled_out.add(ev.video)
    left = [v for v in range(1, n + 1) if v not in ruled_out] or [1]
    return letter(left[0] - 1)
