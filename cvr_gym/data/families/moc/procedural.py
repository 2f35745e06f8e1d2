"""MOC, multi-view object counting: how many objects of one colour across all videos (count).

Each video films a different aisle of the same shop; in each, a shelf holds some objects of the
asked colour (a short beat inside a longer "the camera moves along the shelves of mugs" scene).
Next to them, on the same shelves, are the same objects in other colours; elsewhere, other
objects in the asked colour. The total is uniform over ``[n, n + 9]`` for ``n`` videos, each
video holding at least one, so a blind guess scores 1/10.

Beat attributes: ``object`` (plural, as the question says it), ``colour``, ``count``.
"""

from __future__ import annotations

import random
from typing import Any

from cvr_gym.core.evidence import Evidence
from cvr_gym.data.difficulty import Difficulty
from cvr_gym.data.domains import SHOP
from cvr_gym.data.families.procedural_common import Draft, about, attr, balanced, durations, lay_out, num_videos
from cvr_gym.data.timeline import Beat, Scene
from cvr_gym.core.view import TaskView

CODE = "MOC"
ANSWER_TYPE = "count"
SPREAD = 10  # totals are uniform over n .. n + SPREAD - 1
#: A video whose shelf was not seen is assumed to hold this many.
GUESS_PER_VIDEO = 3
OBJECTS = ("mugs", "teapots", "lunchboxes", "watering cans", "cushions", "umbrellas", "candles", "notebooks")
COLOURS = ("red", "blue", "green", "yellow", "white", "black", "orange", "purple")
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_SHELF = ("a shelf holding {n} {c} {o}", "{n} {c} {o} lined up on a shelf", "a display of {n} {c} {o}")


def _beat(rng: random.Random, obj: str, colour: str, count: int, key: bool) -> Beat:
    word = NUMBER_WORDS[count]
    noun = obj if count != 1 else _singular(obj)
    return Beat("object", rng.choice(_SHELF).format(n=word, c=colour, o=noun),
                {"object": obj, "colour": colour, "count": count}, key=key)


def _singular(plural: str) -> str:
    if plural.endswith("boxes"):
        return plural[:-2]
    return plural[:-1]


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` as ``parts`` positive integers, uniformly among compositions."""
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    edges = [0, *cuts, total]
    return [b - a for a, b in zip(edges, edges[1:])]


def generate(rng: random.Random, diff: Difficulty) -> Draft:
    n = num_videos(rng, diff)
    obj, colour = rng.choice(OBJECTS), rng.choice(COLOURS)
    total = n + balanced(rng, SPREAD)
    counts = _split(rng, total, n) if n > 1 else [total]
    scenes: list[list[Scene]] = []
    for count in counts:
        beats = [_beat(rng, obj, colour, count, key=True)]
        for other in rng.sample([c for c in COLOURS if c != colour], rng.randint(1, 2)):
            beats.append(_beat(rng, obj, other, rng.randint(1, 10), key=False))
        scenes.append([Scene(f"the camera moves along the shelves of {obj}", beats)])

    def distractor(rng_: random.Random, video: int) -> Scene:
        other = rng_.choice([o for o in OBJECTS if o != obj])
        beats = [_beat(rng_, other, c, rng_.randint(1, 10), key=False)
                 for c in rng_.sample(COLOURS, rng_.randint(1, 2))]
        return Scene(f"the camera moves along the shelves of {other}", beats)

    videos = lay_out(rng, diff, durations(rng, diff, n), scenes, distractor, SHOP)
    question = (f"Each video films a different aisle of the same shop. How many {colour} {obj} are there "
                "in total across all the videos?")
    return Draft(question=question, answer_type=ANSWER_TYPE, answer=total, videos=videos, chance=1.0 / SPREAD)


def read(view: TaskView, evidence: list[Evidence]) -> Any:
    """Sum the counts of the asked colour and object per video; unseen videos count as a guess."""
    per_video: dict[int, int] = {}
    for ev in about(evidence, view.question, "object", "colour"):
        count = attr(ev, "count")
        if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
            per_video[ev.video] = per_video.get(ev.video, 0) + count
    n = max(1, view.num_videos)
    unseen = sum(1 for v in range(1, n + 1) if v not in per_video)
    return sum(per_video.values()) + GUESS_PER_VIDEO * unseen
