"""PEA: what goes wrong in the one video where a step fails (single), and in which video.

Every video shows the same step card (``"BOIL THE PASTA"``) with a result line: ``"DONE RIGHT"``
and a high beep, except in one video where the line names a mistake (``"POT BOILS OVER"``) and
a low buzzer sounds. Other steps, some going wrong in their own ways, are distractors.
"""

from __future__ import annotations

import random

from cvr_gym.data.corpus.groups import Group, Question, build_videos, letter, narrated, video_options, with_gold
from cvr_gym.data.corpus.layout import Card, background, decoration, filler_card
from cvr_gym.data.corpus.plan import Sound
from cvr_gym.data.corpus.match import lines_like, quoted, ratio, together
from cvr_gym.data.corpus.reading import CorpusReader, best_option

CODE = "PEA"
MARK = "it goes wrong in one video only"
RIGHT = "DONE RIGHT"
STEPS = {
    "BOIL THE PASTA": ("POT BOILS OVER", "PASTA STICKS", "NO SALT ADDED", "PASTA OVERCOOKED"),
    "WHISK THE EGGS": ("SHELL IN THE BOWL", "EGGS SPILL", "BOWL SLIPS", "WHISK BREAKS"),
    "FRY THE ONIONS": ("ONIONS BURN", "PAN TOO COLD", "OIL SPITS", "ONIONS STICK"),
    "KNEAD THE DOUGH": ("DOUGH TEARS", "TOO MUCH FLOUR", "DOUGH TOO WET", "DOUGH DRIES OUT"),
    "SLICE THE BREAD": ("BREAD CRUMBLES", "KNIFE SLIPS", "SLICES TOO THICK", "CRUST CRACKS"),
    "ROAST THE NUTS": ("NUTS BURN", "TRAY TIPS OVER", "OVEN TOO COOL", "NUTS GO SOFT"),
}
HIGH, LOW = 1500.0, 300.0
TITLES = ("COOKING SHOW", "KITCHEN CAM", "DINNER PREP")

INTRO = narrated("KITCHEN CAM", "Let us see how this goes.")


def _card(rng: random.Random, step: str, result: str, tag: str | None = None) -> Card:
    bg = background(rng)
    hz = HIGH if result == RIGHT else LOW
    beep = Sound(1.0, 1.6, "tone", hz=hz)
    return Card(rng.choice((3.0, 3.5, 4.0)), bg, (step, result), decoration(rng, bg, 2), (beep,), tag=tag)


def build(rng: random.Random, prefix: str) -> Group:
    n = 3
    step = rng.choice(sorted(STEPS))
    mistake = rng.choice(STEPS[step])
    wrong = rng.randrange(n)
    per_video = []
    for v in range(n):
        cards = [_card(rng, step, mistake if v == wrong else RIGHT, tag="key")]
        for other in rng.sample([s for s in STEPS if s != step], rng.randint(1, 2)):
            cards.append(_card(rng, other, rng.choice((RIGHT, *STEPS[other]))))
        per_video.append(cards)
    videos = build_videos(rng, prefix, per_video, lambda i: lambda r: filler_card(r, TITLES + (f"COOK {i}",)),
                          intro=INTRO)
    evidence = [(v, "key") for v in range(1, n + 1)]
    lead = f'Every video shows the step captioned "{step}"; {MARK}.'
    opts, gold = with_gold(rng, mistake.lower(), [m.lower() for m in STEPS[step] if m != mistake])
    what = Question(f"{lead} What goes wrong?", "single", gold, evidence, opts, chance=0.25)
    which = Question(f"{lead} In which video does it go wrong?", "single", letter(wrong), evidence,
                     video_options(n), chance=1.0 / n)
    return Group(videos, [what, which])


class PEAReader(CorpusReader):
    """Read the result line on the asked step's cards: the mistake, or the video showing it."""

    code, marks = CODE, (MARK,)

    def read(self, view, evidence):
        step = quoted(view.question)[0]
        which = "In which video" in view.question
        for anchor in lines_like(evidence, step, 0.8):
            lines = [ev for ev in together(anchor, evidence, "text") if ratio(ev.content, step) < 0.8]
            results = [ev.content for ev in lines if ratio(ev.content, RIGHT) < 0.75]
            if not results:
                continue
            if which:
                return letter(anchor.video - 1) if anchor.video <= len(view.options) else self.guess(view)
            i = best_option(view.options, results[0], 0.5)
            if i is not None:
                return letter(i)
        if which:  # no mistake line read: a low buzzer on the step's card gives the video away
            for anchor in lines_like(evidence, step, 0.8):
                sounds = together(anchor, evidence, "sound", slack=0.5)
                if any(ev.content == "low beep" for ev in sounds) and anchor.video <= len(view.options):
                    return letter(anchor.video - 1)
        return self.guess(view)


#: The corpus reader of PEA questions.
READER = PEAReader()
