"""PI: combine a ticket seen in one video with a map seen in another: how and where a person
travels (single).

Cards: ``("MIA BUYS", "A TICKET", "FOR THE TRAIN")`` and ``("MIA CIRCLES", "ROME", "ON A MAP")``,
the two in different videos. A second traveller has clues of their own (the other two values of
the options), and a postcard card (``"FROM OSLO"``) names a city that is not a destination. The
four options cross the two modes and two cities, so one clue alone leaves a coin toss.
"""

from __future__ import annotations

import random
import re

from cvr_gym.data.corpus.groups import Group, Question, build_videos, letter, narrated
from cvr_gym.data.corpus.layout import Card, background, decoration, filler_card
from cvr_gym.data.corpus.match import closest, of_kind, phrase_score, together
from cvr_gym.data.corpus.reading import CorpusReader

CODE = "PI"
MARK = "Combine the clues across the videos"
NAMES = ("MIA", "TOM", "LUCY", "OMAR", "NINA", "PAUL", "SARA", "IVAN")
MODES = ("TRAIN", "BUS", "FERRY", "PLANE", "BIKE")
CITIES = ("ROME", "OSLO", "LIMA", "CAIRO", "PARIS", "TOKYO", "DUBLIN", "MADRID", "VIENNA", "BERLIN")
TITLES = ("THE TRIP", "MEANWHILE", "NEXT MORNING", "AT HOME")

INTRO = narrated("THE TRIP", "Everyone is getting ready to travel.")


def _card(rng: random.Random, lines: tuple[str, ...], tag: str | None = None) -> Card:
    bg = background(rng)
    return Card(rng.choice((3.0, 3.5, 4.0)), bg, lines, decoration(rng, bg, 2), tag=tag)


def build(rng: random.Random, prefix: str) -> Group:
    n = 2
    people = rng.sample(NAMES, 2)
    modes = rng.sample(MODES, 2)
    cities = rng.sample(CITIES, 3)
    per_video: list[list[Card]] = [[] for _ in range(n)]
    where: dict[str, int] = {}
    for p, (name, mode, city) in enumerate(zip(people, modes, cities)):
        first = rng.randrange(n)
        where[f"ticket{p}"], where[f"map{p}"] = first, 1 - first
        per_video[first].append(_card(rng, (f"{name} BUYS", "A TICKET", f"FOR THE {mode}"), f"ticket{p}"))
        per_video[1 - first].append(_card(rng, (f"{name} CIRCLES", city, "ON A MAP"), f"map{p}"))
    per_video[rng.randrange(n)].append(_card(rng, (f"{people[0]} GETS", "A POSTCARD", f"FROM {cities[2]}")))
    videos = build_videos(rng, prefix, per_video, lambda i: lambda r: filler_card(r, TITLES),
                          intro=INTRO)
    options = [f"by {m.lower()} to {c.title()}" for m in modes for c in cities[:2]]
    rng.shuffle(options)

    def question(p: int) -> Question:
        gold = options.index(f"by {modes[p].lower()} to {cities[p].title()}")
        return Question(f"{MARK}: how and where does {people[p].title()} travel?", "single", letter(gold),
                        [(where[f"ticket{p}"] + 1, f"ticket{p}"), (where[f"map{p}"] + 1, f"map{p}")],
                        options, chance=0.25)

    return Group(videos, [question(0), question(1)])


class PIReader(CorpusReader):
    """The person's ticket (mode) and map (city) cards, wherever they are; the option with both."""

    code, marks = CODE, (MARK,)

    def read(self, view, evidence):
        m = re.search(r"does (\w+) travel", view.question)
        if not m:
            return self.guess(view)
        name = m.group(1).upper()
        mode = city = None
        ticket, circles = f"{name} BUYS", f"{name} CIRCLES"
        # Every first line of a card, so that another person's card is never taken for this one's.
        firsts = [f"{n} {verb}" for n in NAMES for verb in ("BUYS", "CIRCLES", "GETS")]
        for anchor in of_kind(evidence, "text"):
            first = closest(anchor.content, firsts, 0.75)
            lines = together(anchor, evidence, "text")
            if first == ticket:
                for ev in lines:
                    found = closest(ev.content, [f"FOR THE {x}" for x in MODES], 0.75)
                    mode = found[len("FOR THE "):] if found else mode
            elif first == circles:
                for ev in lines:
                    city = closest(ev.content, CITIES, 0.75) or city
        scores = [sum(x is not None and phrase_score(opt, x) >= 0.8 for x in (mode, city)) for opt in view.options]
        if not scores or max(scores) == 0:
            return self.guess(view)
        return letter(scores.index(max(scores)))


#: The corpus reader of PI questions.
READER = PIReader()
