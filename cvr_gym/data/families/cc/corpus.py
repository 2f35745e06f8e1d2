"""CC: which video's cook adds the most (or fewest) eggs, counted as shapes (single).

Each video has an ``"ADD EGGS"`` card with a number of yellow shapes (the eggs; a different
number in every video) and distractor cards: ``"ADD LEMONS"`` with yellow shapes too,
``"ADD TOMATOES"`` with red ones. Counting the yellow shapes under the right caption in every
video answers both questions (most, fewest).
"""

from __future__ import annotations

import random

from cvr_gym.data.corpus.groups import Group, Question, build_videos, letter, narrated, video_options
from cvr_gym.data.corpus.layout import NEUTRAL, Card, background, filler_card, shapes
from cvr_gym.data.corpus.match import lines_like, object_count, quoted, together
from cvr_gym.data.corpus.reading import CorpusReader

CODE = "CC"
MARK = "shown as yellow shapes under the caption"
KEY = "ADD EGGS"
#: Distractor captions and the colour of their shapes.
DISTRACTORS = {"ADD LEMONS": "yellow", "ADD TOMATOES": "red", "ADD LIMES": "green", "ADD PLUMS": "purple"}
TITLES = ("COOKING SHOW", "BAKING DAY", "KITCHEN CAM")

INTRO = narrated("COOK {i}", "Welcome back to the kitchen.")


def _card(rng: random.Random, caption: str, colour: str, count: int, tag: str | None = None) -> Card:
    counts = {colour: count}
    if rng.random() < 0.5:  # a bowl of something else beside them
        counts[rng.choice([c for c in ("blue", "pink", "orange") if c != colour])] = rng.randint(1, 2)
    return Card(rng.choice((3.0, 3.5, 4.0)), background(rng, choices=NEUTRAL), (caption,), shapes(rng, counts), tag=tag)


def build(rng: random.Random, prefix: str) -> Group:
    n = 3
    eggs = rng.sample(range(1, 7), n)
    per_video = []
    for v in range(n):
        cards = [_card(rng, KEY, "yellow", eggs[v], tag="key")]
        for caption in rng.sample(sorted(DISTRACTORS), rng.randint(1, 2)):
            cards.append(_card(rng, caption, DISTRACTORS[caption], rng.randint(1, 6)))
        per_video.append(cards)
    videos = build_videos(rng, prefix, per_video,
                          lambda i: lambda r: filler_card(r, TITLES + (f"COOK {i}",)),
                          intro=INTRO)
    evidence = [(v, "key") for v in range(1, n + 1)]
    opts = video_options(n)

    def question(word: str, gold: int) -> Question:
        return Question(f'Each cook adds eggs, {MARK} "{KEY}". In which video does the cook add the {word} eggs?',
                        "single", letter(gold), evidence, opts, chance=1.0 / n)

    return Group(videos, [question("most", eggs.index(max(eggs))), question("fewest", eggs.index(min(eggs)))])


class CCReader(CorpusReader):
    """Count the yellow shapes on each video's ``ADD EGGS`` card; the most or fewest."""

    code, marks = CODE, (MARK,)

    def read(self, view, evidence):
        caption = quoted(view.question)[0]
        counts = {}
        for v in range(1, view.num_videos + 1):
            anchors = lines_like(evidence, caption, 0.8, v)
            seen = [object_count(together(a, evidence, "object"), "yellow") for a in anchors]
            seen = [c for c in seen if c is not None]
            if seen:
                counts[v] = max(seen)
        if not counts:
            return self.guess(view)
        pick = min if "fewest" in view.question else max
        best = pick(counts.values())
        return letter(min(v for v, c in counts.items() if c == best) - 1)


#: The corpus reader of CC questions.
READER = CCReader()
