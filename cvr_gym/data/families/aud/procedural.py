"""AUD, audio-dependent reasoning: the answer is only heard, never seen (single).

Two kinds of question:

- speech: a cooking host reveals the secret ingredient of a dish in one of the videos. The
  picture only shows the host leaning in to share a tip (and, as a visual decoy, some other
  ingredient standing on the counter); the ingredient is in the speech.
- sound: in a named video, what is heard when the farmer opens a door? The picture shows the
  door opening; the animal is only heard.

Distractors: other dishes' secrets, other doors with other animals, and the same door in other
videos with another animal. Beat attributes: ``dish`` and ``secret`` (speech), ``sound`` (a
sound; its door is an attribute of the door-opening scene around it, so the answer needs both
looking and listening).
"""

from __future__ import annotations

import random
from typing import Any

from cvr_gym.core.evidence import Evidence
from cvr_gym.data.difficulty import Difficulty
from cvr_gym.data.domains import FARM, KITCHEN
from cvr_gym.data.families.procedural_common import (
    Draft, about, attr, durations, lay_out, letter, mentions, num_videos, option_index, place_gold, unique,
    video_numbers,
)
from cvr_gym.data.timeline import Beat, Scene
from cvr_gym.core.view import TaskView

CODE = "AUD"
ANSWER_TYPE = "single"
HOSTS = ("Anna", "Marco", "Priya", "Kenji", "Lucia", "Ben")
DISHES = ("tomato soup", "banana bread", "beef stew", "potato salad", "pancake batter", "chilli", "apple pie")
#: secret ingredient -> how it looks when it merely stands on the counter (a visual decoy)
ON_COUNTER = {
    "smoked paprika": "a tin of smoked paprika", "a spoonful of honey": "a jar of honey",
    "fish sauce": "a bottle of fish sauce", "a pinch of cinnamon": "a jar of cinnamon sticks",
    "instant coffee": "a jar of instant coffee", "anchovy paste": "a tube of anchovy paste",
    "lemon zest": "a bowl of lemons", "dark chocolate": "a bar of dark chocolate",
}
SECRETS = tuple(ON_COUNTER)
_SAYS = ("the secret to my {d} is {s}", "here's my trick: my {d} always gets {s}",
         "nobody guesses it, but my {d} has {s}")
DOORS = ("barn", "stable", "henhouse", "shed", "pigsty")
SOUNDS = ("a dog barks", "a rooster crows", "a cow moos", "a goat bleats", "a horse whinnies", "a duck quacks")


def _speech_scene(rng: random.Random, host: str, dish: str, secret: str, key: bool) -> Scene:
    decoy = rng.choice([s for s in SECRETS if s != secret])
    return Scene(f"{host} leans towards the camera to share a tip about the {dish}", [
        Beat("speech", rng.choice(_SAYS).format(d=dish, s=secret), {"dish": dish, "secret": secret}, key=key),
        Beat("object", f"{ON_COUNTER[decoy]} sits on the counter"),
    ])


def _door_scene(door: str, sound: str, key: bool) -> Scene:
    # The sound alone does not say which door it follows: that takes the picture around it.
    return Scene(f"the farmer walks up to the {door} and opens the door",
                 [Beat("sound", sound, {"sound": sound}, key=key)], attributes={"door": f"{door} door"})


def _speech(rng: random.Random, diff: Difficulty, n: int) -> Draft:
    dish = rng.choice(DISHES)
    secret, *wrong = rng.sample(SECRETS, 4)
    options, gold = place_gold(rng, secret, wrong)
    home = rng.randrange(n)
    scenes: list[list[Scene]] = [[] for _ in range(n)]
    scenes[home].append(_speech_scene(rng, rng.choice(HOSTS), dish, secret, key=True))

    def distractor(rng_: random.Random, video: int) -> Scene:
        return _speech_scene(rng_, rng_.choice(HOSTS), rng_.choice([d for d in DISHES if d != dish]),
                             rng_.choice(SECRETS), key=False)

    videos = lay_out(rng, diff, durations(rng, diff, n), scenes, distractor, KITCHEN)
    question = f"In one of these videos a host reveals the secret ingredient of the {dish}. What is it?"
    return Draft(question=question, answer_type=ANSWER_TYPE, answer=letter(gold), videos=videos,
                 options=options, chance=1.0 / len(options))


def _sound(rng: random.Random, diff: Difficulty, n: int) -> Draft:
    door = rng.choice(DOORS)
    sound, *wrong = rng.sample(SOUNDS, 4)
    options, gold = place_gold(rng, sound, wrong)
    asked = rng.randrange(n)
    others = [s for s in SOUNDS if s != sound]
    scenes = [[_door_scene(door, sound if i == asked else rng.choice(others), key=i == asked)] for i in range(n)]

    def distractor(rng_: random.Random, video: int) -> Scene:
        return _door_scene(rng_.choice([d for d in DOORS if d != door]), rng_.choice(SOUNDS), key=False)

    videos = lay_out(rng, diff, durations(rng, diff, n), scenes, distractor, FARM)
    question = f"In video {asked + 1}, what is heard when the farmer opens the {door} door?"
    options = [o[0].upper() + o[1:] for o in options]
    return Draft(question=question, answer_type=ANSWER_TYPE, answer=letter(gold), videos=videos,
                 options=options, chance=1.0 / len(options))


def generate(rng: random.Random, diff: Difficulty) -> Draft:
    n = num_videos(rng, diff)
    return _speech(rng, diff, n) if rng.random() < 0.5 else _sound(rng, diff, n)


def read(view: TaskView, evidence: list[Evidence]) -> Any:
    """The secret the host says for the question's dish, or the sound heard at the question's door.

    Speech names its dish, so hearing it is enough. A sound does not name its door: each sound
    heard in the asked video is matched to the nearest door-opening scene seen in that video, and
    the sound matched to the asked door wins (nearest to it if none matches). Evidence from
    ``observe`` alone holds no secret and no sound, so it gives ``A``.
    """
    for ev in about(evidence, view.question, "dish"):
        index = option_index(view.options, attr(ev, "secret"))
        if index is not None:
            return letter(index)
    named = video_numbers(view.question)
    records = [ev for ev in unique(evidence) if not named or ev.video == named[0]]
    sounds = [ev for ev in records if option_index(view.options, attr(ev, "sound")) is not None]
    doors = [ev for ev in records if isinstance(attr(ev, "door"), str)]
    asked = [ev for ev in doors if mentions(view.question, attr(ev, "door"))]
    if not sounds:
        return "A"
    if not asked:
        return letter(option_index(view.options, attr(sounds[0], "sound")))

    def gap(a: Evidence, b: Evidence) -> float:
        return max(0.0, a.start - b.end, b.start - a.end)

    def nearest_door(sound: Evidence) -> Evidence:
        return min(doors, key=lambda d: (gap(sound, d), d.start))

    matched = [s for s in sounds if nearest_door(s) in asked] or sounds
    best = min(matched, key=lambda s: (min(gap(s, d) for d in asked), s.start))
    return letter(option_index(view.options, attr(best, "sound")))
