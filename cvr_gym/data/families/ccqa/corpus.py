"""CCQA: what each cook uses for the same step, as free text.

Same cards as FSA (``("THICKEN THE SAUCE", "WITH FLOUR")``): every video does two steps, each
with its own means, beside a distractor step. The reference answer names the means per video;
the scoring points are the means (one per video).
"""

from __future__ import annotations

import random

from cvr_gym.data.corpus.groups import Group, Question, build_videos, narrated
from cvr_gym.data.families.fsa.corpus import PURPOSES
from cvr_gym.data.corpus.layout import Card, background, decoration, filler_card
from cvr_gym.data.corpus.match import closest, lines_like, quoted, together
from cvr_gym.data.corpus.reading import CorpusReader

CODE = "CCQA"
MARK = "name what each video's cook uses"
TITLES = ("COOKING SHOW", "KITCHEN CAM", "HOME COOKING")

INTRO = narrated("HOME COOKING", "Here is another way to do it.")


def _card(rng: random.Random, purpose: str, means: str, tag: str | None = None) -> Card:
    bg = background(rng)
    return Card(rng.choice((3.0, 3.5, 4.0)), bg, (purpose, means), decoration(rng, bg, 2), tag=tag)


def point(means: str) -> str:
    """The words of a means line that a good answer must contain ("WITH FLOUR" -> "flour")."""
    words = means.lower().split()
    return " ".join(w for w in words if w not in ("with", "in", "the", "a", "on", "under"))


def build(rng: random.Random, prefix: str) -> Group:
    n = rng.randint(2, 3)
    asked = [p for p in rng.sample(sorted(PURPOSES), 3) if len(PURPOSES[p]) >= n][:2]
    extra = rng.choice([p for p in PURPOSES if p not in asked])
    means = {p: rng.sample(PURPOSES[p], n) for p in asked}
    per_video = []
    for v in range(n):
        cards = [_card(rng, p, means[p][v], tag=f"p{i}") for i, p in enumerate(asked)]
        cards.append(_card(rng, extra, rng.choice(PURPOSES[extra])))
        per_video.append(cards)
    videos = build_videos(rng, prefix, per_video, lambda i: lambda r: filler_card(r, TITLES + (f"COOK {i}",)),
                          intro=INTRO)

    def question(i: int, purpose: str) -> Question:
        points = [point(m) for m in means[purpose]]
        reference = "; ".join(f"video {v}: {p}" for v, p in enumerate(points, start=1))
        return Question(f'Every video has a step captioned "{purpose}". For that step, {MARK}.',
                        "free_text", reference, [(v, f"p{i}") for v in range(1, n + 1)], scoring_points=points,
                        chance=0.0)

    return Group(videos, [question(i, p) for i, p in enumerate(asked)])


class CCQAReader(CorpusReader):
    """Name the means on each video's card of the asked step."""

    code, marks = CODE, (MARK,)

    def read(self, view, evidence):
        purpose = quoted(view.question)[0]
        means = PURPOSES.get(closest(purpose, PURPOSES, 0.8) or "", ())
        vocabulary = sorted({m for ms in PURPOSES.values() for m in ms})
        parts = []
        for v in range(1, view.num_videos + 1):
            named = None
            for anchor in lines_like(evidence, purpose, 0.8, v):
                for ev in together(anchor, evidence, "text"):
                    named = closest(ev.content, means, 0.7) or closest(ev.content, vocabulary, 0.8) or named
            if named:
                parts.append(f"video {v}: {point(named)}")
        return "; ".join(parts) if parts else self.guess(view)

    def guess(self, view):
        return "I could not find the step."


#: The corpus reader of CCQA questions.
READER = CCQAReader()
