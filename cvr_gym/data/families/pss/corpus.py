"""PSS: order prep steps shown as on-screen text across consecutive videos (order).

The videos are parts 1, 2, 3 of one cooking session. Prep-step cards (``("PREP STEP",
"GRATE THE CHEESE")``) appear in time order across them; the options list some of the steps in
a random order and the answer is their order in the session. Two questions ask about two
different selections of the same steps.
"""

from __future__ import annotations

import math
import random

from cvr_gym.data.corpus.groups import Group, Question, build_videos, letter, narrated
from cvr_gym.data.corpus.layout import Card, background, decoration, filler_card
from cvr_gym.data.corpus.match import first_seen, lines_like
from cvr_gym.data.corpus.reading import CorpusReader

CODE = "PSS"
MARK = "each shown as an on-screen caption"
STEPS = ("GRATE THE CHEESE", "WASH THE LETTUCE", "SLICE THE BREAD", "PEEL THE CARROTS", "CHOP THE ONIONS",
         "CRACK THE EGGS", "ZEST THE LEMON", "RINSE THE RICE", "MELT THE BUTTER", "TOAST THE NUTS")

INTRO = narrated("PART {i}", "This is the next part of the session.")


def _card(rng: random.Random, step: str, tag: str) -> Card:
    bg = background(rng)
    return Card(rng.choice((3.0, 3.5, 4.0)), bg, ("PREP STEP", step), decoration(rng, bg, 2), tag=tag)


def build(rng: random.Random, prefix: str) -> Group:
    n = rng.randint(2, 3)
    steps = rng.sample(STEPS, 6)  # in session order
    cut = sorted(rng.sample(range(1, len(steps)), n - 1))
    parts = [steps[a:b] for a, b in zip([0, *cut], [*cut, len(steps)])]
    tag = {s: f"s{i}" for i, s in enumerate(steps)}
    place = {s: v + 1 for v, part in enumerate(parts) for s in part}
    per_video = [[_card(rng, s, tag[s]) for s in part] for part in parts]
    videos = build_videos(rng, prefix, per_video, lambda i: lambda r: filler_card(r, (f"PART {i}", "COOKING SHOW")),
                          ordered=True,
                          intro=INTRO)

    def question(asked: list[str]) -> Question:
        options = list(asked)
        rng.shuffle(options)
        gold = [letter(options.index(s)) for s in sorted(asked, key=steps.index)]
        text = (f"The videos are consecutive parts of one cooking session, in order. Put these prep steps, {MARK}, "
                "in the order they happen.")
        return Question(text, "order", gold, [(place[s], tag[s]) for s in asked], [s.lower() for s in options],
                        chance=1.0 / math.factorial(len(asked)))

    first = rng.sample(steps, 4)
    second = rng.sample([s for s in steps if s not in first], 2) + rng.sample(first, 1)
    return Group(videos, [question(first), question(second)])


class PSSReader(CorpusReader):
    """Order the options by where their caption is first seen (video, then time)."""

    code, marks = CODE, (MARK,)

    def read(self, view, evidence):
        big = (10 ** 6, 0.0)
        when = [first_seen(lines_like(evidence, opt, 0.8)) or big for opt in view.options]
        order = sorted(range(len(view.options)), key=lambda i: (when[i], i))
        return [letter(i) for i in order]

    def guess(self, view):
        return [letter(i) for i in range(len(view.options))]


#: The corpus reader of PSS questions.
READER = PSSReader()
