"""CCQA, comparative culinary free-form QA: what each cook uses for the same step (free text).

Same world as :mod:`~cvr_gym.data.families.cc`: every video does one step with a different
ingredient. The answer is free text; the scoring points are the ingredients (one per video), so
an answer covers a point only by naming that video's ingredient. A blind guess names one
ingredient of the step and covers a point with chance 1 / (ingredients of the step).
"""

from __future__ import annotations

import random
from typing import Any

from cvr_gym.core.evidence import Evidence
from cvr_gym.data.difficulty import Difficulty
from cvr_gym.data.domains import KITCHEN
from cvr_gym.data.families.cc.procedural import STEPS, other_step_distractor, step_scene
from cvr_gym.data.families.procedural_common import Draft, about, attr, durations, lay_out, mentions, num_videos
from cvr_gym.data.timeline import Scene
from cvr_gym.core.view import TaskView

CODE = "CCQA"
ANSWER_TYPE = "free_text"


def generate(rng: random.Random, diff: Difficulty) -> Draft:
    n = num_videos(rng, diff)
    step = rng.choice(STEPS)
    ingredients = rng.sample(step.ingredients, n)
    lengths = durations(rng, diff, n)
    scenes: list[list[Scene]] = [[step_scene(step, ingredients[i], key=True)] for i in range(n)]
    videos = lay_out(rng, diff, lengths, scenes, other_step_distractor(step), KITCHEN)
    question = (f"Compare the videos: what does the cook in each video use to {step.step}? "
                "Name the ingredient for every video.")
    answer = "; ".join(f"Video {i + 1} uses {v}" for i, v in enumerate(ingredients)) + "."
    return Draft(question=question, answer_type=ANSWER_TYPE, answer=answer, videos=videos,
                 scoring_points=list(ingredients), chance=1.0 / len(step.ingredients))


def read(view: TaskView, evidence: list[Evidence]) -> Any:
    """"Video 1 uses X; video 2 uses Y." from the step beats seen; a stock guess for the rest."""
    found: dict[int, str] = {}
    for ev in about(evidence, view.question, "step"):
        ingredient = attr(ev, "ingredient")
        if isinstance(ingredient, str) and ev.video not in found:
            found[ev.video] = ingredient
    parts = [f"Video {v} uses {found[v]}" for v in sorted(found)]
    if len(found) < max(1, view.num_videos):
        parts.append(f"the others probably use {_guess(view.question)}")
    return "; ".join(parts) + "."


def _guess(question: str) -> str:
    for step in STEPS:
        if mentions(question, step.step):
            return step.ingredients[0]
    return "the usual ingredient"
