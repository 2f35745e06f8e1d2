"""PI, plot inference: combine two clues from two different videos into a conclusion (single).

Each scenario has two clue kinds, each clue seen in a different video: a ticket and a circled
city tell how and where a character travels; a note and an alarm tell where and when a meeting
is. The four options cross two values of each clue, so one clue alone leaves a coin toss and
the gold option is uniform. Distractors are other characters' clues and look-alike beats of
the same character that are not clues (a postcard from another city).

Beat attributes: ``character``, ``clue`` (the clue kind) and the clue's value under that kind.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from cvr_gym.core.evidence import Evidence
from cvr_gym.data.difficulty import Difficulty
from cvr_gym.data.domains import HOME
from cvr_gym.data.families.procedural_common import (
    Draft, about, attr, durations, lay_out, letter, mentions, num_videos, place_gold,
)
from cvr_gym.data.timeline import Beat, Scene
from cvr_gym.core.view import TaskView

CODE = "PI"
ANSWER_TYPE = "single"
CHARACTERS = ("Sam", "Ella", "Marcus", "Hana", "Felix", "Zoe")


@dataclass(frozen=True)
class Clue:
    """One clue kind: its name, value -> beat wording (``{c}`` is the character), its scene."""

    kind: str
    wordings: dict[str, str]
    item_kind: str  # beat kind: visual, text or object
    context: str


@dataclass(frozen=True)
class Scenario:
    """Two clue kinds, the question, the option wording and a look-alike beat that is no clue."""

    question: str
    first: Clue
    second: Clue
    option: str  # with {a} (first value) and {b} (second value)
    decoy: str  # a non-clue beat naming a second-kind value ({c}, {b})


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        question="Putting the videos together, how is {c} most likely travelling, and where to?",
        first=Clue("transport", {
            "train": "{c} tucks a train ticket into a jacket pocket",
            "plane": "{c} prints out a boarding pass at the desk",
            "ferry": "{c} slips a ferry ticket between the pages of a book",
            "coach": "{c} pins a coach ticket to the noticeboard",
        }, "visual", "{c} packs a travel bag in the bedroom"),
        second=Clue("destination", {
            "Lisbon": "{c} circles Lisbon on a paper map",
            "Oslo": "{c} circles Oslo on a paper map",
            "Naples": "{c} circles Naples on a paper map",
            "Dublin": "{c} circles Dublin on a paper map",
            "Vienna": "{c} circles Vienna on a paper map",
        }, "visual", "{c} sits at the kitchen table planning the travel route"),
        option="By {a} to {b}",
        decoy="{c} reads an old postcard from {b}",
    ),
    Scenario(
        question="Putting the videos together, where and when is {c} going to meet a friend?",
        first=Clue("meeting place", {
            "old bridge": "a note on the fridge reads: meet me at the old bridge, {c}",
            "bus station": "a note on the fridge reads: meet me at the bus station, {c}",
            "library steps": "a note on the fridge reads: meet me at the library steps, {c}",
            "harbour café": "a note on the fridge reads: meet me at the harbour café, {c}",
        }, "text", "{c} finds a note stuck to the fridge about where to meet"),
        second=Clue("meeting time", {
            "six o'clock": "{c} sets a phone alarm for six o'clock",
            "half past seven": "{c} sets a phone alarm for half past seven",
            "noon": "{c} sets a phone alarm for noon",
            "nine o'clock": "{c} sets a phone alarm for nine o'clock",
        }, "visual", "{c} checks the phone before going to meet a friend"),
        option="At the {a} at {b}",
        decoy="{c} glances at the kitchen clock, which shows {b}",
    ),
)


def _clue_scene(clue: Clue, value: str, character: str, key: bool) -> Scene:
    beat = Beat(clue.item_kind, clue.wordings[value].format(c=character),
                {"character": character, "clue": clue.kind, clue.kind: value}, key=key)
    return Scene(clue.context.format(c=character), [beat])


def generate(rng: random.Random, diff: Difficulty) -> Draft:
    n = num_videos(rng, diff)
    sc = rng.choice(SCENARIOS)
    character = rng.choice(CHARACTERS)
    a_gold, a_other = rng.sample(sorted(sc.first.wordings), 2)
    b_gold, b_other = rng.sample(sorted(sc.second.wordings), 2)
    gold_option = sc.option.format(a=a_gold, b=b_gold)
    others = [sc.option.format(a=a, b=b) for a, b in ((a_gold, b_other), (a_other, b_gold), (a_other, b_other))]
    options, gold = place_gold(rng, gold_option, others)
    first_video, second_video = rng.sample(range(n), 2)
    scenes: list[list[Scene]] = [[] for _ in range(n)]
    scenes[first_video].append(_clue_scene(sc.first, a_gold, character, key=True))
    scenes[second_video].append(_clue_scene(sc.second, b_gold, character, key=True))
    strangers = [c for c in CHARACTERS if c != character]

    def distractor(rng_: random.Random, video: int) -> Scene:
        if rng_.random() < 0.4:  # the same character, a beat that names a value but is no clue
            b = rng_.choice(sorted(sc.second.wordings))
            return Scene(sc.second.context.format(c=character),
                         [Beat("visual", sc.decoy.format(c=character, b=b), {"character": character})])
        clue = rng_.choice((sc.first, sc.second))
        return _clue_scene(clue, rng_.choice(sorted(clue.wordings)), rng_.choice(strangers), key=False)

    videos = lay_out(rng, diff, durations(rng, diff, n), scenes, distractor, HOME)
    return Draft(question=sc.question.format(c=character), answer_type=ANSWER_TYPE, answer=letter(gold),
                 videos=videos, options=options, chance=1.0 / len(options))


def read(view: TaskView, evidence: list[Evidence]) -> Any:
    """The option consistent with every clue found for the question's character; ``A`` if none is."""
    values = []
    for ev in about(evidence, view.question, "character"):
        kind = attr(ev, "clue")
        value = attr(ev, kind) if isinstance(kind, str) else None
        if isinstance(value, str) and value not in values:
            values.append(value)
    if values:
        for i, option in enumerate(view.options):
            if all(mentions(option, v) for v in values):
                return letter(i)
        for i, option in enumerate(view.options):
            if any(mentions(option, v) for v in values):
                return letter(i)
    return "A"
