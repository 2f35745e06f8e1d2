"""MOC: count objects of one colour on the captioned shelves of every video (count).

Each video is one aisle of a shop with a ``"SHELF OF MUGS"`` card showing mugs as shapes of two
or three colours, and distractor shelves (``"SHELF OF BOWLS"``) with shapes of the same colours.
Questions ask for the total of one colour over all videos, for two colours. Videos are silent.
"""

from __future__ import annotations

import random
import re

from cvr_gym.data.corpus.groups import Group, Question, build_videos
from cvr_gym.data.corpus.layout import NEUTRAL, SHAPE_COLOURS, Card, background, filler_card, shapes
from cvr_gym.data.corpus.match import lines_like, object_count, quoted, together
from cvr_gym.data.corpus.reading import CorpusReader

CODE = "MOC"
MARK = "films a different aisle of one shop"
ITEMS = ("MUGS", "BOWLS", "VASES", "JARS", "CUPS", "TINS", "LAMPS")


def _card(rng: random.Random, item: str, counts: dict[str, int], tag: str | None = None) -> Card:
    counts = {c: n for c, n in counts.items() if n > 0}
    return Card(rng.choice((3.0, 3.5, 4.0)), background(rng, choices=NEUTRAL), (f"SHELF OF {item}",),
                shapes(rng, counts), tag=tag)


def build(rng: random.Random, prefix: str) -> Group:
    n = rng.randint(2, 3)
    item, *others = rng.sample(ITEMS, 3)
    first, second, third = rng.sample(SHAPE_COLOURS, 3)
    counts = [{first: rng.randint(1, 5), second: rng.randint(0, 4), third: rng.randint(0, 2)} for _ in range(n)]
    per_video = []
    for v in range(n):
        cards = [_card(rng, item, counts[v], tag="key")]
        for other in rng.sample(others, rng.randint(1, 2)):
            cards.append(_card(rng, other, {first: rng.randint(1, 4), rng.choice(SHAPE_COLOURS): rng.randint(0, 3)}))
        per_video.append(cards)
    videos = build_videos(rng, prefix, per_video,
                          lambda i: lambda r: filler_card(r, (f"AISLE {i}", "SHOP CAM", "CHECKOUT")), has_audio=False)
    evidence = [(v, "key") for v in range(1, n + 1)]
    caption = f"SHELF OF {item}"

    def question(colour: str) -> Question:
        total = sum(c[colour] for c in counts)
        return Question(f'Each video {MARK}, where {item.lower()} stand on the shelf captioned "{caption}". '
                        f"How many {colour} {item.lower()} are there in total across all the videos?",
                        "count", total, evidence, chance=0.1)

    return Group(videos, [question(first), question(second)])


class MOCReader(CorpusReader):
    """Sum, over videos, the asked colour's count on the captioned shelf (3 for unseen videos)."""

    code, marks = CODE, (MARK,)
    unseen = 3

    def read(self, view, evidence):
        caption = quoted(view.question)[0]
        m = re.search(r"How many (\w+) ", view.question)
        colour = m.group(1).lower() if m else ""
        total = 0
        for v in range(1, view.num_videos + 1):
            anchors = lines_like(evidence, caption, 0.8, v)
            if not anchors:
                total += self.unseen
                continue
            counts = [object_count(together(a, evidence, "object"), colour) for a in anchors]
            total += max((c for c in counts if c is not None), default=0)
        return total

    def guess(self, view):
        return self.unseen * max(1, view.num_videos)


#: The corpus reader of MOC questions.
READER = MOCReader()
