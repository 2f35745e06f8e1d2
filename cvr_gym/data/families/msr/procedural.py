"""MSR, multi-view spatial reasoning: where an object is from the *other* camera's viewpoint (single).

Two videos film the same room from opposite ends, each camera facing the other. A short beat in
one of them shows where an object stands relative to a landmark *from that camera*; the question
asks for the relation seen from the opposite camera, so left/right and in front/behind swap.
The camera that is asked about shows other objects around the same landmark (distractors);
further videos film other rooms.

Beat attributes: ``object``, ``landmark``, ``relation`` (``left``, ``right``, ``front``, ``behind``).
"""

from __future__ import annotations

import random
import re
from typing import Any

from cvr_gym.core.evidence import Evidence
from cvr_gym.data.difficulty import Difficulty
from cvr_gym.data.domains import ROOM
from cvr_gym.data.families.procedural_common import (
    Draft, about, attr, durations, lay_out, letter, num_videos, place_gold,
)
from cvr_gym.data.timeline import Beat, Scene
from cvr_gym.core.view import TaskView

CODE = "MSR"
ANSWER_TYPE = "single"
ROOMS = ("living room", "classroom", "garage", "office", "studio")
LANDMARKS = ("sofa", "bookshelf", "piano", "fireplace", "desk", "workbench", "whiteboard", "armchair")
OBJECTS = ("red backpack", "guitar case", "potted fern", "floor lamp", "laundry basket", "bicycle",
           "yellow umbrella", "cardboard box")
RELATIONS = ("left", "right", "front", "behind")
FLIP = {"left": "right", "right": "left", "front": "behind", "behind": "front"}
_BEAT = {
    "left": "from this camera, the {o} stands to the left of the {l}",
    "right": "from this camera, the {o} stands to the right of the {l}",
    "front": "from this camera, the {o} stands in front of the {l}, closer to the lens",
    "behind": "from this camera, the {o} stands behind the {l}, further from the lens",
}
_OPTION = {
    "left": "To the left of the {l}",
    "right": "To the right of the {l}",
    "front": "In front of the {l} (closer to that camera)",
    "behind": "Behind the {l} (further from that camera)",
}
_PAIR = re.compile(r"videos (\d+) and (\d+)", re.IGNORECASE)
_VIEWPOINT = re.compile(r"camera of video (\d+)", re.IGNORECASE)


def _scene(obj: str, landmark: str, relation: str, room: str, key: bool) -> Scene:
    beat = Beat("object", _BEAT[relation].format(o=obj, l=landmark),
                {"object": obj, "landmark": landmark, "relation": relation}, key=key)
    return Scene(f"the camera slowly pans across the {landmark} side of the {room}", [beat])


def generate(rng: random.Random, diff: Difficulty) -> Draft:
    n = num_videos(rng, diff)
    room = rng.choice(ROOMS)
    landmark = rng.choice(LANDMARKS)
    obj = rng.choice(OBJECTS)
    seen_from, asked = rng.sample(range(n), 2)
    shown = rng.choice(RELATIONS)
    gold_relation = FLIP[shown]
    options, gold = place_gold(rng, _OPTION[gold_relation].format(l=landmark),
                               [_OPTION[r].format(l=landmark) for r in RELATIONS if r != gold_relation])
    scenes: list[list[Scene]] = [[] for _ in range(n)]
    scenes[seen_from].append(_scene(obj, landmark, shown, room, key=True))
    other_rooms = [r for r in ROOMS if r != room]
    far_rooms = {v: rng.choice(other_rooms) for v in range(n)}

    def distractor(rng_: random.Random, video: int) -> Scene:
        o = rng_.choice([x for x in OBJECTS if x != obj])
        if video - 1 in (seen_from, asked):  # the same room: other objects, often by the same landmark
            lm = landmark if rng_.random() < 0.6 else rng_.choice(LANDMARKS)
            return _scene(o, lm, rng_.choice(RELATIONS), room, key=False)
        return _scene(rng_.choice([obj, o]), rng_.choice(LANDMARKS), rng_.choice(RELATIONS),
                      far_rooms[video - 1], key=False)

    videos = lay_out(rng, diff, durations(rng, diff, n), scenes, distractor, ROOM)
    a, b = sorted((seen_from + 1, asked + 1))
    question = (f"Videos {a} and {b} film the same {room} from opposite ends, each camera facing the other. "
                f"From the camera of video {asked + 1}, where is the {obj} relative to the {landmark}?")
    return Draft(question=question, answer_type=ANSWER_TYPE, answer=letter(gold), videos=videos,
                 options=options, chance=1.0 / len(options))


def _option_for(options: tuple[str, ...], relation: str) -> int | None:
    if relation not in RELATIONS:
        return None
    for i, option in enumerate(options):
        if re.search(rf"\b{relation}\b", option, re.IGNORECASE):
            return i
    return None


def read(view: TaskView, evidence: list[Evidence]) -> Any:
    """The relation seen by the asked camera: read directly, or flipped from the facing camera."""
    pair, viewpoint = _PAIR.search(view.question), _VIEWPOINT.search(view.question)
    if not pair or not viewpoint:
        return "A"
    asked = int(viewpoint.group(1))
    facing = {int(pair.group(1)), int(pair.group(2))} - {asked}
    for ev in about(evidence, view.question, "object", "landmark"):
        relation = attr(ev, "relation")
        if ev.video == asked:
            index = _option_for(view.options, relation)
        elif ev.video in facing:
            index = _option_for(view.options, FLIP.get(relation, ""))
        else:
            continue
        if index is not None:
            return letter(index)
    return "A"
