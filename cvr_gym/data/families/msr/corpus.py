"""MSR: where an object stands relative to a landmark, seen from the *other* camera (single).

Video 1 is camera A: cards ``("CAMERA A SEES", "THE LAMP", "LEFT OF THE SOFA")`` for two or
three objects around one landmark. Video 2 is camera B, whose card says how it stands:
``("CAMERA B FACES", "CAMERA A")`` (opposite, so left/right and in front/behind swap) or
``("CAMERA B POINTS", "THE SAME WAY", "AS CAMERA A")`` (nothing swaps). Both videos are silent.
"""

from __future__ import annotations

import random
import re

from cvr_gym.data.corpus.groups import letter, Group, Question, build_videos, with_gold
from cvr_gym.data.corpus.layout import Card, background, decoration, filler_card
from cvr_gym.data.corpus.match import closest, lines_like, of_kind, together
from cvr_gym.data.corpus.reading import CorpusReader, best_option

CODE = "MSR"
MARK = "film the same room from cameras A and B"
OBJECTS = ("LAMP", "PLANT", "CHAIR", "GUITAR", "FAN", "STOOL", "VASE", "CLOCK")
LANDMARKS = ("SOFA", "TABLE", "BED", "DESK", "PIANO")
RELATIONS = ("LEFT OF", "RIGHT OF", "IN FRONT OF", "BEHIND")
FLIP = {"LEFT OF": "RIGHT OF", "RIGHT OF": "LEFT OF", "IN FRONT OF": "BEHIND", "BEHIND": "IN FRONT OF"}
FACING = ("CAMERA B FACES", "CAMERA A")
SAME_WAY = ("CAMERA B POINTS", "THE SAME WAY", "AS CAMERA A")


def _card(rng: random.Random, lines: tuple[str, ...], tag: str) -> Card:
    bg = background(rng)
    return Card(rng.choice((3.0, 3.5, 4.0)), bg, lines, decoration(rng, bg, 2), tag=tag)


def build(rng: random.Random, prefix: str) -> Group:
    landmark = rng.choice(LANDMARKS)
    k = rng.randint(2, 3)
    objects = rng.sample(OBJECTS, k)
    relations = rng.sample(RELATIONS, k)
    facing = rng.random() < 0.5
    first = [_card(rng, ("CAMERA A SEES", f"THE {o}", f"{r} {landmark}"), f"o{i}")
             for i, (o, r) in enumerate(zip(objects, relations))]
    second = [_card(rng, FACING if facing else SAME_WAY, "camera")]
    titles = {1: ("CAMERA A", "LIVING ROOM"), 2: ("CAMERA B", "LIVING ROOM")}
    videos = build_videos(rng, prefix, [first, second], lambda i: lambda r: filler_card(r, titles[i]),
                          has_audio=False)

    def question(i: int) -> Question:
        seen = FLIP[relations[i]] if facing else relations[i]
        opts = [f"{r.lower()} the {landmark.lower()}" for r in RELATIONS]
        gold_text = f"{seen.lower()} the {landmark.lower()}"
        options, gold = with_gold(rng, gold_text, [o for o in opts if o != gold_text])
        return Question(f"Videos 1 and 2 {MARK}. Seen from camera B, where is the {objects[i].lower()} "
                        f"relative to the {landmark.lower()}?", "single", gold, [(1, f"o{i}"), (2, "camera")],
                        options, chance=0.25)

    return Group(videos, [question(i) for i in rng.sample(range(k), 2)])


class MSRReader(CorpusReader):
    """Camera A's relation for the object, swapped if camera B faces camera A."""

    code, marks = CODE, (MARK,)

    def read(self, view, evidence):
        m = re.search(r"where is the (\w+) relative to the (\w+)\?", view.question)
        if not m:
            return self.guess(view)
        obj, landmark = m.group(1).upper(), m.group(2).upper()
        relation = None
        for anchor in lines_like(evidence, f"THE {obj}", 0.75):
            for ev in together(anchor, evidence, "text"):
                found = closest(ev.content, [f"{r} {landmark}" for r in RELATIONS], 0.75)
                if found:
                    relation = found[: -len(landmark) - 1]
        if relation is None:
            return self.guess(view)
        # Camera B's card: the closest of its possible lines decides (they look alike).
        seen = {closest(ev.content, (*FACING, *SAME_WAY), 0.75) for ev in of_kind(evidence, "text")}
        facing, same = FACING[0] in seen, bool(seen & set(SAME_WAY[:2]))
        if facing and not same:
            relation = FLIP[relation]
        i = best_option(view.options, f"{relation} the {landmark}".lower(), 0.8)
        return letter(i) if i is not None else self.guess(view)


#: The corpus reader of MSR questions.
READER = MSRReader()
