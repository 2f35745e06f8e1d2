"""BU: in which videos does a bystander react to the same incident in a given way (multi).

Every video shows one incident card (``"GLASS BREAKS"``) with a second line naming the
bystander's reaction (``"BYSTANDER LAUGHS"``). Other incidents with their own reactions (often
the asked one) are distractors, so the reaction must be read on the incident's own card. Two
questions per group: the videos with one reaction, and the videos with another.
"""

from __future__ import annotations

import random
import re

from cvr_gym.data.corpus.groups import Group, Question, build_videos, letter, narrated, video_options
from cvr_gym.data.corpus.layout import Card, background, decoration, filler_card
from cvr_gym.data.corpus.match import closest, lines_like, quoted, together
from cvr_gym.data.corpus.reading import CorpusReader

CODE = "BU"
MARK = "a caption naming how a bystander reacts"
INCIDENTS = ("TRAY DROPPED", "GLASS BREAKS", "BIKE FALLS OVER", "MAN SLIPS", "DOG RUNS OFF", "BAG SPILLS")
#: Caption -> how the question says it.
REACTIONS = {"BYSTANDER LAUGHS": "laugh", "BYSTANDER HELPS": "help", "BYSTANDER CLAPS": "clap",
             "BYSTANDER SHOUTS": "shout", "BYSTANDER FILMS IT": "film it", "BYSTANDER LEAVES": "walk away"}
TITLES = ("CITY STREET", "CAFE CAM", "MARKET SQUARE", "STATION HALL", "PARK CAM")

INTRO = narrated("CITY STREET", "Look at what happens next.")


def _card(rng: random.Random, incident: str, reaction: str, tag: str | None = None) -> Card:
    bg = background(rng)
    return Card(rng.choice((3.0, 3.5, 4.0)), bg, (incident, reaction), decoration(rng, bg, 2), tag=tag)


def build(rng: random.Random, prefix: str) -> Group:
    n = 3
    incident = rng.choice(INCIDENTS)
    asked, other = rng.sample(sorted(REACTIONS), 2)
    # A non-empty proper subset shows the asked reaction; the rest the other one.
    chosen = sorted(rng.sample(range(n), rng.randint(1, n - 1)))
    per_video = []
    for v in range(n):
        cards = [_card(rng, incident, asked if v in chosen else other, tag="key")]
        for extra in rng.sample([i for i in INCIDENTS if i != incident], rng.randint(1, 2)):
            cards.append(_card(rng, extra, rng.choice(sorted(REACTIONS))))
        per_video.append(cards)
    videos = build_videos(rng, prefix, per_video, lambda i: lambda r: filler_card(r, TITLES),
                          intro=INTRO)
    evidence = [(v, "key") for v in range(1, n + 1)]
    chance = 1.0 / (2 ** n - 1)

    def question(reaction: str, subset: list[int]) -> Question:
        text = (f'Every video shows the incident captioned "{incident}" and {MARK} to it. '
                f"In which videos does the bystander {REACTIONS[reaction]}?")
        return Question(text, "multi", [letter(v) for v in subset], evidence, video_options(n), chance=chance)

    others = [v for v in range(n) if v not in chosen]
    return Group(videos, [question(asked, chosen), question(other, others)])


class BUReader(CorpusReader):
    """Videos whose incident card shows the asked reaction."""

    code, marks = CODE, (MARK,)

    def read(self, view, evidence):
        incident = quoted(view.question)[0]
        m = re.search(r"does the bystander (.+?)\?", view.question)
        asked = [cap for cap, verb in REACTIONS.items() if m and verb == m.group(1).strip()]
        found = []
        for v in range(1, view.num_videos + 1):
            for anchor in lines_like(evidence, incident, 0.75, video=v):
                lines = together(anchor, evidence, "text")
                if any(closest(ev.content, REACTIONS, 0.7) in asked for ev in lines):
                    found.append(letter(v - 1))
                    break
        return found or self.guess(view)

    def guess(self, view):
        return ["A"]


#: The corpus reader of BU questions.
READER = BUReader()
