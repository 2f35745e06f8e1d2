"""NC, narrative comprehension: who hid what, and where, across episodes of a story (single).

The videos are episodes of one story. In one episode a character hides an object somewhere
(a short beat inside a scene of the character acting nervously). Questions ask either *what*
the character hides in a place or *who* hides an object there. Distractors are other
characters hiding other things, and the same character hiding something elsewhere.

Beat attributes: ``character``, ``object``, ``place``.
"""

from __future__ import annotations

import random
from typing import Any

from cvr_gym.core.evidence import Evidence
from cvr_gym.data.difficulty import Difficulty
from cvr_gym.data.domains import HOME
from cvr_gym.data.families.procedural_common import (
    Draft, about, attr, durations, lay_out, letter, mentions, num_videos, option_index, place_gold,
)
from cvr_gym.data.timeline import Beat, Scene
from cvr_gym.core.view import TaskView

CODE = "NC"
ANSWER_TYPE = "single"

CHARACTERS = ("Maya", "Tom", "Leo", "Nina", "Omar", "Grace", "Ivan", "Rosa")
OBJECTS = ("a brass key", "a folded letter", "a roll of banknotes", "an old photograph", "a USB stick",
           "a silver ring", "a train ticket", "a small notebook")
PLACES = ("flower pot", "biscuit tin", "coat pocket", "piano stool", "old boot", "bread bin", "teapot", "garden shed")
_CONTEXTS = ("{c} comes home late and lingers near the {p}",
             "{c} waits until the house is quiet, then heads for the {p}",
             "{c} paces the room, glancing at the {p}", "{c} checks that nobody is watching the {p}")
_HIDES = ("{c} slips {o} into the {p}", "{c} quickly hides {o} in the {p}", "{c} pushes {o} deep into the {p}")


def _scene(rng: random.Random, character: str, obj: str, place: str, key: bool) -> Scene:
    beat = Beat("visual", rng.choice(_HIDES).format(c=character, o=obj, p=place),
                {"character": character, "object": obj, "place": place}, key=key)
    return Scene(rng.choice(_CONTEXTS).format(c=character, p=place), [beat])


def generate(rng: random.Random, diff: Difficulty) -> Draft:
    n = num_videos(rng, diff)
    character = rng.choice(CHARACTERS)
    place = rng.choice(PLACES)
    ask_who = rng.random() < 0.5
    if ask_who:
        pool = [c for c in CHARACTERS if c != character]
        wrong = rng.sample(pool, 3)
        obj = rng.choice(OBJECTS)
        options, gold = place_gold(rng, character, wrong)
        question = f"Across these episodes, who hides {obj} in the {place}?"
    else:
        obj = rng.choice(OBJECTS)
        wrong = rng.sample([o for o in OBJECTS if o != obj], 3)
        options, gold = place_gold(rng, obj, wrong)
        question = f"Across these episodes, what does {character} hide in the {place}?"
    home = rng.randrange(n)
    scenes: list[list[Scene]] = [[_scene(rng, character, obj, place, key=True)] if i == home else [] for i in range(n)]

    def distractor(rng_: random.Random, video: int) -> Scene:
        # Never the key triple; the same character or object may recur with another place.
        while True:
            c, o, p = rng_.choice(CHARACTERS), rng_.choice(OBJECTS), rng_.choice(PLACES)
            if p != place:
                return _scene(rng_, c, o, p, key=False)

    videos = lay_out(rng, diff, durations(rng, diff, n), scenes, distractor, HOME)
    return Draft(question=question, answer_type=ANSWER_TYPE, answer=letter(gold), videos=videos,
                 options=options, chance=1.0 / len(options))


def read(view: TaskView, evidence: list[Evidence]) -> Any:
    """The hiding beat at the question's place: its object ("what") or its character ("who")."""
    for ev in about(evidence, view.question, "place"):
        character, obj = attr(ev, "character"), attr(ev, "object")
        if mentions(view.question, character):
            index = option_index(view.options, obj)
        elif mentions(view.question, obj):
            index = option_index(view.options, character)
        else:
            continue
        if index is not None:
            return letter(index)
    return "A"
