"""NC: who hid what, and where, across the episodes of one story (single).

Cards read ``("ANNA HIDES", "THE KEY", "UNDER THE BED")``. Four hiding cards are spread over
the episodes: the asked one, the same character hiding something else elsewhere, another
character hiding the same object elsewhere and a third character hiding something else in the
same place, so only the full triple answers. Two questions: *what* a character hides in a place,
and *who* hides an object in a place.
"""

from __future__ import annotations

import random
import re

from cvr_gym.data.corpus.groups import letter, Group, Question, build_videos, narrated, with_gold
from cvr_gym.data.corpus.layout import Card, background, decoration, filler_card
from cvr_gym.data.corpus.match import closest, of_kind, together
from cvr_gym.data.corpus.reading import CorpusReader, best_option
from cvr_gym.core.evidence import Evidence

CODE = "NC"
MARK = "episodes of one story"
NAMES = ("ANNA", "BEN", "CARLA", "DAVID", "ELENA", "FRANK", "GRACE", "HUGO", "IRIS", "JACK")
OBJECTS = ("KEY", "RING", "MAP", "LETTER", "COIN", "WATCH", "DIARY", "PHOTO")
PLACES = ("UNDER THE BED", "IN THE DRAWER", "BEHIND THE CLOCK", "IN A BOOT", "UNDER THE RUG", "IN THE PIANO",
          "IN THE GARDEN", "ON THE SHELF")

INTRO = narrated("EPISODE {i}", "Here is the next episode.")


def _card(rng: random.Random, who: str, what: str, where: str, tag: str) -> Card:
    bg = background(rng)
    lines = (f"{who} HIDES", f"THE {what}", where)
    return Card(rng.choice((3.0, 3.5, 4.0)), bg, lines, decoration(rng, bg, 2), tag=tag)


def build(rng: random.Random, prefix: str) -> Group:
    n = rng.randint(2, 3)
    c0, c1, c2, c3 = rng.sample(NAMES, 4)
    o0, o1, o2, o3 = rng.sample(OBJECTS, 4)
    p0, p1, p2 = rng.sample(PLACES, 3)
    facts = {"q1": (c0, o0, p0), "q2": (c0, o1, p1), "d1": (c1, o0, p2), "d2": (c2, o2, p0)}
    # Every episode gets at least one card; the rest go anywhere.
    tags = list(facts)
    rng.shuffle(tags)
    where = {tag: (i if i < n else rng.randrange(n)) for i, tag in enumerate(tags)}
    per_video = [[_card(rng, *facts[t], tag=t) for t in tags if where[t] == v] for v in range(n)]
    videos = build_videos(rng, prefix, per_video,
                          lambda i: lambda r: filler_card(r, (f"EPISODE {i}", "LATER THAT DAY", "MEANWHILE")),
                          intro=INTRO)

    what_opts, what_gold = with_gold(rng, o0.lower(), [o.lower() for o in (o1, o2, o3)])
    who_opts, who_gold = with_gold(rng, c0.title(), [c.title() for c in (c1, c2, c3)])
    q_what = Question(f"The videos are {MARK}. What does {c0.title()} hide {p0.lower()}?", "single", what_gold,
                      [(where["q1"] + 1, "q1")], what_opts, chance=0.25)
    q_who = Question(f"The videos are {MARK}. Who hides the {o1.lower()} {p1.lower()}?", "single", who_gold,
                     [(where["q2"] + 1, "q2")], who_opts, chance=0.25)
    return Group(videos, [q_what, q_who])


class NCReader(CorpusReader):
    """The hiding card whose character (or object) and place match the question."""

    code, marks = CODE, (MARK,)

    def read(self, view, evidence):
        what = re.search(r"What does (\w+) hide (.+?)\?", view.question)
        who = re.search(r"Who hides the (\w+) (.+?)\?", view.question)
        for card in self._cards(evidence):
            if what and card["who"] == what.group(1).upper() and card["where"] == what.group(2).upper():
                i = best_option(view.options, card["what"].lower())
            elif who and card["what"] == who.group(1).upper() and card["where"] == who.group(2).upper():
                i = best_option(view.options, card["who"].title())
            else:
                continue
            if i is not None:
                return letter(i)
        return self.guess(view)

    @staticmethod
    def _cards(evidence: list[Evidence]) -> list[dict[str, str]]:
        cards = []
        anchors = [f"{name} HIDES" for name in NAMES]
        for anchor in of_kind(evidence, "text"):
            found = closest(anchor.content, anchors, 0.75)  # whole line: "ANNAHIDES" still counts
            if found is None:
                continue
            card = {"who": found[: -len(" HIDES")]}
            for ev in together(anchor, evidence, "text"):
                obj = closest(ev.content, [f"THE {o}" for o in OBJECTS], 0.7)
                if obj:
                    card["what"] = obj[4:]
                place = closest(ev.content, PLACES, 0.75)
                if place:
                    card["where"] = place
            if all(card.get(k) for k in ("who", "what", "where")):
                cards.append(card)
        return cards


#: The corpus reader of NC questions.
READER = NCReader()
